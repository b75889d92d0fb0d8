"""Record types declared only in catalogue files, as an operator writes them under XINYONG_CATALOG_DIRS, and rows of
them: valid by default, one keyword away from a defect."""

from __future__ import annotations

import csv
import itertools
from datetime import date
from pathlib import Path

from tests.factories.records import DEPT_CODE, company_code

from xinyong.catalog import RecordType
from xinyong.codes import make_id_number

_counter = itertools.count(1)

# 行政强制: negative, published by tier, with its own codes, a protected field, a field kept from the public and a
# declared presentation.
ENFORCEMENT = """
key = "enforcement"
name = "行政强制"
prefix = "QZ_"
legal_basis = "《中华人民共和国行政强制法》第二十四条；《某省公共信用信息管理条例》第十二条"
description = "行政强制措施决定信息。"
negative = true
publication = "社会公开"

[portal]
tab = "行政强制"
order = 30
summary = ["QZ_SY", "role:categories"]
export = ["role:categories", "QZ_SY", "QZ_CCMC"]
filter = "role:categories"

[publicity]
mode = "tiered"
default_tier = "一般"
tiers = [{ tier = "严重", categories_any = ["冻结", "限制人身自由"] }]
min_months = { "一般" = 3, "严重" = 12 }
max_months = { "一般" = 6, "严重" = 24 }

[[fields]]
code = "QZ_DSR"
title = "当事人名称"
kind = "text"
role = "subject_name"
required = true

[[fields]]
code = "QZ_DSRLB"
title = "当事人类别"
kind = "enum"
values = ["法人及非法人组织", "自然人", "个体工商户"]
role = "subject_kind"
required = true

[[fields]]
code = "QZ_TYDM"
title = "当事人统一社会信用代码"
kind = "uscc"
role = "uscc"
required_if = { field = "QZ_DSRLB", in = ["法人及非法人组织", "个体工商户"] }

[[fields]]
code = "QZ_FZRZJLX"
title = "负责人证件类型"
kind = "text"

[[fields]]
code = "QZ_FZRZJHM"
title = "负责人证件号码"
kind = "id_number"
type_field = "QZ_FZRZJLX"
protected = true

[[fields]]
code = "QZ_JDSH"
title = "强制措施决定书文号"
kind = "text"
role = "doc_no"
required = true

[[fields]]
code = "QZ_SY"
title = "实施强制措施的理由"
kind = "text"
max_length = 2000
required = true

[[fields]]
code = "QZ_LB"
title = "强制措施类别"
kind = "multi_enum"
# 行政强制法 art. 9, shortened: a multi-value field splits values on 、 as on ;
values = ["限制人身自由", "查封", "扣押", "冻结", "其他"]
role = "categories"
required = true

[[fields]]
code = "QZ_CCMC"
title = "查封扣押财物名称"
kind = "text"

[[fields]]
code = "QZ_CBR"
title = "承办人"
kind = "text"
public = false

[[fields]]
code = "QZ_JDRQ"
title = "强制措施决定日期"
kind = "date"
role = "decision_date"
required = true

[[fields]]
code = "QZ_JG"
title = "实施机关"
kind = "text"
role = "authority_name"

[[fields]]
code = "QZ_LYDM"
title = "数据来源单位统一社会信用代码"
kind = "uscc"
role = "source_code"
required = true
"""

# 表彰奖励: positive, published without end, declared without any presentation (every default derived from roles).
HONOUR = """
key = "honour"
name = "表彰奖励"
prefix = "BZ_"
legal_basis = "《某省社会信用条例》第十五条"
sensitivity = "public"
positive = true

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

# 欠缴社保: shared between departments only (政务共享): never on a public surface, but in credit checks.
ARREARS = """
key = "arrears"
name = "欠缴社会保险费"
prefix = "QJ_"
legal_basis = "《中华人民共和国社会保险法》第八十六条"
negative = true
publication = "政务共享"

[publicity]
mode = "tiered"
default_tier = "一般"
min_months = { "一般" = 3 }
max_months = { "一般" = 12 }

[[fields]]
code = "QJ_MC"
title = "单位名称"
kind = "text"
role = "subject_name"
required = true

[[fields]]
code = "QJ_LB"
title = "单位类别"
kind = "enum"
values = ["法人及非法人组织", "个体工商户"]
role = "subject_kind"
required = true

[[fields]]
code = "QJ_DM"
title = "统一社会信用代码"
kind = "uscc"
role = "uscc"
required = true

[[fields]]
code = "QJ_WSH"
title = "催缴文书号"
kind = "text"
role = "doc_no"
required = true

