from tests.fixtures.console import (  # noqa: F401  (console fixtures the regional ones build on)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    sign_in,
)
from tests.fixtures.regions import region_tree, regional  # noqa: F401
