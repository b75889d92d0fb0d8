"""`xinyong inspections …` as an operator runs it: roster, plan, draw --json twice, another seed refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.factories.inspections import build
from tests.fixtures.keys import TEST_KEY, keyed_sessionmaker
from typer.testing import CliRunner

from xinyong.audit.models import AuditEntry
from xinyong.cli import app
from xinyong.commandline import session_factory, settings
from xinyong.db import make_engine
from xinyong.protect import protector as make_protector


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


def flat(output: str) -> str:
    return "".join(output.split())


def test_plan_draw_publish_and_result_from_the_command_line(cli):  # type: ignore[no-untyped-def]
    engine = make_engine(settings().database_url)
    with keyed_sessionmaker(engine)() as session:
        graded = build(session, settings(), make_protector(settings()), a=30, b=20, c=2, d=2)
        dept_code, other_code = graded.dept.code, graded.other.code
        d_code = graded.by_grade["D"][0]
    engine.dispose()

    result = cli.invoke(app, ["inspections", "inspector-add", "--department", dept_code, "--name", "孙立",
                              "--badge", "ZF33050009"])  # fmt: skip
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["inspections", "exclude", "ZF33050009", d_code, "--reason", "曾在该企业任职"])
    assert result.exit_code == 0, result.output
    result = cli.invoke(app, ["inspections", "plan-add", "--department", dept_code, "--matter", "双随机抽查测试",
                              "--from", "2025-10-01", "--to", "2025-12-31", "--ratio", "A=10", "--ratio", "B=150"])  # fmt: skip
    assert result.exit_code == 1
    assert "0–100" in flat(result.output)
    result = cli.invoke(app, ["inspections", "plan-add", "--department", dept_code, "--matter", "双随机抽查测试",
                              "--from", "2025-10-01", "--to", "2025-12-31", "--ratio", "A=10", "--special", "drugs",
                              "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    number = json.loads(result.output)["plan"]

    first = cli.invoke(app, ["inspections", "draw", number, "--seed", "42", "--json"])
    assert first.exit_code == 0, first.output
    again = cli.invoke(app, ["inspections", "draw", number, "--seed", "42", "--json"])
    assert json.loads(again.output) == json.loads(first.output)
    drawn = json.loads(first.output)
    assert drawn["strata"]["A"] == {"population": 30, "asked": "10", "drawn": 3}
    assert {d["uscc"] for d in drawn["drawn"] if d["grade"] == "D"} == set(graded.by_grade["D"])
    conflicted = next(d for d in drawn["drawn"] if d["uscc"] == d_code)
    assert "ZF33050009" not in conflicted["inspectors"]
    assert all(len(d["inspectors"]) == 2 for d in drawn["drawn"])
    result = cli.invoke(app, ["inspections", "verify", number])
    assert result.exit_code == 0
    assert "复核一致" in flat(result.output)

    assert cli.invoke(app, ["inspections", "publish", number]).exit_code == 0
    refused = cli.invoke(app, ["inspections", "draw", number, "--seed", "43"])
    assert refused.exit_code == 1
    assert "不得以其他种子重新抽取" in flat(refused.output)
    with keyed_sessionmaker(make_engine(settings().database_url))() as session:  # the refusal was committed: it is audited
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc()).limit(1)).all()
        assert actions == ["inspection.redraw-refused"]

    result = cli.invoke(app, ["inspections", "result", number, d_code, "--outcome", "未发现问题", "--department",
                              other_code, "--date", "2025-10-10"])  # fmt: skip
    assert result.exit_code == 1
    assert "只有实施检查的部门" in flat(result.output)
    result = cli.invoke(app, ["inspections", "result", number, d_code, "--outcome", "发现问题已责令整改", "--department",
                              dept_code, "--date", "2025-10-10"])  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = json.loads(cli.invoke(app, ["inspections", "show", number, "--json"]).output)
    assert shown["results"] == 1
    assert shown["status"] == "published"
