"""`xinyong evaluation …` as an operator runs it: a bad model file, the built-in model, a run, a subject shown."""

from __future__ import annotations

import json
from datetime import date

import pytest
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.factories import records as rf
from tests.fixtures.keys import TEST_KEY, keyed_sessionmaker
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.commandline import session_factory, settings
from xinyong.db import make_engine
from xinyong.evaluation.service import BUILTIN_MODEL
from xinyong.protect import protector as make_protector

TODAY = date(2025, 10, 20)


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


def test_load_run_show_and_changes(cli, tmp_path):  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text(model_with_cycle(), encoding="utf-8")
    result = cli.invoke(app, ["evaluation", "load-model", str(bad), "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.output)["problems"]
    assert "model-cycle" in [p["code"] for p in problems]

    result = cli.invoke(app, ["evaluation", "run"])
    assert result.exit_code == 1
    assert "尚未载入评价模型" in flat(result.output)

    engine = make_engine(settings().database_url)
    with keyed_sessionmaker(engine)() as session:
        current = settings()
        dept = rf.department(session)
        lf.load_types(session, dept)
        record = ef.penalty(session, current, make_protector(current), dept, ef.company(41), tier="严重",
                            decided=date(2025, 9, 1), today=TODAY)  # fmt: skip
        session.commit()
        doc_no = record.doc_no
    engine.dispose()

    result = cli.invoke(app, ["evaluation", "load-model"])
    assert result.exit_code == 0, result.output
    assert "public-credit2026.2" in flat(result.output)
    assert "已载入" in result.output
    result = cli.invoke(app, ["evaluation", "run", "--as-of", "2025-10-20", "--json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.output)
    assert first["subjects"] == 1
    assert first["grades"] == {"A": 0, "B": 0, "C": 1, "D": 0}
    result = cli.invoke(app, ["evaluation", "run", "--as-of", "2025-10-20"])
    assert result.exit_code == 0
    assert f"与批次{first['run']}相同" in flat(result.output)

    result = cli.invoke(app, ["evaluation", "show", ef.company(41)[0], "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert (shown["grade"], shown["score"]) == ("C", 700)
    assert shown["indicators"][0]["records"][0]["doc_no"] == doc_no
    result = cli.invoke(app, ["evaluation", "show", ef.company(41)[0]])
    assert doc_no in flat(result.output)
    assert "信用风险较高" in flat(result.output)

    result = cli.invoke(app, ["evaluation", "run", "--as-of", "2026-10-20", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["changes"] == 1  # a year on: the penalty counts as an earlier one
    result = cli.invoke(app, ["evaluation", "changes", "--json"])
    changed = json.loads(result.output)["changes"][0]
    assert (changed["from_grade"], changed["to_grade"], changed["to_score"]) == ("C", "B", 750)
    assert {r["indicator"] for r in changed["reasons"]} == {"近一年的行政处罚（公示期内）", "一年以前的行政处罚（公示期内）"}

    result = cli.invoke(app, ["evaluation", "run", "--as-of", "2025-13-01"])
    assert result.exit_code == 1
    assert "格式不正确" in flat(result.output)
    result = cli.invoke(app, ["evaluation", "show", "91330521MA00000000"])
    assert result.exit_code == 1


def flat(output: str) -> str:
    """The output without the line breaks and spaces the terminal's width put in."""
    return "".join(output.split())


def model_with_cycle() -> str:
    text = BUILTIN_MODEL.read_text(encoding="utf-8")
    return text.replace('key = "trust"\nname = "守信与资质"', 'key = "trust"\nparent = "trust"\nname = "守信与资质"')

