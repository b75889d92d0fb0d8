"""Reading batches and their problems (the console, the API, the problems CSV)."""


from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.departments.models import Department
from xinyong.errors import NotFound
from xinyong.records.batches import mark_stale_batches
from xinyong.records.models import (
    Batch,
    BatchProblem,
)

# ----------------------------------------------------------------------------------- batches & records


def get_batch(session: Session, batch_id: int, *, department: Department | None = None) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or (department is not None and batch.department_id != department.id):
        raise NotFound(what=f"导入批次 {batch_id}")
    return batch


def list_batches(session: Session, *, department: Department | None = None, limit: int = 50) -> list[Batch]:
    mark_stale_batches(session)
    query = select(Batch).order_by(Batch.id.desc()).limit(limit)
    if department is not None:
        query = query.where(Batch.department_id == department.id)
    return list(session.scalars(query))


def problem_page(session: Session, batch_id: int, *, page: int, size: int) -> tuple[list[BatchProblem], int, int]:
    """One page of a batch's stored problems in report order, with the page number (moved into range) and
    the number of problems stored."""
    total = session.scalar(
        select(func.count()).select_from(BatchProblem).where(BatchProblem.batch_id == batch_id)
    ) or 0
    page = max(1, min(page, -(-total // size)))
    query = (
        select(BatchProblem).where(BatchProblem.batch_id == batch_id).order_by(BatchProblem.row, BatchProblem.id)
        .offset((page - 1) * size).limit(size)
    )  # fmt: skip
    return list(session.scalars(query)), page, total


def iter_problems(session: Session, batch_id: int, *, severity: str | None = None) -> Iterator[BatchProblem]:
    query = select(BatchProblem).where(BatchProblem.batch_id == batch_id).order_by(BatchProblem.row, BatchProblem.id)
    if severity is not None:
        query = query.where(BatchProblem.severity == severity)
    yield from session.scalars(query.execution_options(yield_per=2000))