[[fields]]
code = "QJ_JE"
title = "欠缴金额（万元）"
kind = "decimal"
required = true

[[fields]]
code = "QJ_RQ"
title = "认定日期"
kind = "date"
role = "decision_date"
required = true

[[fields]]
code = "QJ_LYDM"
title = "数据来源单位统一社会信用代码"
kind = "uscc"
role = "source_code"
required = true
"""

TYPES = {"enforcement": ENFORCEMENT, "honour": HONOUR, "arrears": ARREARS}


def write_catalog(directory: Path, *keys: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for key in keys or tuple(TYPES):
        (directory / f"{key}.toml").write_text(TYPES[key], encoding="utf-8")
    return directory


def enforcement_row(**overrides: str) -> dict[str, str]:
    n = next(_counter)
    row = {
        "QZ_DSR": f"安吉县强制{n}号竹木有限公司",
        "QZ_DSRLB": "法人及非法人组织",
        "QZ_TYDM": company_code(80000 + n),
        "QZ_FZRZJLX": "身份证",
        "QZ_FZRZJHM": make_id_number("330523", date(1975, 3, 8), f"{n % 1000:03d}"),
        "QZ_JDSH": f"安市监强〔2025〕{n}号",
        "QZ_SY": "涉嫌生产不符合安全标准的产品",
        "QZ_LB": "查封",
        "QZ_CCMC": "竹制砧板 300 件",
        "QZ_CBR": "李承办",
        "QZ_JDRQ": "2025-09-29",
        "QZ_JG": "安吉县市场监督管理局",
        "QZ_LYDM": DEPT_CODE,
    }
    row.update(overrides)
    return row


def honour_row(**overrides: str) -> dict[str, str]:
    n = next(_counter)
    row = {
        "BZ_XDR_MC": f"安吉县表彰{n}号有限公司",
        "BZ_XDR_LB": "法人及非法人组织",
        "BZ_XDR_SHXYM": company_code(85000 + n),
        "BZ_WSH": f"安政〔2025〕{n}号",
        "BZ_MC": "守合同重信用企业",
        "BZ_RQ": "2025-09-29",
        "BZ_LYDWDM": DEPT_CODE,
    }
    row.update(overrides)
    return row


def arrears_row(**overrides: str) -> dict[str, str]:
    n = next(_counter)
    row = {
        "QJ_MC": f"安吉县欠缴{n}号有限公司",
        "QJ_LB": "法人及非法人组织",
        "QJ_DM": company_code(88000 + n),
        "QJ_WSH": f"安社保催〔2025〕{n}号",
        "QJ_JE": "1.5",
        "QJ_RQ": "2025-09-29",
        "QJ_LYDM": DEPT_CODE,
    }
    row.update(overrides)
    return row


# ------------------------------------------------------------------------------------- sample rows of any type


def sample_row(rtype: RecordType, n: int | None = None, *, decision: str = "2025-09-29") -> dict[str, str]:
    """A valid row of any catalogue type, built from its declaration: an organisation as the subject, the first
    value of each value set (not a warning), a date for each date, the test department as the source. Keyed by column code."""
    n = next(_counter) if n is None else n
    row: dict[str, str] = {}
    for spec in rtype.fields:
        if spec.kind.startswith("legacy:") or spec.kind == "id_number" or spec.role == "id_type" or spec.protected:
            continue
        if spec.role == "subject_name":
            value = f"日照市样例{n}号{rtype.name}有限公司"
        elif spec.role == "subject_kind":
            value = "法人及非法人组织"
        elif spec.role == "uscc":
            value = company_code(60000 + n)
        elif spec.kind == "uscc":
            value = DEPT_CODE
        elif spec.role == "doc_no":
            value = f"日照样例〔2025〕{rtype.prefix.rstrip('_')}{n}号"
        elif spec.role == "decision_date" or spec.role == "valid_from":
            value = decision
        elif spec.kind == "date":
            value = "2026-12-31" if spec.future_allowed else decision
        elif spec.kind == "decimal":
            value = "1.5"
        elif spec.kind in ("enum", "multi_enum"):
            # Warning-only penalties are not published by default (disclosure settings): a sample is published.
            value = next(v for v in spec.values if v not in ("警告", "通报批评"))
        elif spec.max_length is not None and spec.max_length < 10:
            value = "2025-09"[: spec.max_length]
        else:
            value = f"样例{spec.title}"[: spec.max_length or 200]
        row[spec.code] = value
    return row


def write_sample_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    """A department's CSV file of the rows (header: the column codes of the first row)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
