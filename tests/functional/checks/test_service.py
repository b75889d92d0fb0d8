"""Credit checks against the real database: what a check returns, what it never returns, and its record."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.factories import lists as lf
from tests.factories.checks import TODAY

from xinyong.actors import Actor, Permission
from xinyong.checks import service
from xinyong.checks.models import CreditCheck
from xinyong.errors import InvalidInput
from xinyong.measures import service as measures_service


@pytest.fixture
def actor(world):  # type: ignore[no-untyped-def]
    return Actor(label="api-key:test", kind="api-key", permissions=frozenset({Permission.API_CHECKS_WRITE}),
                 department_id=world.dept.id, is_department_bound=True)  # fmt: skip


def _check(db_session, settings, protector, actor, matter, **item):  # type: ignore[no-untyped-def]
    return service.run_check(db_session, service.CheckItem(**item), matter=matter, actor=actor, settings=settings,
                             protector=protector, today=TODAY)  # fmt: skip


def test_a_listed_subject_gets_the_measure_with_its_basis(db_session, settings, protector, world, actor):
    doc = _check(db_session, settings, protector, actor, "政府采购", code=world.listed_code)
    assert doc["outcome"] == "found"
    assert doc["hint"] == "block"
    assert doc["hint_label"] == "拦截"
    assert [m["list_type"] for m in doc["memberships"]] == ["serious-dishonesty"]
    assert [(m["code"], m["version"], m["basis"]) for m in doc["measures"]] == [
        ("M0001", 1, "《中华人民共和国政府采购法》第二十二条")]
    assert doc["negative_total"] == 1
    assert doc["negative_records"][0]["record_type"] == "penalty"
    assert doc["positive_total"] == 1
    assert doc["positive_records"][0]["record_type"] == "license"
    row = db_session.scalar(select(CreditCheck).where(CreditCheck.number == doc["number"]))
    assert (row.actor, row.department_id, row.matter, row.hint, row.is_hit) == (
        "api-key:test", world.dept.id, "政府采购", "block", True)
    assert row.result["measures"][0]["code"] == "M0001"


def test_no_measure_for_another_matter_or_another_list(db_session, settings, protector, world, actor):
    doc = _check(db_session, settings, protector, actor, "招标投标", code=world.listed_code)
    assert doc["measures"] == []  # the 招标投标 measure is for another list type
    assert doc["hint"] == "warn"  # still on a dishonesty list, with a penalty in publication
    doc = _check(db_session, settings, protector, actor, "评先评优", code=world.listed_code)
    assert doc["measures"] == []


def test_honour_list_gives_the_green_channel(db_session, settings, protector, world, actor):
    doc = _check(db_session, settings, protector, actor, "行政审批", code=world.honor_code)
    assert doc["hint"] == "fast_track"
    assert [m["kind"] for m in doc["measures"]] == ["incentive"]
    assert _check(db_session, settings, protector, actor, "政府采购", code=world.honor_code)["measures"] == []


def test_a_clean_subject_and_an_unknown_code(db_session, settings, protector, world, actor):
    doc = _check(db_session, settings, protector, actor, "政府采购", code=world.clean_code)
    assert (doc["hint"], doc["memberships"], doc["measures"], doc["negative_total"]) == ("none", [], [], 0)
    doc = _check(db_session, settings, protector, actor, "政府采购", code="91330521MA2B3C4D5E")
    assert doc["outcome"] == "not-found"
    assert doc["hint"] == "none"


def test_a_name_only_check_returns_ranked_candidates_and_picks_none(db_session, settings, protector, world, actor):
    doc = _check(db_session, settings, protector, actor, "政府采购", name="安吉县失信测试有限公司")
    assert doc["outcome"] == "candidates"
    assert doc["subject"] is None
    assert doc["measures"] == []
    assert doc["hint"] is None
    assert doc["candidates"][0]["uscc"] == world.listed_code
    assert doc["candidates"][0]["score"] == 1.0
    doc = _check(db_session, settings, protector, actor, "政府采购", name="测试有限公司")
    assert len(doc["candidates"]) >= 2
    assert [c["score"] for c in doc["candidates"]] == sorted((c["score"] for c in doc["candidates"]), reverse=True)
    assert all(c["score"] < 1 for c in doc["candidates"])


def test_unknown_matter_is_refused(db_session, settings, protector, world, actor):
    with pytest.raises(InvalidInput, match="未配置的核查事项"):
        _check(db_session, settings, protector, actor, "随便什么", code=world.listed_code)


def test_a_check_names_the_version_it_applied(db_session, settings, protector, world, actor):
    from xinyong.measures.rules import MeasureDraft

    first = _check(db_session, settings, protector, actor, "政府采购", code=world.listed_code)
    measures_service.revise_measure(db_session, "M0001", MeasureDraft(
        "政府采购", "三年内禁止参加政府采购活动", ("serious-dishonesty",), "《政府采购法》第七十七条", "国家", "sanction",
        "block"), actor=lf.SYSTEM, settings=settings)  # fmt: skip
    second = _check(db_session, settings, protector, actor, "政府采购", code=world.listed_code)
    assert (first["measures"][0]["version"], second["measures"][0]["version"]) == (1, 2)
    stored = service.get_check(db_session, first["number"], actor=actor).result
    assert stored["measures"][0]["content"] == "依法限制参加政府采购活动"


def test_batch_is_one_row_per_subject_in_order(db_session, settings, protector, world, actor):
    items = [service.CheckItem(code=world.listed_code, ref="投标人1"), service.CheckItem(code=world.clean_code),
             service.CheckItem(name="安吉县失信测试有限公司"), service.CheckItem(code="not-a-code")]  # fmt: skip
    batch_no, docs = service.run_batch(db_session, items, matter="政府采购", actor=actor, settings=settings,
                                       protector=protector, today=TODAY)  # fmt: skip
    assert [d["outcome"] for d in docs] == ["found", "found", "candidates", "not-found"]
    assert docs[0]["hint"] == "block"
    assert docs[0]["measures"][0]["code"] == "M0001"
    assert docs[0]["ref"] == "投标人1"
    assert (docs[0]["negative_total"], docs[0]["positive_total"]) == (1, 1)
    rows = service.batch_row(1, docs[0])
    assert rows[0] == "投标人1"
    assert "M0001@1" in rows[10]
    assert "依据" in rows[10]
    assert db_session.scalar(select(CreditCheck.batch_no).where(CreditCheck.number == docs[3]["number"])) == batch_no


def test_feedback_and_statistics(db_session, settings, protector, world, actor):
    doc = _check(db_session, settings, protector, actor, "政府采购", code=world.listed_code)
    _check(db_session, settings, protector, actor, "政府采购", code=world.clean_code)
    with pytest.raises(InvalidInput, match="不在本次核查返回"):
        service.record_feedback(db_session, doc["number"], measure_code="M0003", is_applied=True, note=None, actor=actor)
    with pytest.raises(InvalidInput, match="理由"):
        service.record_feedback(db_session, doc["number"], measure_code="M0001", is_applied=False, note="", actor=actor)
    service.record_feedback(db_session, doc["number"], measure_code="M0001", is_applied=True, note="已取消其投标资格",
                            actor=actor)  # fmt: skip
    [row] = service.statistics(db_session, actor)
    assert (row.matter, row.checks, row.hits, row.applied, row.not_applied) == ("政府采购", 2, 1, 1, 0)
