"""Plans, the seeded draw, publication and results, against a population graded by a real evaluation run."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from tests.factories import evaluation as ef
from tests.factories.inspections import SYSTEM, TODAY
from tests.factories.records import department

from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.auth.rules import ROLE_PERMISSIONS, Role
from xinyong.codes import make_uscc
from xinyong.errors import AlreadyExists, InvalidInput, InvalidTransition
from xinyong.evaluation.models import EvaluationPoints
from xinyong.inspections import roster, rules, service
from xinyong.inspections.models import InspectionAssignment, PlanStatus
from xinyong.records.models import Record
from xinyong.subjects.models import Subject


def draft(**changes):  # type: ignore[no-untyped-def]
    values = {"matter": "食品经营许可事项监督检查", "period_start": date(2025, 10, 1), "period_end": date(2025, 12, 31),
              "kinds": [], "regions": [], "sector": None, "special_domains": ["drugs"], "ratios": {}, "inspectors": []}  # fmt: skip
    values.update(changes)
    return service.PlanDraft(**values)


def plan(db_session, insp_settings, graded, **changes):  # type: ignore[no-untyped-def]
    return service.create_plan(db_session, draft(**changes), department=graded.dept, actor=SYSTEM,
                               settings=insp_settings, today=TODAY)  # fmt: skip


def drawn_codes(db_session, plan_id: int) -> set[str]:  # type: ignore[no-untyped-def]
    return set(db_session.scalars(select(Subject.uscc).join(InspectionAssignment, InspectionAssignment.subject_id == Subject.id)
                                  .where(InspectionAssignment.plan_id == plan_id)))  # fmt: skip


def test_a_draw_is_reproducible_weighted_by_grade_and_d_grade_subjects_are_all_drawn(db_session, insp_settings, graded):  # type: ignore[no-untyped-def]
    first = plan(db_session, insp_settings, graded)
    assert first.ratios == {"A": "2", "B": "5", "C": "100", "D": "100"}  # the configured defaults
    row = service.draw_plan(db_session, first.id, seed=20251020, actor=SYSTEM, settings=insp_settings, today=TODAY)
    codes = drawn_codes(db_session, first.id)
    assert set(graded.by_grade["D"]) <= codes
    assert set(graded.by_grade["C"]) <= codes
    assert set(graded.special) <= codes  # drugs: inspected whatever the grade (they are A)
    strata = row.strata
    assert strata["A"] == {"population": 60, "asked": "2", "drawn": 2}
    assert strata["B"] == {"population": 40, "asked": "5", "drawn": 2}
    assert strata["D"] == {"population": 3, "asked": "100", "drawn": 3}
    assert strata["special"]["drawn"] == 2
    assert row.drawn == len(codes) == 2 + 2 + 5 + 3 + 2
    same, recorded, again = service.verify_draw(db_session, first)
    assert same
    assert recorded == again == row.result_digest

    # The same plan, population snapshot and seed: the same draw. Another plan drawn with another seed differs.
    second = plan(db_session, insp_settings, graded)
    twin = service.draw_plan(db_session, second.id, seed=20251020, actor=SYSTEM, settings=insp_settings, today=TODAY)
    assert (twin.population_digest, twin.result_digest) == (row.population_digest, row.result_digest)
    third = plan(db_session, insp_settings, graded)
    other = service.draw_plan(db_session, third.id, seed=777, actor=SYSTEM, settings=insp_settings, today=TODAY)
    assert other.population_digest == row.population_digest
    assert other.result_digest != row.result_digest
    assert drawn_codes(db_session, third.id) != codes

    audit = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "inspection.drawn",
                                                        AuditEntry.target == f"inspection-plan:{first.id}")).one()  # fmt: skip
    assert audit.details["seed"] == 20251020
    assert audit.details["population_digest"] == row.population_digest
    assert audit.details["result_digest"] == row.result_digest


def test_inspectors_are_paired_without_conflicts_of_interest(db_session, insp_settings, graded, protector):  # type: ignore[no-untyped-def]
    conflicted = graded.by_grade["D"][0]
    zhang, li = graded.inspectors[0], graded.inspectors[1]
    for person in (zhang, li):
        roster.exclude(db_session, inspector=person, subject_code=conflicted, reason="其配偶在该企业任职", actor=SYSTEM,
                       protector=protector)  # fmt: skip
    p = plan(db_session, insp_settings, graded)
    service.draw_plan(db_session, p.id, seed=5, actor=SYSTEM, settings=insp_settings, today=TODAY)
    assignments = db_session.scalars(select(InspectionAssignment).where(InspectionAssignment.plan_id == p.id)).all()
    for a in assignments:
        assert len(set(a.inspector_ids)) == 2
    target = next(a for a in assignments if a.subject_id == ef.subject_id(db_session, conflicted))
    assert not {zhang.id, li.id} & set(target.inspector_ids)
    assert {i for a in assignments for i in a.inspector_ids} <= {i.id for i in graded.inspectors}


def test_a_second_draw_with_another_seed_is_refused_and_audited(db_session, insp_settings, graded):  # type: ignore[no-untyped-def]
    p = plan(db_session, insp_settings, graded)
    row = service.draw_plan(db_session, p.id, seed=11, actor=SYSTEM, settings=insp_settings, today=TODAY)
    assert service.draw_plan(db_session, p.id, seed=11, actor=SYSTEM, settings=insp_settings, today=TODAY).id == row.id
    service.publish_plan(db_session, p.id, actor=SYSTEM, settings=insp_settings, today=TODAY)
    assert p.status == PlanStatus.PUBLISHED.value
    assert p.publish_until == date(2026, 12, 31)
    with pytest.raises(service.RedrawRefused) as caught:
        service.draw_plan(db_session, p.id, seed=12, actor=SYSTEM, settings=insp_settings, today=TODAY)
    assert caught.value.keeps_changes
    assert "种子 11" in caught.value.message
    assert "并已公示" in caught.value.message
    refused = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "inspection.redraw-refused")).one()
    assert refused.details == {"number": p.number, "seed_asked": 12, "seed_recorded": 11, "published": True}
    assert db_session.scalars(select(InspectionAssignment.id).where(InspectionAssignment.plan_id == p.id)).all()
    with pytest.raises(InvalidTransition):
        service.publish_plan(db_session, p.id, actor=SYSTEM, settings=insp_settings, today=TODAY)


def test_results_are_recorded_by_the_inspecting_department_and_become_records(db_session, insp_settings, graded,  # type: ignore[no-untyped-def]
                                                                            protector):  # fmt: skip
    p = plan(db_session, insp_settings, graded)
    with pytest.raises(InvalidTransition):  # nothing drawn yet: nothing to publish
        service.publish_plan(db_session, p.id, actor=SYSTEM, settings=insp_settings, today=TODAY)
    service.draw_plan(db_session, p.id, seed=3, actor=SYSTEM, settings=insp_settings, today=TODAY)
    target = db_session.scalars(select(InspectionAssignment).where(InspectionAssignment.plan_id == p.id,
                                                                   InspectionAssignment.grade == "C")).first()  # fmt: skip
    with pytest.raises(service.OtherDepartment) as caught:
        service.record_result(db_session, target.id, department=graded.other, outcome="未发现问题", note="",
                              inspected_on=TODAY, actor=SYSTEM, settings=insp_settings, protector=protector, today=TODAY)  # fmt: skip
    assert caught.value.status_code == 403
    assert graded.dept.name in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        service.record_result(db_session, target.id, department=graded.dept, outcome="很好", note="", inspected_on=TODAY,
                              actor=SYSTEM, settings=insp_settings, protector=protector, today=TODAY)  # fmt: skip
    assert "发现问题移交处罚" in caught.value.message
    with pytest.raises(InvalidInput):
        service.record_result(db_session, target.id, department=graded.dept, outcome="未发现问题", note="",
                              inspected_on=date(2025, 11, 1), actor=SYSTEM, settings=insp_settings, protector=protector,
                              today=TODAY)  # fmt: skip
    done = service.record_result(db_session, target.id, department=graded.dept, outcome="发现问题移交处罚",
                                 note="超范围经营，已移交立案", inspected_on=date(2025, 10, 15), actor=SYSTEM,
                                 settings=insp_settings, protector=protector, today=TODAY)  # fmt: skip
    record = db_session.get(Record, done.record_id)
    assert (record.record_type, record.doc_no, record.subject_id) == ("inspection-result", f"{p.number}-{target.position:05d}",
                                                                     target.subject_id)  # fmt: skip
    assert record.payload["CC_JG"] == "发现问题移交处罚"
    assert record.payload["CC_SX"] == p.matter
    with pytest.raises(AlreadyExists):
        service.record_result(db_session, target.id, department=graded.dept, outcome="未发现问题", note="",
                              inspected_on=TODAY, actor=SYSTEM, settings=insp_settings, protector=protector, today=TODAY)  # fmt: skip
    # The next evaluation reads the result through the catalogue like any record.
    run = ef.run(db_session, insp_settings, TODAY)
    points = db_session.get(EvaluationPoints, (run.id, target.subject_id, "inspection-findings"))
    assert (points.points, points.evidence) == (-50, str(record.id))


def test_bad_plans_are_refused(db_session, insp_settings, graded, protector):  # type: ignore[no-untyped-def]
    with pytest.raises(rules.RatioOutOfRange) as caught:
        plan(db_session, insp_settings, graded, ratios={"B": "120"})
    assert "0–100" in caught.value.message
    with pytest.raises(rules.RatioOutOfRange):
        plan(db_session, insp_settings, graded, ratios={"A": "-1"})
    with pytest.raises(InvalidInput) as caught:
        plan(db_session, insp_settings, graded, ratios={"E": "5"})
    assert "没有等级 E" in caught.value.message
    with pytest.raises(service.PopulationEmpty):
        plan(db_session, insp_settings, graded, regions=["110101"])  # a Beijing district: nobody there
    with pytest.raises(service.PopulationEmpty):
        plan(db_session, insp_settings, graded, kinds=["individual_business"])
    nobody = department(db_session, code=make_uscc("1", "1", "330521", "00000009"), name="德清县无检查人员局")
    with pytest.raises(service.RosterEmpty):
        service.create_plan(db_session, draft(), department=nobody, actor=SYSTEM, settings=insp_settings, today=TODAY)
    with pytest.raises(service.RosterTooSmall):
        plan(db_session, insp_settings, graded, inspectors=["ZF33050001"])
    with pytest.raises(InvalidInput):
        plan(db_session, insp_settings, graded, special_domains=["food"])  # a sector, not a special domain
    with pytest.raises(InvalidInput):
        plan(db_session, insp_settings, graded, period_end=date(2025, 9, 1))
    # An inspector who must step aside for every subject of the population is no use to the plan.
    food = plan(db_session, insp_settings, graded, sector="food", special_domains=[], inspectors=["ZF33050001", "ZF33050002", "ZF33050003"])
    assert food.population["sector"] == "food"
    lonely = graded.inspectors[2]
    for code in graded.by_grade["A"]:
        roster.exclude(db_session, inspector=lonely, subject_code=code, reason="原任职单位的关联企业", actor=SYSTEM,
                       protector=protector)  # fmt: skip
    with pytest.raises(service.InspectorExcludedEverywhere) as caught:
        plan(db_session, insp_settings, graded, sector="food", special_domains=[])
    assert "王芳" in caught.value.message
    with pytest.raises(service.InspectorExcludedEverywhere):  # the plan made before the exclusions: refused at the draw
        service.draw_plan(db_session, food.id, seed=1, actor=SYSTEM, settings=insp_settings, today=TODAY)


def test_bound_actors_act_only_for_their_department(db_session, insp_settings, graded, protector):  # type: ignore[no-untyped-def]
    p = plan(db_session, insp_settings, graded)
    outsider = Actor("user:reviewer-b", "user", ROLE_PERMISSIONS[Role.REVIEWER], department_id=graded.other.id,
                     is_department_bound=True)  # fmt: skip
    with pytest.raises(service.PermissionDenied):
        service.draw_plan(db_session, p.id, seed=1, actor=outsider, settings=insp_settings, today=TODAY)
    with pytest.raises(service.PermissionDenied):
        roster.exclude(db_session, inspector=graded.inspectors[0], subject_code=graded.by_grade["A"][0], reason="亲属",
                       actor=outsider, protector=protector)  # fmt: skip
    with pytest.raises(InvalidInput):
        service.draw_plan(db_session, p.id, seed=-5, actor=SYSTEM, settings=insp_settings, today=TODAY)
