"""A new record type is a catalogue file, not code: declare it, then import it like the built-in ones."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from tests.factories import records as factories

from xinyong.catalog import load_catalog
from xinyong.catalog.schema import CatalogError, parse_record_type
from xinyong.records import service
from xinyong.records.models import Record

HONOUR = """
key = "honour"
name = "表彰奖励"
prefix = "BZ_"
legal_basis = "《某省社会信用条例》第十五条"
sensitivity = "public"

[[fields]]
code = "BZ_XDR_MC"
title = "主体名称"
kind = "text"
role = "subject_name"
required = true

[[fields]]
code = "BZ_XDR_LB"
title = "主体类别"
kind = "enum"
values = ["法人及非法人组织", "自然人", "个体工商户"]
role = "subject_kind"
required = true

[[fields]]
code = "BZ_XDR_SHXYM"
title = "统一社会信用代码"
kind = "uscc"
role = "uscc"
required = true

[[fields]]
code = "BZ_WSH"
title = "表彰文号"
kind = "text"
role = "doc_no"
required = true

[[fields]]
code = "BZ_MC"
title = "荣誉名称"
kind = "text"
max_length = 100
required = true

[[fields]]
code = "BZ_RQ"
title = "表彰日期"
kind = "date"
role = "decision_date"
required = true

[[fields]]
code = "BZ_LYDWDM"
title = "数据来源单位统一社会信用代码"
kind = "uscc"
role = "source_code"
required = true
"""


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "catalog"
    directory.mkdir()
    (directory / "honour.toml").write_text(HONOUR, encoding="utf-8")
    return directory


def test_a_declared_type_imports_through_the_same_pipeline(db_session, settings, protector, catalog_dir):
    settings = settings.model_copy(update={"catalog_dirs": (catalog_dir,)})
    dept = factories.department(db_session)
    rows = [
        {"主体名称": "安吉县表彰测试有限公司", "主体类别": "法人及非法人组织", "统一社会信用代码": factories.company_code(901),
         "表彰文号": "安政〔2025〕8号", "荣誉名称": "守合同重信用企业", "表彰日期": "2025-09-29",
         "数据来源单位统一社会信用代码": dept.code},
        {"主体名称": "安吉县表彰测试二号有限公司", "主体类别": "法人及非法人组织", "统一社会信用代码": "91330521MA2B00000X",
         "表彰文号": "安政〔2025〕9号", "荣誉名称": "", "表彰日期": "2025-09-29",
         "数据来源单位统一社会信用代码": dept.code},
    ]  # fmt: skip
    result = service.import_rows(
        db_session, rows, settings=settings, protector=protector, record_type="honour", department=dept,
        actor="test", reported_on=date(2025, 10, 9), today=date(2025, 10, 9),
    )  # fmt: skip
    assert (result.created, result.rejected) == (1, 1)
    codes = {(p.row, p.column, p.code) for p in service.iter_problems(db_session, result.batch_id)}
    assert (2, "BZ_MC", "required") in codes
    record = db_session.query(Record).filter_by(record_type="honour").one()
    assert record.payload["BZ_MC"] == "守合同重信用企业"
    assert record.publish_until is None  # not a negative type: no publication end


def test_the_built_in_types_are_always_there(catalog_dir):
    catalog = load_catalog((catalog_dir,))
    assert {"license", "penalty", "honour"} <= set(catalog.types)


@pytest.mark.parametrize(
    ("mutation", "reason"),
    [
        (lambda t: t.replace('legal_basis = "《某省社会信用条例》第十五条"', 'legal_basis = ""'), "依据"),
        (lambda t: t.replace('role = "doc_no"\n', ""), "doc_no"),
        (lambda t: t.replace('kind = "date"', 'kind = "datetime"'), "未知的字段类型"),
        (lambda t: t.replace('role = "subject_kind"', 'role = "subject_name"'), "同一角色"),
    ],
)
def test_a_type_without_basis_or_with_bad_fields_is_refused(mutation, reason):
    import tomllib

    with pytest.raises(CatalogError) as raised:
        parse_record_type(tomllib.loads(mutation(HONOUR)), "honour.toml")
    assert reason in raised.value.message
