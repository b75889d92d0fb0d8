from tests.fixtures.console import (  # noqa: F401  (console fixtures: two departments, one account per role)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    sign_in,
)
