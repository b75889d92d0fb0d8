"""`xinyong finance …`: register an institution, issue its key, publish the whitelist, list overdue demands."""

from __future__ import annotations

import pytest
from tests.factories.records import company_code
from tests.fixtures.keys import TEST_KEY
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.commandline import session_factory, settings


@pytest.fixture
def cli(fresh_database_url, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("XINYONG_UPLOAD_DIR", str(tmp_path / "uploads"))
    settings.cache_clear()
    session_factory.cache_clear()
    yield CliRunner()
    settings.cache_clear()
    session_factory.cache_clear()


def test_institution_key_whitelist_and_overdue(cli):  # type: ignore[no-untyped-def]
    code = company_code(90005)
    added = cli.invoke(app, ["finance", "add-institution", "--code", code, "--name", "德清农商银行",
                             "--purpose", "流动资金"])  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "已登记金融机构：德清农商银行" in added.output
    again = cli.invoke(app, ["finance", "add-institution", "--code", code, "--name", "重复"])
    assert again.exit_code != 0
    assert "已存在" in again.output
    bad = cli.invoke(app, ["finance", "add-institution", "--code", code[:-1] + "X", "--name", "坏代码"])
    assert bad.exit_code != 0
    key = cli.invoke(app, ["finance", "issue-key", "--code", code])
    assert key.exit_code == 0, key.output
    assert key.output.startswith("fi_")
    assert cli.invoke(app, ["finance", "issue-key", "--code", company_code(90006)]).exit_code != 0
    published = cli.invoke(app, ["finance", "publish-whitelist"])
    assert published.exit_code == 0, published.output
    assert "第 1 版" in published.output
    assert cli.invoke(app, ["finance", "overdue"]).exit_code == 0
