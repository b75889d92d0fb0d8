"""Reading batches and their problems (the console, the API, the problems CSV)."""


from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from xinyong.actors import Actor
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import NotFound
from xinyong.records.batches import mark_stale_batches
from xinyong.records.models import (
    Batch,
    BatchProblem,
    Record,
)
from xinyong.subjects.models import Subject

# ----------------------------------------------------------------------------------- batches & records


def get_batch(session: Session, batch_id: int, *, department: Department | None = None) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or (department is not None and batch.department_id != department.id):
        raise NotFound(what=f"导入批次 {batch_id}")
    return batch


def list_batches(session: Session, *, department: Department | None = None, limit: int = 50,
                 within: ColumnElement[bool] | None = None) -> list[Batch]:  # fmt: skip
    """The latest batches, of one department or of all; `within`: an actor's data scope (`Actor.reach`)."""
    mark_stale_batches(session)
    query = select(Batch).order_by(Batch.id.desc()).limit(limit)
    if department is not None:
        query = query.where(Batch.department_id == department.id)
    if within is not None:
        query = query.where(within)
    return list(session.scalars(query))


def visible_subjects(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """For a county's account, the condition on `subjects` of those it may look up in the console (None: every
    subject): those with a record made inside its region, and those with no record at all. A name and a code are
    public, but a subject whose records are all another county's is that county's. A department's account looks
    up the subjects of its department's county (its own records are checked where they matter: revealing)."""
    clause: ColumnElement[bool] | None
    if actor.is_department_bound:
        county = departments_service.region_scope(session, actor.region)
        if county is None:
            return None
        clause = county.clause(Record.department_id, Record.created_at)
    else:
        clause = actor.reach(Record.department_id, Record.created_at)
    if clause is None:
        return None
    return or_(exists().where(Record.subject_id == Subject.id, clause),
               ~exists().where(Record.subject_id == Subject.id))  # fmt: skip


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
