"""Ten rows of one department's penalty file, reported on a known day: 3 rejected, 2 late, 5 on time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session
from tests.factories import records as rf

from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.service import ImportResult

TODAY = date(2025, 10, 20)
REPORTED = date(2025, 10, 15)  # the deadline of a decision of 2025-09-29: on time
LATE_DECISION = "2025-09-01"  # deadline 2025-09-10: reported on 10-15, late


@dataclass
class TenRows:
    result: ImportResult
    rejected_docs: list[str]
    late_docs: list[str]


def import_ten_rows(session: Session, settings: Settings, protector: Protector, department: Department,
                    *, reported_on: date = REPORTED) -> TenRows:  # fmt: skip
    """10 rows reported on `reported_on` (that day's import: a department cannot choose its reporting date):
    3 rejected (a bad code, no 处罚依据, a future decision), 2 late, 5 on time."""
    late = [rf.penalty_row(CF_JDRQ=LATE_DECISION) for _ in range(2)]
    rejected = [rf.penalty_row(CF_XDR_SHXYM="91330521MA0000000X"), rf.penalty_row(CF_YJ=""),
                rf.penalty_row(CF_JDRQ="2025-12-01")]  # fmt: skip
    good = [rf.penalty_row() for _ in range(5)]
    rows = [good[0], rejected[0], late[0], good[1], rejected[1], good[2], late[1], good[3], rejected[2], good[4]]
    result = records_service.import_rows(session, rows, settings=settings, protector=protector, record_type="penalty",
                                         department=department, actor="test", today=reported_on)
    assert (result.rows, result.rejected, result.late) == (10, 3, 2), result
    return TenRows(result, [r["CF_WSH"] for r in rejected], [r["CF_WSH"] for r in late])
