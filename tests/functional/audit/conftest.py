from collections.abc import Iterator

import pytest
from tests.fixtures.console import (  # noqa: F401
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    sign_in,
)
from tests.fixtures.keys import TEST_KEY
from typer.testing import CliRunner

from xinyong.commandline import session_factory, settings


@pytest.fixture
def cli(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The command line on a fresh database of its own (checkpoints in the test's own file)."""
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    settings.cache_clear()
    session_factory.cache_clear()
    yield CliRunner()
    session_factory().kw["bind"].dispose()
    settings.cache_clear()
    session_factory.cache_clear()
