"""An external grade (纳税信用等级) declared only as a catalogue file is an indicator like any other: no code."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.factories import evaluation as ef
from tests.factories.records import DEPT_CODE
from tests.functional.evaluation.conftest import TODAY

from xinyong.evaluation import explain, service
from xinyong.evaluation.models import EvaluationPoints, EvaluationScore
from xinyong.evaluation.spec import ModelInvalid
from xinyong.records import service as records_service
from xinyong.subjects.models import Subject

TAX_CREDIT = """
key = "tax-credit"
name = "纳税信用等级"
prefix = "NS_"
legal_basis = "《纳税信用管理办法》（国家税务总局公告2014年第40号）"
description = "税务机关评定的纳税信用等级，按年度评价。"

[[fields]]
code = "NS_XDR_MC"
title = "纳税人名称"
kind = "text"
role = "subject_name"
required = true

[[fields]]
code = "NS_XDR_LB"
title = "主体类别"
kind = "enum"
values = ["法人及非法人组织", "个体工商户"]
role = "subject_kind"
required = true

[[fields]]
code = "NS_XDR_SHXYM"
title = "统一社会信用代码"
kind = "uscc"
role = "uscc"
required = true

[[fields]]
code = "NS_PJWH"
title = "评价文号"
kind = "text"
role = "doc_no"
required = true

[[fields]]
code = "NS_PJRQ"
title = "评价日期"
kind = "date"
role = "decision_date"
required = true

[[fields]]
code = "NS_XYDJ"
title = "纳税信用等级"
kind = "enum"
values = ["A", "B", "M", "C", "D"]
required = true

[[fields]]
code = "NS_SJLY"
title = "数据来源单位"
kind = "text"
role = "source_name"
required = true

[[fields]]
code = "NS_SJLYDM"
title = "数据来源单位统一社会信用代码"
kind = "uscc"
role = "source_code"
required = true
"""

MODEL = """
key = "with-tax"
version = "1"
name = "含纳税信用的模型"
basis = "测试"
default_grade = "B"

[[grades]]
symbol = "A"
label = "低"
min = 140

[[grades]]
symbol = "B"
label = "一般"
min = 60

[[grades]]
symbol = "C"
label = "高"
min = 0

[[dimensions]]
key = "industry"
name = "行业信用评价"
weight = 150

[[indicators]]
key = "tax-good"
name = "纳税信用 A/B 级"
parent = "industry"
direction = "add"
weight = 50
basis = "《纳税信用管理办法》：A 级纳税人享受激励措施"
records = { types = ["tax-credit"], while = "any", latest = true }
kinds = { by = "field:NS_XYDJ", points = { "A" = 50, "B" = 20 } }

[[indicators]]
key = "tax-bad"
name = "纳税信用 C/D 级"
parent = "industry"
weight = 100
basis = "《纳税信用管理办法》：D 级纳税人依法实施惩戒"
records = { types = ["tax-credit"], while = "any", latest = true }
kinds = { by = "field:NS_XYDJ", points = { "D" = 100, "C" = 40 } }
"""


@pytest.fixture
def tax_settings(eval_settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "tax-credit.toml").write_text(TAX_CREDIT, encoding="utf-8")
    return eval_settings.model_copy(update={"catalog_dirs": (folder,)})


def grade(db_session, tax_settings, protector, dept, subject, level: str, year: int) -> str:  # type: ignore[no-untyped-def]
    doc_no = f"德税信〔{year}〕{subject[0][-4:]}号"
    row = {"NS_XDR_MC": subject[1], "NS_XDR_LB": "法人及非法人组织", "NS_XDR_SHXYM": subject[0], "NS_PJWH": doc_no,
           "NS_PJRQ": f"{year}-04-01", "NS_XYDJ": level, "NS_SJLY": "国家税务总局德清县税务局", "NS_SJLYDM": DEPT_CODE}  # fmt: skip
    result = records_service.import_rows(db_session, [row], settings=tax_settings, protector=protector,
                                         record_type="tax-credit", department=dept, actor="test", today=TODAY)  # fmt: skip
    assert result.created == 1, result
    return doc_no


def test_an_external_grade_type_scores_by_its_latest_level(db_session, tax_settings, protector, dept):  # type: ignore[no-untyped-def]
    improved, fallen = ef.company(31), ef.company(32)
    grade(db_session, tax_settings, protector, dept, improved, "D", 2023)
    latest = grade(db_session, tax_settings, protector, dept, improved, "A", 2025)
    grade(db_session, tax_settings, protector, dept, fallen, "B", 2024)
    fallen_doc = grade(db_session, tax_settings, protector, dept, fallen, "D", 2025)
    service.load_model_text(db_session, MODEL, actor="test", settings=tax_settings)
    run = ef.run(db_session, tax_settings, TODAY, key="with-tax")

    up = db_session.get(EvaluationScore, (run.id, ef.subject_id(db_session, improved[0])))
    down = db_session.get(EvaluationScore, (run.id, ef.subject_id(db_session, fallen[0])))
    assert (up.score, up.grade) == (150, "A")  # 100 (no C/D now) + 50 (A)
    assert (down.score, down.grade) == (0, "C")
    assert db_session.get(EvaluationPoints, (run.id, down.subject_id, "tax-bad")).points == -100
    why = explain.explain(db_session, db_session.get(Subject, up.subject_id), settings=tax_settings, today=TODAY)
    assert [(v.indicator.key, [e.doc_no for e in v.evidence]) for v in why.indicators] == [("tax-good", [latest])]
    assert why.indicators[0].evidence[0].title == "纳税信用等级"
    why = explain.explain(db_session, db_session.get(Subject, down.subject_id), settings=tax_settings, today=TODAY)
    assert why.indicators[0].evidence[0].doc_no == fallen_doc


def test_without_the_catalogue_entry_the_model_is_refused(db_session, eval_settings, dept):  # type: ignore[no-untyped-def]
    with pytest.raises(ModelInvalid) as caught:
        service.load_model_text(db_session, MODEL, actor="test", settings=eval_settings)
    assert caught.value.codes == ["unknown-record-type", "unknown-record-type"]


def test_a_loaded_version_never_changes(db_session, tax_settings, dept):  # type: ignore[no-untyped-def]
    row, created = service.load_model_text(db_session, MODEL, actor="test", settings=tax_settings)
    again, created_again = service.load_model_text(db_session, MODEL, actor="test", settings=tax_settings)
    assert created
    assert not created_again
    assert again.id == row.id
    with pytest.raises(service.ModelVersionExists) as caught:
        service.load_model_text(db_session, MODEL.replace("min = 140", "min = 130"), actor="test", settings=tax_settings)
    assert caught.value.status_code == 409
    assert "请提高版本号" in caught.value.message
    newer, _ = service.load_model_text(db_session, MODEL.replace('version = "1"', 'version = "2"'), actor="test",
                                       settings=tax_settings)  # fmt: skip
    assert service.pick_model(db_session, "with-tax").id == newer.id
    assert service.pick_model(db_session, "with-tax", "1").id == row.id
