"""Fixtures of the 信易贷 tests."""

from tests.fixtures.incentives import (  # noqa: F401  (the incentive tests' builders)
    banks,
    company,
    person,
    person_sign_in,
    scenario,
)
from tests.fixtures.subject_accounts import (  # noqa: F401  (console fixtures and subject accounts)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    portal_sign_in,
    sign_in,
    subject_account,
    today,
)
