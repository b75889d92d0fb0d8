"""Builders for random-inspection tests: a population graded A, B, C and D by the built-in model (through the
real pipeline and a real run), two of them in a special domain, and a department's inspectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.factories import records as rf

from xinyong.actors import Actor
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.evaluation.models import EvaluationRun
from xinyong.inspections import roster
from xinyong.inspections.models import Inspector
from xinyong.protect import Protector
from xinyong.records import service as records_service

TODAY = date(2025, 10, 20)
SYSTEM = Actor.system("test")


@dataclass
class Graded:
    dept: Department
    other: Department
    run: EvaluationRun
    by_grade: dict[str, list[str]]  # grade → USCCs
    special: list[str]
    inspectors: list[Inspector]


def _import(session: Session, settings: Settings, protector: Protector, dept: Department, record_type: str,
            rows: list[dict[str, str]]) -> None:  # fmt: skip
    result = records_service.import_rows(session, rows, settings=settings, protector=protector, record_type=record_type,
                                         department=dept, actor="test", today=TODAY)  # fmt: skip
    assert result.created == len(rows), result


def build(session: Session, settings: Settings, protector: Protector, *, a: int = 60, b: int = 40, c: int = 5,
          d: int = 3, departments: tuple[Department, Department] | None = None) -> Graded:  # fmt: skip
    """The population, its records dated before TODAY and graded by a run as of TODAY."""
    dept, other = departments or (rf.department(session), rf.department(session, code=rf.OTHER_DEPT_CODE,
                                                                         name="德清县交通运输局"))  # fmt: skip
    lf.load_types(session, dept)
    ef.load_builtin_model(session, settings)
    by_grade: dict[str, list[str]] = {"A": [], "B": [], "C": [], "D": []}
    licences, penalties = [], []
    for n in range(a + 2):
        code, name = ef.company(100 + n)
        certificate = "药品经营许可证" if n >= a else "食品经营许可证"
        licences.append(rf.license_row(XK_XDR_MC=name, XK_XDR_SHXYM=code, XK_XKZS=certificate, XK_JDRQ="2025-03-01",
                                       XK_YXQZ="2025-03-01", XK_YXQZI="2030-02-28"))  # fmt: skip
        (by_grade["A"] if n < a else by_grade.setdefault("special", [])).append(code)
    for n in range(b + c + d):
        code, name = ef.company(300 + n)
        serious = b <= n < b + c
        penalties.append(rf.penalty_row(CF_XDR_MC=name, CF_XDR_SHXYM=code, CF_JDRQ="2025-09-01",
                                        CF_CFLB="吊销许可证件" if serious else "罚款", CF_NR_FK="" if serious else "0.2"))  # fmt: skip
        by_grade["C" if serious else "D" if n >= b + c else "B"].append(code)
    _import(session, settings, protector, dept, "license", licences)
    _import(session, settings, protector, dept, "penalty", penalties)
    for code in by_grade["D"]:
        lf.listed(session, settings, protector, dept, code, today=TODAY)
    run = ef.run(session, settings, TODAY)
    special = by_grade.pop("special")
    inspectors = [roster.add_inspector(session, department=dept, name=name, badge_no=f"ZF3305{n:04d}", actor=SYSTEM)
                  for n, name in enumerate(("张明", "李华", "王芳", "赵强"), start=1)]  # fmt: skip
    roster.add_inspector(session, department=other, name="钱进", badge_no="JT33050001", actor=SYSTEM)
    session.commit()
    return Graded(dept, other, run, by_grade, special, inspectors)
