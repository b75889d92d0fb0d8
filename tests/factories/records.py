"""Builders of departments and record rows for tests: valid by default, one keyword away from a defect."""

from __future__ import annotations

import csv
import itertools
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from xinyong.codes import make_uscc
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department

_counter = itertools.count(1)

DEPT_CODE = make_uscc("1", "1", "330521", "00000001")
OTHER_DEPT_CODE = make_uscc("1", "1", "330521", "00000002")


def company_code(n: int) -> str:
    return make_uscc("9", "1", "330521", f"{10000000 + n:08d}")


def individual_code(n: int) -> str:
    return make_uscc("9", "2", "330521", f"{20000000 + n:08d}")


def department(session: Session, code: str = DEPT_CODE, name: str = "安吉县市场监督管理局") -> Department:
    return departments_service.add_department(session, code=code, name=name)


def penalty_row(**overrides: str) -> dict[str, str]:
    n = next(_counter)
    row = {
        "CF_XDR_MC": f"安吉县测试{n}号科技有限公司",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": company_code(n),
        "CF_FRDB": "张三",
        "CF_WSH": f"安市监罚〔2025〕{n}号",
        "CF_WFXW": "未按规定公示年度报告",
        "CF_SY": "经查，当事人未按规定公示年度报告。",
        "CF_YJ": "《企业信息公示暂行条例》第十八条",
        "CF_CFLB": "警告;罚款",
        "CF_NR": "警告，罚款人民币贰仟元整",
        "CF_NR_FK": "0.2",
        "CF_JDRQ": "2025-09-29",
        "CF_CFJG": "安吉县市场监督管理局",
        "CF_CFJGDM": DEPT_CODE,
        "CF_SJLY": "安吉县市场监督管理局",
        "CF_SJLYDM": DEPT_CODE,
    }
    row.update(overrides)
    return row


def license_row(**overrides: str) -> dict[str, str]:
    n = next(_counter)
    row = {
        "XK_XDR_MC": f"安吉县许可{n}号食品有限公司",
        "XK_XDR_LB": "法人及非法人组织",
        "XK_XDR_SHXYM": company_code(5000 + n),
        "XK_XKWS": "食品经营许可决定书",
        "XK_WSH": f"安市监许〔2025〕{n}号",
        "XK_XKLB": "普通",
        "XK_NR": "食品经营许可",
        "XK_JDRQ": "2025-09-29",
        "XK_YXQZ": "2025-09-29",
        "XK_YXQZI": "2030-09-28",
        "XK_XKJG": "安吉县市场监督管理局",
        "XK_XKJGDM": DEPT_CODE,
        "XK_LYDW": "安吉县市场监督管理局",
        "XK_LYDWDM": DEPT_CODE,
    }
    row.update(overrides)
    return row


def write_rows(path: Path, rows: list[dict[str, str]], *, encoding: str = "utf-8") -> Path:
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


TODAY = date(2025, 10, 20)
ON_TIME = date(2025, 10, 15)  # a report within 7 working days of the decisions dated around it
