"""The commands an operator runs: load types and name their deciding departments, the daily expiry job, measures."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.commandline import session_factory, settings


def test_load_types_deciders_measures_and_expire(fresh_database_url, monkeypatch):  # type: ignore[no-untyped-def]
    from tests.factories.records import DEPT_CODE, OTHER_DEPT_CODE
    from tests.fixtures.keys import TEST_KEY

    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("COLUMNS", "400")  # the types table in full
    settings.cache_clear()
    session_factory.cache_clear()
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["lists", "load-types"])
        assert result.exit_code == 0, result.output
        assert "serious-dishonesty" in result.output
        result = runner.invoke(app, ["lists", "types"])
        assert "未设置（不接受列入）" in result.output
        result = runner.invoke(app, ["departments", "add", "--code", DEPT_CODE, "--name", "安吉县市场监督管理局"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(app, ["lists", "set-deciders", "serious-dishonesty", DEPT_CODE])
        assert result.exit_code == 0, result.output
        assert "serious-dishonesty（严重失信主体名单）的认定部门：安吉县市场监督管理局" in result.output
        assert "安吉县市场监督管理局" in runner.invoke(app, ["lists", "types"]).output
        unknown = runner.invoke(app, ["lists", "set-deciders", "watch", OTHER_DEPT_CODE])
        assert unknown.exit_code == 1
        assert "未找到部门" in unknown.output
        cleared = runner.invoke(app, ["lists", "set-deciders", "serious-dishonesty"])
        assert cleared.exit_code == 0, cleared.output
        assert "无（不再接受新的列入或导入）" in cleared.output
        result = runner.invoke(app, ["measures", "load"])
        assert result.exit_code == 0, result.output
        assert "M0001@1" in result.output
        result = runner.invoke(app, ["lists", "expire", "--today", "2030-01-01", "--json"])
        assert result.exit_code == 0
        assert json.loads(result.output) == {"today": "2030-01-01", "expired": 0}
    finally:
        settings.cache_clear()
        session_factory.cache_clear()
