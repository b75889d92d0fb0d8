"""The region tree, departments' regions and moves, and regional accounts (xinyong.regions, departments, auth)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories.records import department
from tests.fixtures.regions import CHANGXING, CITY, DEQING, Regional

from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.codes import make_uscc
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from xinyong.regions import service

SYSTEM = Actor.system("test")


def _actions(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_an_install_without_regions_is_one_region_and_unchanged(db_session: Session) -> None:
    dept = department(db_session)
    assert service.tree(db_session).root is None
    assert dept.region == DEQING
    assert departments_service.scope_of(db_session, frozenset({DEQING})).current == {dept.id}


def test_the_first_region_is_the_root_and_takes_every_department(db_session: Session) -> None:
    dept = department(db_session)
    root = service.add_region(db_session, code=CITY, actor=SYSTEM)
    assert root.parent_code is None
    assert root.name == "湖州市"
    db_session.refresh(dept)
    assert dept.region == CITY
    county = service.add_region(db_session, code=DEQING, actor=SYSTEM)
    assert county.parent_code == CITY
    assert county.name == "德清县"
    assert service.tree(db_session).display_name(DEQING) == "湖州市德清县"
    assert len(_actions(db_session, "region.created")) == 2


@pytest.mark.parametrize(("code", "parent", "message"), [
    ("999999", None, "不在 GB/T 2260"),  # an unknown code
    ("3305210", None, "6 位数字"),
    ("371122", None, "不在本平台的行政区划"),  # another city's county
    ("330522", "330521", "不属于"),  # a county under a county
    ("330523", "330599", "不在 GB/T 2260"),  # an unknown parent
    ("330523", "330100", "尚未登记"),  # a parent not registered
])  # fmt: skip
def test_bad_codes_and_parents_are_refused(db_session: Session, code: str, parent: str | None, message: str) -> None:
    service.add_region(db_session, code=CITY, actor=SYSTEM)
    service.add_region(db_session, code=DEQING, actor=SYSTEM)
    with pytest.raises(InvalidInput, match=message):
        service.add_region(db_session, code=code, parent=parent, actor=SYSTEM)
    assert set(service.tree(db_session).nodes) == {CITY, DEQING}


def test_a_tree_with_a_cycle_is_refused(db_session: Session, region_tree: dict[str, str]) -> None:
    with pytest.raises(InvalidInput, match="成环"):
        service.update_region(db_session, CITY, parent=DEQING, actor=SYSTEM)  # the root under its own county
    with pytest.raises(InvalidInput, match=r"成环|不属于"):
        service.update_region(db_session, DEQING, parent=DEQING, actor=SYSTEM)
    with pytest.raises(AlreadyExists):
        service.add_region(db_session, code=DEQING, actor=SYSTEM)
    tree = service.tree(db_session)
    assert tree.get(CITY).parent is None
    assert tree.get(DEQING).parent == CITY
    assert [n.code for _depth, n in tree.walk()] == [CITY, DEQING, CHANGXING]


def test_portal_host_names_are_unique_and_clean(db_session: Session, region_tree: dict[str, str]) -> None:
    service.update_region(db_session, DEQING, host="DeQing.Credit.Example.cn", actor=SYSTEM)
    assert service.tree(db_session).by_host("deqing.credit.example.cn").code == DEQING  # type: ignore[union-attr]
    with pytest.raises(AlreadyExists):
        service.update_region(db_session, CHANGXING, host="deqing.credit.example.cn", actor=SYSTEM)
    with pytest.raises(InvalidInput, match="域名"):
        service.update_region(db_session, CHANGXING, host="changxing.cn/<script>", actor=SYSTEM)
    service.update_region(db_session, DEQING, clear_host=True, actor=SYSTEM)
    assert service.tree(db_session).by_host("deqing.credit.example.cn") is None


def test_new_departments_take_the_region_their_code_names(db_session: Session, regional: Regional) -> None:
    assert regional.accounts.dept_a.region == DEQING
    assert regional.dept_c.region == CHANGXING
    with pytest.raises(InvalidInput, match="尚未登记"):
        departments_service.add_department(db_session, code=make_uscc("1", "1", "330523", "00000004"), name="某局",
                                           region="330523")  # fmt: skip


def test_a_moved_department_leaves_its_history_where_it_was_made(db_session: Session, regional: Regional) -> None:
    dept = regional.accounts.dept_a
    deqing = frozenset({DEQING})
    changxing = frozenset({CHANGXING})
    assert departments_service.scope_of(db_session, deqing).covers(dept.id)
    county_admin = auth_service.actor_for_user(regional.users["county_admin"])
    with pytest.raises(PermissionDenied):  # only the city's 信用办 redraws the map
        departments_service.move_department(db_session, dept.id, region=CHANGXING, actor=county_admin)
    departments_service.move_department(db_session, dept.id, region=CHANGXING, actor=SYSTEM)
    db_session.commit()
    (entry,) = _actions(db_session, "department.moved")
    assert entry.details == {"from": DEQING, "to": CHANGXING}
    before, after = departments_service.scope_of(db_session, deqing), departments_service.scope_of(db_session, changxing)
    assert dept.id not in before.current
    assert dept.id in after.current
    (period,) = [p for p in before.periods if p[0] == dept.id]
    moved_at = period[2]
    assert period[1] is None
    assert moved_at is not None
    assert before.covers(dept.id, moved_at.replace(year=moved_at.year - 1))
    assert not after.covers(dept.id, moved_at.replace(year=moved_at.year - 1))
    assert after.covers(dept.id, moved_at)
    assert not before.covers(dept.id, moved_at)
    with pytest.raises(InvalidInput, match="已属于"):
        departments_service.move_department(db_session, dept.id, region=CHANGXING, actor=SYSTEM)


def test_regional_accounts_stay_inside_their_region(db_session: Session, regional: Regional,
                                                    console_settings: Settings) -> None:  # fmt: skip
    county_admin = auth_service.actor_for_user(regional.users["county_admin"])
    assert county_admin.region == DEQING
    assert county_admin.can_reach(regional.accounts.dept_a.id)
    assert not county_admin.can_reach(regional.dept_c.id)
    city_admin = auth_service.actor_for_user(regional.users["platform_admin"])
    assert city_admin.scope is None
    assert city_admin.can_reach(regional.dept_c.id)

    def create(**kwargs):  # type: ignore[no-untyped-def]
        return auth_service.create_user(db_session, password="Correct-horse-42", actor=county_admin,
                                        settings=console_settings, **kwargs)  # fmt: skip

    with pytest.raises(PermissionDenied):  # a whole-platform or another county's 信用办
        create(username="x-one", role=Role.PLATFORM_ADMIN, department=None, region=CHANGXING)
    with pytest.raises(NotFound):  # staff of another county's department
        create(username="x-two", role=Role.OPERATOR, department=regional.dept_c)
    mine = create(username="x-three", role=Role.AUDITOR, department=None)
    assert mine.region_code == DEQING  # the creator's own region by default
    names = {u.username for u in auth_service.list_users(db_session, actor=county_admin)}
    assert {"county-admin", "operator", "reviewer", "x-three"} <= names
    assert not names & {"county-admin-c", "operator-c", "platform-admin"}
    with pytest.raises(NotFound):
        auth_service.reset_password(db_session, regional.users["operator_c"].id, actor=county_admin)
    with pytest.raises(PermissionDenied):
        departments_service.add_department(db_session, code=make_uscc("1", "1", CHANGXING, "00000005"), name="长兴县某局",
                                           region=CHANGXING, actor=county_admin)  # fmt: skip


def test_a_breakdown_has_a_line_per_county_then_the_citys_own(db_session: Session, region_tree: dict[str, str]) -> None:
    current = service.tree(db_session)
    lines = current.breakdown(CITY)
    assert [(g.code, g.name, g.is_own) for g in lines] == [
        (DEQING, "德清县", False), (CHANGXING, "长兴县", False), (CITY, "湖州市（本级）", True)]
    assert current.group_of(lines, CHANGXING).code == CHANGXING
    assert current.group_of(lines, CITY).code == CITY
    assert current.group_of(lines, None).is_own
    assert [(g.code, g.name) for g in current.breakdown(DEQING)] == [(DEQING, "德清县")]  # nothing under a county
