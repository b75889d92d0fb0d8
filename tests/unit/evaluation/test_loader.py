"""Reading a model file: the built-in model, and every bad input refused with its own code and the place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xinyong.catalog import load_catalog
from xinyong.evaluation import loader
from xinyong.evaluation.service import BUILTIN_MODEL
from xinyong.evaluation.spec import KindScoring, ModelInvalid

LISTS = {"serious-dishonesty", "court-dishonest-debtors", "major-tax-dishonesty", "procurement-dishonesty", "watch",
         "honor"}  # fmt: skip

GOOD = """
key = "t"
version = "1"
name = "测试模型"
basis = "测试依据"
scale = 100
weights_add_up = true
default_grade = "B"

[[grades]]
symbol = "A"
label = "低"
min = 80

[[grades]]
symbol = "B"
label = "一般"
min = 0

[[dimensions]]
key = "admin"
name = "行政管理"
weight = 100

[[indicators]]
key = "penalties"
name = "行政处罚"
parent = "admin"
weight = 60
basis = "《信用修复管理办法》"
records = { types = ["penalty"] }
kinds = { by = "tier", points = { "严重" = 60, "一般" = 20 } }

[[indicators]]
key = "fines"
name = "罚款金额"
parent = "admin"
weight = 40
basis = "罚款越多扣分越多"
records = { types = ["penalty"], where = [{ field = "role:categories", any = ["罚款"] }] }
bands = { measure = "sum", of = "role:fine_amount", ranges = [{ from = 0.1, below = 1, points = 10 }, { from = 1, points = 40 }] }
"""


def parse(text: str):  # type: ignore[no-untyped-def]
    return loader.parse_model(text, load_catalog(), LISTS)


def problems(text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(ModelInvalid) as caught:
        parse(text)
    assert caught.value.status_code == 422
    assert "评价模型有误" in caught.value.message
    return [(p.code, p.where, p.message) for p in caught.value.problems]


def codes(text: str) -> list[str]:
    return [code for code, _, _ in problems(text)]


def test_the_builtin_model_reads_and_adds_up():
    model = parse(BUILTIN_MODEL.read_text(encoding="utf-8"))
    assert model.scale == model.max_score == 1000
    assert [g.symbol for g in model.grades] == ["A", "B", "C", "D"]
    assert [g.label for g in model.grades] == ["信用风险低", "信用风险一般", "信用风险较高", "信用风险高"]
    assert model.default_grade == "B"
    assert "GB/T 45255-2025" in model.basis
    assert "本地配置" in model.basis
    assert all(i.basis for i in model.indicators)
    assert {"serious-dishonesty"} <= {t for o in model.overrides for t in o.lists}


def test_a_good_model_reads_with_its_parts():
    model = parse(GOOD)
    assert model.base == 100  # both indicators deduct
    penalties = model.indicator("penalties")
    assert isinstance(penalties.scoring, KindScoring)
    assert penalties.scoring.points == (("严重", 60), ("一般", 20))  # highest first
    fines = model.indicator("fines")
    assert fines.scoring.target.codes == (("penalty", "CF_NR_FK"),)  # type: ignore[union-attr]
    assert fines.scoring.points_for(Decimal("0.5")) == 10
    assert fines.scoring.points_for(Decimal("0.05")) == 0
    assert fines.source.where[0].target.column == "categories"  # type: ignore[union-attr]
    assert model.path(penalties)[0].name == "行政管理"


def test_a_cycle_of_dimensions():
    text = GOOD.replace('key = "admin"\nname = "行政管理"\nweight = 100', 'key = "admin"\nname = "行政管理"\nweight = 100\nparent = "sub"')
    text += '\n[[dimensions]]\nkey = "sub"\nname = "下级"\nweight = 100\nparent = "admin"\n'
    found = problems(text)
    assert [c for c, _, _ in found].count("model-cycle") == 1
    assert any("admin → sub → admin" in m or "sub → admin → sub" in m for _, _, m in found)


def test_an_unknown_record_type():
    found = problems(GOOD.replace('types = ["penalty"] }', 'types = ["penalti"] }'))
    assert found[0][0] == "unknown-record-type"
    assert "penalti" in found[0][2]
    assert "indicators[1]" in found[0][1]


def test_an_unknown_field_by_code_and_by_role():
    assert "unknown-field" in codes(GOOD.replace("role:fine_amount", "field:CF_NR_XX"))
    found = problems(GOOD.replace("role:fine_amount", "role:valid_until"))
    assert found[0][0] == "unknown-field"
    assert "角色为 valid_until 的字段" in found[0][2]


def test_a_licence_has_no_tier():
    assert "unknown-field" in codes(GOOD.replace('types = ["penalty"] }\nkinds', 'types = ["license"] }\nkinds'))


def test_a_protected_field_is_not_read():
    assert "unknown-field" in codes(GOOD.replace("role:fine_amount", "field:CF_FR_ZJHM"))


def test_an_unknown_value_of_a_closed_field():
    assert "unknown-value" in codes(GOOD.replace('"一般" = 20', '"一船" = 20'))
    assert "unknown-value" in codes(GOOD.replace('any = ["罚款"]', 'any = ["罚金"]'))


def test_weights_that_do_not_add_up():
    found = problems(GOOD.replace("weight = 40", "weight = 30"))
    assert {c for c, _, _ in found} == {"weights-do-not-add-up"}
    assert any("90" in m for _, _, m in found)
    # Not required: the same weights are accepted, and the score range is what the model says.
    assert parse(GOOD.replace("weight = 40", "weight = 30").replace("weights_add_up = true", "")).base == 90


def test_overlapping_and_gapped_bands():
    assert codes(GOOD.replace("{ from = 1, points = 40 }", "{ from = 0.5, points = 40 }")) == ["bands-overlap"]
    assert codes(GOOD.replace("{ from = 1, points = 40 }", "{ from = 2, points = 40 }")) == ["bands-gap"]
    assert codes(GOOD.replace("from = 0.1, below = 1", "from = 1, below = 1")) == ["band-empty"]


def test_a_threshold_outside_the_score_range():
    found = problems(GOOD.replace("min = 80", "min = 180"))
    assert found[0][0] == "threshold-out-of-range"
    assert "0–100" in found[0][2]
    assert codes(GOOD.replace("min = 0", "min = 10")) == ["grades-do-not-cover"]


def test_an_indicator_without_basis():
    assert "missing-basis" in codes(GOOD.replace('basis = "罚款越多扣分越多"\n', ""))


def test_unknown_lists_grades_and_keys():
    text = GOOD + '\n[[overrides]]\nlists = ["no-such-list"]\nat_most = "E"\nbasis = "x"\n'
    assert set(codes(text)) == {"unknown-list-type", "unknown-grade"}
    assert "unknown-key" in codes(GOOD.replace("scale = 100", "scale = 100\nscael = 1"))
    assert "unknown-grade" in codes(GOOD.replace('default_grade = "B"', 'default_grade = "Z"'))


def test_negative_points_and_bad_toml():
    assert "invalid-points" in codes(GOOD.replace('"严重" = 60', '"严重" = -60'))
    assert codes("key = ") == ["toml-syntax"]


def test_an_indicator_reads_one_source_and_scores_one_way():
    text = GOOD.replace('records = { types = ["penalty"] }\nkinds', 'records = { types = ["penalty"] }\nlists = { types = ["watch"] }\nkinds')
    assert "missing-key" in codes(text)
