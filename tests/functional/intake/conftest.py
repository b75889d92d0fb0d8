"""Fixtures of the ways-in tests: the console's accounts and client (as the monitoring tests use them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.factories import records as rf
from tests.fixtures.console import (  # noqa: F401  (console fixtures, for the page tests)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    sign_in,
)
from tests.fixtures.keys import TEST_KEY

from xinyong.commandline import session_factory
from xinyong.commandline import settings as cli_settings
from xinyong.db import session_scope


@pytest.fixture
def shell(fresh_database_url, monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("COLUMNS", "300")
    cli_settings.cache_clear()
    session_factory.cache_clear()
    with session_scope(session_factory()) as session:
        rf.department(session)
    yield
    cli_settings.cache_clear()
    session_factory.cache_clear()
