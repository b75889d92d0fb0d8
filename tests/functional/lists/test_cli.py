"""The commands an operator runs: load types, the daily expiry job, measures."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.commandline import session_factory, settings


def test_load_types_measures_and_expire(fresh_database_url, monkeypatch):  # type: ignore[no-untyped-def]
    from tests.conftest import TEST_KEY

    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    settings.cache_clear()
    session_factory.cache_clear()
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["lists", "load-types"])
        assert result.exit_code == 0, result.output
        assert "serious-dishonesty" in result.output
        result = runner.invoke(app, ["measures", "load"])
        assert result.exit_code == 0, result.output
        assert "M0001@1" in result.output
        result = runner.invoke(app, ["lists", "expire", "--today", "2030-01-01", "--json"])
        assert result.exit_code == 0
        assert json.loads(result.output) == {"today": "2030-01-01", "expired": 0}
    finally:
        settings.cache_clear()
        session_factory.cache_clear()
