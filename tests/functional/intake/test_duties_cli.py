"""`xinyong exchange duties | duty-set | duty-remove`: the department catalogue from a shell."""

from __future__ import annotations

from tests.factories import records as rf
from typer.testing import CliRunner

from xinyong.cli import app

runner = CliRunner()


def test_the_catalogue_is_kept_from_the_command_line(shell):  # type: ignore[no-untyped-def]
    empty = runner.invoke(app, ["exchange", "duties"])
    assert empty.exit_code == 0, empty.output
    assert "目录清单为空" in empty.output
    added = runner.invoke(app, ["exchange", "duty-set", "--department", rf.DEPT_CODE, "--type", "penalty"])
    assert added.exit_code == 0, added.output
    assert "7 个工作日内" in added.output
    changed = runner.invoke(app, ["exchange", "duty-set", "--department", rf.DEPT_CODE, "--type", "penalty",
                                  "--frequency", "monthly"])  # fmt: skip
    assert changed.exit_code == 0, changed.output
    assert "每月" in changed.output
    listed = runner.invoke(app, ["exchange", "duties", "--department", rf.DEPT_CODE])
    assert "penalty" in listed.output
    assert "每月" in listed.output
    removed = runner.invoke(app, ["exchange", "duty-remove", "--department", rf.DEPT_CODE, "--type", "penalty"])
    assert removed.exit_code == 0, removed.output
    assert "目录清单为空" in runner.invoke(app, ["exchange", "duties"]).output


def test_bad_input_gets_one_clear_line(shell):  # type: ignore[no-untyped-def]
    for args, message in (
        (["duty-set", "--department", rf.DEPT_CODE, "--type", "no-such-type"], "no-such-type"),
        (["duty-set", "--department", rf.DEPT_CODE, "--type", "penalty", "--frequency", "hourly"], "hourly"),
        (["duty-set", "--department", rf.OTHER_DEPT_CODE, "--type", "penalty"], "部门"),
        (["duty-remove", "--department", rf.DEPT_CODE, "--type", "penalty"], "未找到"),
        (["duty-remove", "--department", rf.DEPT_CODE, "--type", "=cmd|'/c calc'!A1"], "未找到"),
    ):
        result = runner.invoke(app, ["exchange", *args])
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
