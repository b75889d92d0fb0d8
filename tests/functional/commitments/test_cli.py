"""The command line: a department's commitments file (GBK CSV with the Chinese headers) through
`xinyong records import --type commitment`, the re-import that marks one broken, and the commitments commands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.factories.commitments import commitment_row
from tests.factories.records import DEPT_CODE, write_rows
from tests.fixtures.keys import TEST_KEY
from typer.testing import CliRunner

from xinyong import clock
from xinyong.cli import app
from xinyong.commandline import session_factory, settings


@pytest.fixture
def cli(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    settings.cache_clear()
    session_factory.cache_clear()
    runner = CliRunner()
    result = runner.invoke(app, ["departments", "add", "--code", DEPT_CODE, "--name", "安吉县市场监督管理局"])
    assert result.exit_code == 0, result.output
    yield runner
    session_factory().kw["bind"].dispose()
    settings.cache_clear()
    session_factory.cache_clear()


def _import(cli: CliRunner, path: Path):  # type: ignore[no-untyped-def]
    return cli.invoke(app, ["records", "import", str(path), "--type", "commitment", "--department", DEPT_CODE])


def test_a_gbk_file_imports_and_a_reimport_updates_the_fulfilment(cli, tmp_path):  # type: ignore[no-untyped-def]
    made = clock.today()
    rows = [commitment_row(made), commitment_row(made, 公开类型="不予公开"), commitment_row(made, 承诺编码="123")]
    first = _import(cli, write_rows(tmp_path / "承诺.csv", rows, encoding="gbk"))
    assert "新增 2" in first.output, first.output
    assert "拒收 1" in first.output
    assert "commitment-code-length" in first.output
    broken = {**rows[0], "承诺履行状态": "全部未履行", "未履行的承诺内容": "未按期提交证明", "履行状态认定日期": made.isoformat(),
              "履行状态认定单位": "安吉县市场监督管理局"}  # fmt: skip
    second = _import(cli, write_rows(tmp_path / "承诺-2.csv", [broken, rows[1]], encoding="gbk"))
    assert second.exit_code == 0, second.output
    assert "更新 1" in second.output, second.output
    board = cli.invoke(app, ["commitments", "dashboard"])
    assert board.exit_code == 0, board.output
    assert "违诺" in board.output
    tasks = cli.invoke(app, ["commitments", "tasks"])
    assert tasks.exit_code == 0, tasks.output
    assert "待核查 1 个" in tasks.output, tasks.output  # the broken one needs no verification
    listing = cli.invoke(app, ["commitments", "templates"])
    assert "food-business-notice" in listing.output
