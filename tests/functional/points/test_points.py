"""Personal credit points: opt in, see the score, band, contributions and unlocked benefits; opt out and the
history is gone. Nobody else has points; asking for those of a person who has not opted in is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from xinyong.points import rules
from xinyong.points import service as points_service
from xinyong.points.models import PointsHistory, PointsMember


def test_a_person_opts_in_sees_points_and_a_benefit_then_opts_out(db_session, person, person_sign_in, scenario):  # type: ignore[no-untyped-def]
    scenario()
    who = person(1, honour=True)
    portal = person_sign_in(who)
    page = portal.client.get("/account/points")
    assert page.status_code == 200
    assert "尚未开通个人信用积分" in page.text
    assert portal.post("/account/points/opt-in").status_code == 303
    page = portal.client.get("/account/points")
    assert "已开通个人信用积分" in page.text
    assert 'data-testid="points-score">120<' in page.text  # 100 base + 20 for the honour listing
    assert "阳光+" in page.text
    assert "守信激励对象（红名单）：+20 分" in page.text
    assert "信易游：景区门票 8 折" in page.text
    assert db_session.scalars(select(PointsHistory)).all()

    assert portal.post("/account/points/opt-out").status_code == 303
    page = portal.client.get("/account/points")
    assert "积分记录已全部删除" in page.text
    assert "尚未开通个人信用积分" in page.text
    assert db_session.scalars(select(PointsMember)).all() == []
    assert db_session.scalars(select(PointsHistory)).all() == []


def test_points_of_a_person_who_has_not_opted_in_are_refused(db_session, person, person_sign_in, today):  # type: ignore[no-untyped-def]
    who = person(2)
    with pytest.raises(points_service.NotOptedIn):
        points_service.own_score(db_session, who.account, today=today)
    assert points_service.band_of(db_session, who.subject_id, today=today) is None
    portal = person_sign_in(who)
    portal.post("/account/points/opt-out")
    assert "尚未开通个人信用积分" in portal.client.get("/account/points").text
    assert portal.client.post("/account/points/opt-in").status_code == 403  # without the form token


def test_only_natural_persons_have_points(db_session, company, subject_account, portal_sign_in):  # type: ignore[no-untyped-def]
    portal = portal_sign_in(subject_account(company(31)))
    portal.post("/account/points/opt-in")
    assert "只面向自然人" in portal.client.get("/account/points").text
    assert db_session.scalars(select(PointsMember)).all() == []


def test_the_model_is_published_in_full_with_a_simulator(client):  # type: ignore[no-untyped-def]
    page = client.get("/points/model")
    assert page.status_code == 200
    model = points_service.model()
    for item in model.items:
        assert item.name in page.text
        assert item.basis in page.text
    for band in model.bands:
        assert band.name in page.text
    simulated = client.get("/points/model?honour=1&blood-donation=9&volunteering=abc&repair=1")
    assert 'data-testid="simulated"' in simulated.text
    assert "模拟得分 <strong>155</strong>" in simulated.text  # 100 + 20 + 30 (capped) + 5, nonsense counts as 0


def test_the_model_file_is_checked():  # type: ignore[no-untyped-def]
    from xinyong.errors import InvalidInput

    raw = {"key": "k", "name": "n", "version": "1", "base": 100, "max_score": 200,
           "bands": [{"key": "a", "name": "A", "min": 0}], "items": []}  # fmt: skip
    assert rules.parse_model(raw).band_for(500).key == "a"
    for broken in ({**raw, "bands": [{"key": "a", "name": "A", "min": 10}]},
                   {**raw, "items": [{"key": "x", "name": "x", "source": "record:x", "points": -5, "cap": 10}]},
                   {**raw, "items": [{"key": "x", "name": "x", "source": "evaluation:x", "points": 5, "cap": 10}]},
                   {k: v for k, v in raw.items() if k != "bands"}):  # fmt: skip
        with pytest.raises(InvalidInput):
            rules.parse_model(broken)


def test_an_approved_repair_earns_points_and_is_traced(db_session, person, person_sign_in, accounts,  # type: ignore[no-untyped-def]
                                                       console_settings, protector, today):  # fmt: skip
    from tests.factories import lists as lf

    from xinyong.repair.models import RepairApplication, RepairStatus

    who = person(3)
    lf.load_types(db_session, accounts.dept_a)
    entry = lf.listed(db_session, console_settings, protector, accounts.dept_a, who.id_number, today=today,
                      type_key="watch")  # a failing never takes points away: points only add
    db_session.add(RepairApplication(
        number="XF20261205POINTS", list_entry_id=entry.id, subject_id=who.subject_id, department_id=accounts.dept_a.id,
        status=RepairStatus.APPROVED, contact_name="王阳光", contact_phone="13800000000", statement="已履行",
        submitted_on=today, platform_due=today, decided_on=today))  # fmt: skip
    db_session.commit()
    portal = person_sign_in(who)
    portal.post("/account/points/opt-in")
    page = portal.client.get("/account/points").text
    assert 'data-testid="points-score">105<' in page
    assert "主动纠正失信行为（信用修复完成）：+5 分" in page
    assert "信用修复 XF20261205POINTS" in page
