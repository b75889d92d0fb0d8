"""`xinyong regions add | set | list` and `xinyong departments move`: the tree from a shell, bad input in one line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.factories import records as rf
from tests.fixtures.keys import TEST_KEY
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.commandline import session_factory
from xinyong.commandline import settings as cli_settings
from xinyong.db import session_scope

runner = CliRunner()


@pytest.fixture
def shell(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("COLUMNS", "300")
    cli_settings.cache_clear()
    session_factory.cache_clear()
    with session_scope(session_factory()) as session:
        rf.department(session)  # 德清县's code, registered before any region
    yield
    cli_settings.cache_clear()
    session_factory.cache_clear()


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_the_tree_and_a_move_from_the_command_line(shell) -> None:  # type: ignore[no-untyped-def]
    assert "本平台自身的区划" in _ok("regions", "add", "330500")
    assert "上级 330500" in _ok("regions", "add", "330521")
    _ok("regions", "add", "330522", "--host", "CX.credit.example.cn")
    listed = _ok("regions", "list")
    assert "湖州市" in listed
    assert "长兴县" in listed
    assert "cx.credit.example.cn" in listed
    moved = _ok("departments", "move", "--department", rf.DEPT_CODE, "--region", "330522")
    assert "330500" in moved  # the root had taken the department registered before it
    assert "330522" in moved
    assert "cx.credit.example.cn" not in _ok("regions", "set", "330522", "--clear-host") + _ok("regions", "list")


def test_bad_input_gets_one_clear_line(shell) -> None:  # type: ignore[no-untyped-def]
    _ok("regions", "add", "330500")
    for args, message in (
        (["regions", "add", "999999"], "GB/T 2260"),
        (["regions", "add", "371122"], "不在本平台的行政区划"),
        (["regions", "add", "330521", "--host", "x.cn/<script>"], "域名"),
        (["regions", "set", "330500", "--parent", "330521"], "成环"),
        (["regions", "set", "330599", "--name", "某县"], "未找到"),
        (["departments", "move", "--department", rf.DEPT_CODE, "--region", "330523"], "未找到"),
        (["users", "add", "--username", "cx-admin", "--role", "platform_admin", "--region", "330523"], "尚未登记"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
