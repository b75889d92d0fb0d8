"""Broken credit commitments (违诺) in the evaluation: a broken one deducts while it is published, and the
explanation names the indicator and the commitment; a kept or pending one deducts nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select
from tests.factories import evaluation as ef
from tests.factories import records as rf
from tests.factories.commitments import commitment_code, commitment_row
from tests.functional.evaluation.conftest import TODAY

from xinyong.actors import Actor
from xinyong.departments.models import Department
from xinyong.evaluation import explain, rules, service
from xinyong.evaluation.models import EvaluationPoints, EvaluationScore
from xinyong.records import service as records_service
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects.models import Subject

INDICATOR = "broken-commitments"
NAME = "违背信用承诺（违诺公示期内）"
MADE = date(2025, 3, 3)


def row(dept: Department, subject: tuple[str, str], serial: int, status: str = "履行中", *,
        determined: date | None = None, made: date = MADE, **overrides: str) -> dict[str, str]:  # fmt: skip
    values = {"承诺编码": commitment_code(made, serial), "承诺人名称": subject[1], "统一社会信用代码": subject[0],
              "承诺作出日期": made.isoformat(), "承诺履行状态": status, "承诺受理单位": dept.name,
              "承诺受理单位统一社会信用代码": dept.code, "数据来源单位": dept.name,
              "数据来源单位统一社会信用代码": dept.code}  # fmt: skip
    if status in ("部分履行", "全部未履行"):
        values |= {"未履行的承诺内容": "经营场所信息不实。", "履行状态认定日期": (determined or MADE).isoformat(),
                   "履行状态认定单位": dept.name}  # fmt: skip
    return commitment_row(made, **(values | overrides))


def import_rows(db_session, settings, protector, dept, tmp_path: Path, rows: list[dict[str, str]], *,  # type: ignore[no-untyped-def]
                name: str) -> None:  # fmt: skip
    path = rf.write_rows(tmp_path / f"{name}.csv", rows, encoding="gbk")
    result = records_service.import_file(db_session, path, settings=settings, protector=protector,
                                         record_type="commitment", department=dept, actor=Actor.system("test"),
                                         today=TODAY)  # fmt: skip
    assert result.rejected == 0, result
    assert result.created + result.updated == len(rows), result


def points(db_session, run_id: int, uscc: str) -> dict[str, EvaluationPoints]:  # type: ignore[no-untyped-def]
    found = db_session.scalars(select(EvaluationPoints).where(
        EvaluationPoints.run_id == run_id, EvaluationPoints.subject_id == ef.subject_id(db_session, uscc)))  # fmt: skip
    return {p.indicator: p for p in found}


def score(db_session, run_id: int, uscc: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    found = db_session.get(EvaluationScore, (run_id, ef.subject_id(db_session, uscc)))
    assert found is not None
    return found.score, found.grade


def test_a_broken_commitment_deducts_while_published_and_the_explanation_names_it(  # type: ignore[no-untyped-def]
    db_session, eval_settings, protector, dept, tmp_path
):
    broken, partly, kept, pending, ended, limited = (ef.company(200 + n) for n in range(6))
    rows = [
        row(dept, broken, 1, "全部未履行", determined=date(2025, 6, 2)),  # published to 2026-06-01
        row(dept, partly, 2, "部分履行", determined=date(2025, 6, 2)),
        row(dept, kept, 3, "全部履行"),
        row(dept, pending, 4),
        row(dept, ended, 5, "全部未履行", made=date(2024, 3, 1), determined=date(2024, 5, 6)),  # to 2025-05-05
        row(dept, limited, 6, "全部未履行", determined=date(2025, 6, 2), 公开类型="特定范围内公开"),
    ]
    import_rows(db_session, eval_settings, protector, dept, tmp_path, rows, name="first")
    run = ef.run(db_session, eval_settings, TODAY)
    assert run.status == "completed"

    assert points(db_session, run.id, broken[0])[INDICATOR].points == -60
    assert points(db_session, run.id, partly[0])[INDICATOR].points == -30
    assert score(db_session, run.id, broken[0]) == (840, "B")  # 900 with nothing deducted: grade A
    assert score(db_session, run.id, partly[0]) == (870, "B")
    for subject in (kept, pending, ended, limited):
        assert points(db_session, run.id, subject[0]) == {}, subject
        assert score(db_session, run.id, subject[0]) == (900, "A"), subject

    code = rows[0]["承诺编码"]
    subject = db_session.get(Subject, ef.subject_id(db_session, broken[0]))
    why = explain.explain(db_session, subject, settings=eval_settings, today=TODAY)
    assert why is not None
    view = next(v for v in why.indicators if v.indicator.key == INDICATOR)
    assert (view.indicator.name, view.points, view.hits) == (NAME, -60, 1)
    assert [(e.title, e.doc_no, e.points, e.publish_until) for e in view.evidence] == [
        ("信用承诺", code, 60, date(2026, 6, 1))]  # fmt: skip
    shown = why.as_dict()  # what `xinyong evaluation show` and the console and portal pages print
    item = next(i for i in shown["indicators"] if i["name"] == NAME)
    assert item["points"] == -60
    assert [r["doc_no"] for r in item["records"]] == [code]
    # The end of the 违诺 publicity is foreseen, and comes true.
    assert any(p.on == date(2026, 6, 2) and code in p.doc_nos and p.score == 900 for p in why.expiries)
    later = ef.run(db_session, eval_settings, date(2026, 6, 2))
    assert points(db_session, later.id, broken[0]) == {}
    assert score(db_session, later.id, broken[0]) == (900, "A")

    # The run and its Python twin (which explains and predicts) agree on every one of these subjects.
    model = service.model_of(db_session, service.pick_model(db_session, "public-credit"), settings=eval_settings)
    for each in (broken, partly, kept, pending, ended, limited):
        sid = ef.subject_id(db_session, each[0])
        records, entries, _, _ = explain.subject_facts(db_session, sid)
        mirror = rules.evaluate(model, records, entries, TODAY)
        assert (mirror.score, mirror.grade) == score(db_session, run.id, each[0]), each


def test_the_fulfilment_as_last_determined_counts(db_session, eval_settings, protector, dept, tmp_path):  # type: ignore[no-untyped-def]
    turned_bad, put_right = ef.company(220), ef.company(221)
    import_rows(db_session, eval_settings, protector, dept, tmp_path,
                [row(dept, turned_bad, 21), row(dept, put_right, 22, "全部未履行", determined=date(2025, 6, 2))],
                name="made")  # fmt: skip
    before = ef.run(db_session, eval_settings, TODAY)
    assert points(db_session, before.id, turned_bad[0]) == {}
    assert points(db_session, before.id, put_right[0])[INDICATOR].points == -60

    # A later row with the same 承诺编码 updates the fulfilment: only the current version counts.
    import_rows(db_session, eval_settings, protector, dept, tmp_path,
                [row(dept, turned_bad, 21, "全部未履行", determined=date(2025, 9, 1)),
                 row(dept, put_right, 22, "全部履行")], name="determined")  # fmt: skip
    after = ef.run(db_session, eval_settings, TODAY)
    found = points(db_session, after.id, turned_bad[0])[INDICATOR]
    assert (found.points, found.hits) == (-60, 1)
    current = db_session.scalars(select(Record).where(Record.record_type == "commitment",
                                                      Record.doc_no == commitment_code(MADE, 21),
                                                      Record.status == RecordStatus.ACTIVE.value)).one()  # fmt: skip
    assert found.evidence == str(current.id)
    assert points(db_session, after.id, put_right[0]) == {}
    assert score(db_session, after.id, put_right[0]) == (900, "A")
