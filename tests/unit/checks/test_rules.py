from __future__ import annotations

from datetime import date

import pytest

from xinyong.checks import rules
from xinyong.errors import InvalidInput
from xinyong.measures import rules as measure_rules
from xinyong.measures.rules import MeasureDraft

NATURES = {"serious-dishonesty": "dishonesty", "honor": "honor", "watch": "watch"}
MATTERS = ("政府采购", "行政审批")


def _draft(**kw):  # type: ignore[no-untyped-def]
    base = {"matter": "政府采购", "content": "限制参加政府采购", "list_types": ("serious-dishonesty",), "basis": "某法",
            "level": "国家", "kind": "sanction", "effect": "block"}  # fmt: skip
    return MeasureDraft(**{**base, **kw})


def test_measures_need_basis_matter_and_matching_nature():
    measure_rules.validate(_draft(), matters=MATTERS, list_natures=NATURES)
    for bad, message in ((_draft(basis=" "), "依据"), (_draft(matter="其他"), "未配置的事项"),
                         (_draft(list_types=("honor",)), "过惩相当"), (_draft(list_types=("nope",)), "未知的名单类型"),
                         (_draft(kind="incentive", list_types=("honor",), effect="block"), "绿色通道"),
                         (_draft(effect="fast_track"), "拦截")):  # fmt: skip
        with pytest.raises(InvalidInput, match=message):
            measure_rules.validate(bad, matters=MATTERS, list_natures=NATURES)


def test_applies_only_on_matter_and_list_type():
    assert measure_rules.applies("政府采购", ["serious-dishonesty"], "政府采购", {"serious-dishonesty"})
    assert not measure_rules.applies("政府采购", ["serious-dishonesty"], "行政审批", {"serious-dishonesty"})
    assert not measure_rules.applies("政府采购", ["serious-dishonesty"], "政府采购", {"watch"})


def test_overall_hint_is_the_strongest():
    hint = measure_rules.overall_hint
    assert hint(["fast_track", "block"], has_punitive_membership=True, has_negative_records=False) == "block"
    assert hint([], has_punitive_membership=False, has_negative_records=True) == "warn"
    assert hint(["fast_track"], has_punitive_membership=False, has_negative_records=False) == "fast_track"
    assert hint([], has_punitive_membership=False, has_negative_records=False) == "none"


def test_queries_and_numbers():
    from xinyong.codes import make_id_number

    id_number = make_id_number("330523", date(1980, 1, 2), 123)
    query = rules.read_query(id_number, "张三")
    assert query.kind == "code"
    assert query.value == id_number
    assert id_number not in query.shown
    assert rules.read_query(" ", "安吉某某有限公司").kind == "name"
    assert rules.read_query(None, None).kind == "empty"
    number = rules.check_number(date(2025, 10, 20))
    assert number.startswith("HC20251020")
    assert len(number) == 18
    assert number != rules.check_number(date(2025, 10, 20))
    assert rules.name_score("安吉测试有限公司", "安吉测试有限公司") == 1.0
    assert 0 < rules.name_score("安吉测试", "安吉测试有限公司") < 1


def test_a_name_query_is_kept_and_shown_with_its_id_numbers_masked() -> None:
    query = rules.read_query(None, "张三 330521198005171230")
    assert (query.kind, query.value, query.shown) == ("name", "张三 3305**********1230", "张三 3305**********1230")
    mistyped = rules.read_query("330521198005171231", None)
    assert mistyped.shown == "3305**********1231"
