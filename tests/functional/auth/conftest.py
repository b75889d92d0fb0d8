from tests.fixtures.console import (  # noqa: F401
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    sign_in,
)
