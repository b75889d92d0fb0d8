"""A run over the record: grades, overrides, explanations that name the records, predictions that come true."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.functional.evaluation.conftest import TODAY

from xinyong.audit.models import AuditEntry
from xinyong.demo.loader import load_demo
from xinyong.evaluation import explain, service
from xinyong.evaluation.models import EvaluationPoints, EvaluationRun, EvaluationScore, GradeChange
from xinyong.evaluation.rules import EVIDENCE_CAP
from xinyong.subjects.models import Subject, SubjectKind


def score_of(db_session, run: EvaluationRun, uscc: str) -> EvaluationScore:  # type: ignore[no-untyped-def]
    row = db_session.get(EvaluationScore, (run.id, ef.subject_id(db_session, uscc)))
    assert row is not None
    return row


def test_a_serious_penalty_and_a_list_entry_grade_lower_and_a_repair_lifts_as_predicted(
    db_session, eval_settings, protector, dept
):  # type: ignore[no-untyped-def]
    clean, bad = ef.company(1), ef.company(2)
    ef.licence(db_session, eval_settings, protector, dept, clean, decided=date(2025, 3, 1), today=TODAY)
    serious = ef.penalty(db_session, eval_settings, protector, dept, bad, tier="严重", decided=date(2024, 8, 1),
                         today=TODAY)  # fmt: skip
    lf.listed(db_session, eval_settings, protector, dept, bad[0], today=TODAY, type_key="watch")
    run = ef.run(db_session, eval_settings, TODAY)

    assert run.status == "completed"
    assert (score_of(db_session, run, clean[0]).grade, score_of(db_session, run, clean[0]).score) == ("A", 930)
    assert (score_of(db_session, run, bad[0]).grade, score_of(db_session, run, bad[0]).score) == ("C", 700)

    subject = db_session.get(Subject, ef.subject_id(db_session, bad[0]))
    why = explain.explain(db_session, subject, settings=eval_settings, today=TODAY)
    assert why is not None
    assert why.is_current
    by_key = {v.indicator.key: v for v in why.indicators}
    assert by_key["penalties-earlier"].points == -150
    assert [e.doc_no for e in by_key["penalties-earlier"].evidence] == [serious.doc_no]
    assert by_key["penalties-earlier"].evidence[0].publish_until == date(2027, 7, 31)
    assert by_key["watch-list"].points == -50
    assert by_key["watch-list"].evidence[0].is_entry
    assert by_key["watch-list"].evidence[0].doc_no == "安信列〔2025〕1号"
    predicted = next(p for p in why.repairs if p.doc_nos == (serious.doc_no,))
    assert (predicted.score, predicted.grade, predicted.on) == (850, "B", None)  # eligible now: 12 months have passed
    # Expiry is predicted too: the penalty's publicity ends on 2027-07-31.
    assert any(p.on == date(2027, 8, 1) and serious.doc_no in p.doc_nos for p in why.expiries)

    ef.repair(db_session, eval_settings, protector, serious, today=TODAY)
    again = ef.run(db_session, eval_settings, TODAY)
    after = score_of(db_session, again, bad[0])
    assert (after.score, after.grade) == (predicted.score, predicted.grade)
    change = db_session.get(GradeChange, (again.id, subject.id))
    assert (change.from_grade, change.to_grade, change.previous_run_id) == ("C", "B", run.id)
    moved, total = service.changes(db_session, again, settings=eval_settings)
    assert total == 1
    assert moved[0].reasons == (("一年以前的行政处罚（公示期内）", -150, 0),)


def test_a_serious_dishonesty_listing_caps_the_grade_and_no_record_gets_the_default(
    db_session, eval_settings, protector, dept
):  # type: ignore[no-untyped-def]
    listed = ef.company(3)
    ef.licence(db_session, eval_settings, protector, dept, listed, decided=date(2025, 1, 1), today=TODAY)
    lf.listed(db_session, eval_settings, protector, dept, listed[0], today=TODAY)
    newcomer = lf.subject(db_session, protector, 4)  # in the register, nothing on its record
    run = ef.run(db_session, eval_settings, TODAY)

    row = score_of(db_session, run, listed[0])
    assert (row.score, row.grade, row.override) == (680, "D", "lists:serious-dishonesty,court-dishonest-debtors,"
                                                                "major-tax-dishonesty,procurement-dishonesty")  # fmt: skip
    fresh = db_session.get(EvaluationScore, (run.id, newcomer))
    assert (fresh.score, fresh.grade, fresh.override) == (900, "B", "no-record")  # not the best, though 900 is A
    why = explain.explain(db_session, db_session.get(Subject, newcomer), settings=eval_settings, today=TODAY)
    assert "默认等级 B" in why.override_text
    why = explain.explain(db_session, db_session.get(Subject, row.subject_id), settings=eval_settings, today=TODAY)
    assert "评价等级不高于 D" in why.override_text


def test_the_same_date_and_model_give_the_same_result(db_session, eval_settings, protector, dept):  # type: ignore[no-untyped-def]
    for n in range(5):
        ef.penalty(db_session, eval_settings, protector, dept, ef.company(10 + n), tier=("严重", "一般", "轻微")[n % 3],
                   decided=date(2025, 9, 1 + n), today=TODAY)  # fmt: skip
    first = ef.run(db_session, eval_settings, TODAY)
    second = ef.run(db_session, eval_settings, TODAY)
    assert first.digest == second.digest
    assert first.grade_counts == second.grade_counts
    assert service.same_result_as(db_session, second) == first.id
    assert second.changes == 0
    points = [sorted(tuple(p) for p in db_session.execute(
        select(EvaluationPoints.subject_id, EvaluationPoints.indicator, EvaluationPoints.points, EvaluationPoints.hits)
        .where(EvaluationPoints.run_id == r.id))) for r in (first, second)]  # fmt: skip
    assert points[0] == points[1]
    assert points[0]
    # Another date is another result: the 轻微 penalty's three months of publicity are over by then.
    later = ef.run(db_session, eval_settings, date(2026, 1, 15))
    assert later.digest != first.digest
    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "evaluation.run")).all()
    assert [a.details["digest"] for a in audit][-3:] == [first.digest, second.digest, later.digest]


def test_every_enterprise_of_the_demo_data_is_graded(db_session, eval_settings, protector, dept):  # type: ignore[no-untyped-def]
    load_demo(db_session, settings=eval_settings, protector=protector, subjects=120, records=480, seed=3, today=TODAY)
    run = ef.run(db_session, eval_settings, TODAY)
    enterprises = db_session.scalar(select(func.count()).select_from(Subject).where(
        Subject.kind.in_([SubjectKind.ORGANISATION.value, SubjectKind.INDIVIDUAL_BUSINESS.value])))  # fmt: skip
    graded = db_session.scalar(select(func.count()).select_from(EvaluationScore).where(EvaluationScore.run_id == run.id))
    persons = db_session.scalar(select(func.count()).select_from(EvaluationScore).join(
        Subject, Subject.id == EvaluationScore.subject_id).where(EvaluationScore.run_id == run.id,
                                                                Subject.kind == SubjectKind.PERSON.value))  # fmt: skip
    assert enterprises > 50
    assert graded == run.subjects == enterprises
    assert persons == 0
    assert sum(run.grade_counts.values()) == enterprises
    assert set(run.grade_counts) == {"A", "B", "C", "D"}


def test_a_failed_run_leaves_nothing_behind(db_session, eval_settings, protector, dept, monkeypatch):  # type: ignore[no-untyped-def]
    ef.penalty(db_session, eval_settings, protector, dept, ef.company(20), decided=date(2025, 6, 1), today=TODAY)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(service.scoring, "scores_statement", broken)
    with pytest.raises(RuntimeError):
        ef.run(db_session, eval_settings, TODAY)
    run = db_session.scalars(select(EvaluationRun).order_by(EvaluationRun.id.desc())).first()
    assert (run.status, run.failure) == ("failed", "磁盘已满")
    assert not db_session.scalar(select(func.count()).select_from(EvaluationPoints).where(EvaluationPoints.run_id == run.id))
    assert service.latest_run(db_session) is None
    assert db_session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc())).first() == "evaluation.run-failed"


def test_details_of_old_runs_are_pruned_but_grades_stay(db_session, eval_settings, protector, dept):  # type: ignore[no-untyped-def]
    ef.penalty(db_session, eval_settings, protector, dept, ef.company(21), decided=date(2025, 6, 1), today=TODAY)
    keep_one = eval_settings.model_copy(update={"evaluation_keep_detail_runs": 1})
    first = ef.run(db_session, keep_one, TODAY)
    second = ef.run(db_session, keep_one, TODAY)
    db_session.refresh(first)
    assert (first.has_details, second.has_details) == (0, 1)
    for run, expected in ((first, 0), (second, 1)):
        assert db_session.scalar(select(func.count()).select_from(EvaluationPoints)
                                 .where(EvaluationPoints.run_id == run.id)) == expected  # fmt: skip
        assert db_session.scalar(select(func.count()).select_from(EvaluationScore)
                                 .where(EvaluationScore.run_id == run.id)) == 1  # fmt: skip
    # The older run is still explained: its points are worked out again from the record.
    subject = db_session.get(Subject, ef.subject_id(db_session, ef.company(21)[0]))
    why = explain.explain(db_session, subject, settings=eval_settings, today=TODAY, run=first)
    assert [v.points for v in why.indicators] == [-60]


def test_evidence_is_capped_and_the_count_kept(db_session, eval_settings, protector, dept):  # type: ignore[no-untyped-def]
    many = ef.company(22)
    for n in range(EVIDENCE_CAP + 3):
        ef.penalty(db_session, eval_settings, protector, dept, many, tier="轻微", decided=date(2025, 8, 1 + n % 28),
                   today=TODAY)  # fmt: skip
    run = ef.run(db_session, eval_settings, TODAY)
    row = db_session.get(EvaluationPoints, (run.id, ef.subject_id(db_session, many[0]), "penalties-recent"))
    assert row.hits == EVIDENCE_CAP + 3
    assert row.points == -(EVIDENCE_CAP + 3) * 5
    assert len(row.evidence.split(",")) == EVIDENCE_CAP
    why = explain.explain(db_session, db_session.get(Subject, row.subject_id), settings=eval_settings, today=TODAY)
    assert why.indicators[0].more == 3
