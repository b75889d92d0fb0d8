"""Reading back what the ingestion pipeline stored, and building XLSX uploads."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.departments.models import Department
from xinyong.records import service
from xinyong.records.models import Batch, Record


def write_xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(c, "") for c in columns])
    book.save(path)
    return path


def problems(
    session: Session, batch_id: int, severity: str | None = None
) -> list[tuple[int, str | None, str]]:
    return [(p.row, p.column, p.code) for p in service.iter_problems(session, batch_id, severity=severity)]


def errors(session: Session, batch_id: int) -> list[tuple[int, str | None, str]]:
    return problems(session, batch_id, "error")


def warnings(session: Session, batch_id: int) -> list[tuple[int, str | None, str]]:
    return problems(session, batch_id, "warning")


def record_count(session: Session, department: Department | None = None) -> int:
    query = select(func.count()).select_from(Record)
    if department is not None:
        query = query.where(Record.department_id == department.id)
    return session.scalar(query) or 0


def batch(session: Session, batch_id: int) -> Batch:
    found = session.get(Batch, batch_id)
    assert found is not None
    session.refresh(found)
    return found
