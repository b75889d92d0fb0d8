"""Builders of commitment rows (信用承诺) for tests: valid by default, one keyword away from a defect."""

from __future__ import annotations

import itertools
from datetime import date

from tests.factories.records import DEPT_CODE, company_code

_counter = itertools.count(1)
REGION = "330521"


def commitment_code(made_on: date, serial: int | None = None, region: str = REGION) -> str:
    return f"{region}{made_on:%Y%m%d}{(serial if serial is not None else next(_counter)):06d}"


def commitment_row(made_on: date, *, n: int | None = None, **overrides: str) -> dict[str, str]:
    """A row keyed by the Chinese headers of the national template, as a department's file has them."""
    n = n if n is not None else next(_counter)
    row = {
        "承诺编码": commitment_code(made_on, 100000 + n),
        "承诺人名称": f"安吉县承诺{n}号科技有限公司",
        "承诺人类别": "法人及非法人组织",
        "统一社会信用代码": company_code(7000 + n),
        "承诺类型": "证明事项告知承诺型",
        "承诺事由": "食品经营许可",
        "承诺内容": "所填写的经营场所信息真实、准确。",
        "违诺责任": "承诺不实的，撤销许可决定并记入信用记录。",
        "承诺作出日期": made_on.isoformat(),
        "承诺有效期至": date(made_on.year + 1, made_on.month, min(made_on.day, 28)).isoformat(),
        "承诺履行状态": "履行中",
        "承诺受理单位": "安吉县市场监督管理局",
        "承诺受理单位统一社会信用代码": DEPT_CODE,
        "公开类型": "可向社会公开",
        "数据来源单位": "安吉县市场监督管理局",
        "数据来源单位统一社会信用代码": DEPT_CODE,
    }
    row.update(overrides)
    return row
