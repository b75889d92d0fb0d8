from tests.fixtures.subject_accounts import (  # noqa: F401  (fixtures shared with the repair tests)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    penalty,
    portal_sign_in,
    sign_in,
    subject_account,
    today,
)
