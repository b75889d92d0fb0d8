"""Fixtures of the ways-in tests: the console's accounts and client (as the monitoring tests use them)."""

from __future__ import annotations

from tests.functional.admin.conftest import (  # noqa: F401  (console fixtures, for the page tests)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    sign_in,
)
