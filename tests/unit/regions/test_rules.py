from datetime import UTC, datetime

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, select

from xinyong.actors import Actor, DepartmentScope
from xinyong.regions import rules


def test_codes_are_checked_against_gb2260() -> None:
    assert rules.clean_code(" 371122 ") == "371122"
    assert rules.official_name("371122") == "莒县"  # the table's "[1992-]" validity mark is dropped
    assert rules.official_name("330500") == "湖州市"
    for bad in ("", "37112", "3711222", "37112x", "999999", "371199"):
        with pytest.raises(rules.RegionCodeError):
            rules.clean_code(bad)


def test_which_code_may_sit_under_which() -> None:
    assert rules.may_contain("370000", "371122")
    assert rules.may_contain("370000", "371100")
    assert rules.may_contain("371100", "371122")
    assert not rules.may_contain("371100", "371100")  # itself: a cycle
    assert not rules.may_contain("371122", "371100")  # a county holds nothing
    assert not rules.may_contain("371100", "330521")  # another city's county
    assert not rules.may_contain("371100", "370000")  # a city never holds its province
    assert [rules.level(c) for c in ("370000", "371100", "371122")] == ["province", "city", "county"]


@pytest.mark.parametrize("bad", ["http://x.cn", "x.cn:8080", "x.cn/path", "-x.cn", "127.0.0.1", "a" * 300,
                                 "<script>.cn", "x..cn", "莒县.cn"])  # fmt: skip
def test_hostile_host_names_are_refused(bad: str) -> None:
    with pytest.raises(rules.RegionCodeError):
        rules.clean_host(bad)


def test_host_names_are_compared_without_port_and_case() -> None:
    assert rules.clean_host("JuXian.Credit.Example.CN.") == "juxian.credit.example.cn"
    assert rules.clean_host("  ") is None
    assert rules.request_host("JuXian.credit.example.cn:8443") == "juxian.credit.example.cn"
    assert rules.request_host("[::1]:80") == ""


def test_the_region_prefix_of_a_path() -> None:
    assert rules.split_prefix("/region/371122/search") == ("371122", "/search")
    assert rules.split_prefix("/region/371122") == ("371122", "/")
    assert rules.split_prefix("/region/37112/search") is None
    assert rules.split_prefix("/regionx/371122/") is None
    assert rules.split_prefix("/search") is None


def _at(day: int) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC)


def test_a_moved_department_counts_where_its_data_was_made() -> None:
    # department 7 was in the region until day 10; department 8 came in on day 20; 9 was always there
    scope = DepartmentScope(frozenset({9}), ((7, None, _at(10)), (8, _at(20), None)))
    assert scope.current == {8, 9}
    assert scope.covers(7, _at(5))
    assert not scope.covers(7, _at(10))
    assert not scope.covers(7)
    assert scope.covers(8, _at(20))
    assert not scope.covers(8, _at(19))
    assert scope.covers(8)
    assert scope.covers(9, _at(1))
    assert not scope.covers(None)
    table = Table("t", MetaData(), Column("department_id", Integer), Column("created_at", DateTime(timezone=True)))
    clause = scope.clause(table.c.department_id, table.c.created_at)
    text = str(select(table).where(clause).compile(compile_kwargs={"literal_binds": True}))
    assert "department_id IN (9)" in text
    assert "department_id = 7 AND t.created_at <" in text
    assert "department_id = 8 AND t.created_at >=" in text
    # without a time of its own, an object counts where its department is now
    assert "IN (8, 9)" in str(select(table).where(scope.clause(table.c.department_id))
                              .compile(compile_kwargs={"literal_binds": True}))  # fmt: skip


def test_actors_reach_by_binding_then_by_region() -> None:
    whole = Actor(label="user:a", kind="user")
    assert whole.can_reach(123)
    assert whole.reach(Column("department_id")) is None
    assert not whole.is_scoped
    bound = Actor(label="user:b", kind="user", department_id=5, is_department_bound=True,
                  scope=DepartmentScope(frozenset({5, 6})))  # fmt: skip
    assert bound.can_reach(5)
    assert not bound.can_reach(6)
    county = Actor(label="user:c", kind="user", region="371122", scope=DepartmentScope(frozenset({5, 6})))
    assert county.can_reach(6)
    assert not county.can_reach(7)
    assert county.is_scoped
    empty = Actor(label="user:d", kind="user", region="371121", scope=DepartmentScope())
    assert not empty.can_reach(5)
    assert str(empty.reach(Column("department_id"))) == "false"
