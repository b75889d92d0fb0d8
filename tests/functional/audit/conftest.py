from tests.functional.admin.conftest import (  # noqa: F401
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    sign_in,
)
