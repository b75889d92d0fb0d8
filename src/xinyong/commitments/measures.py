"""The monitoring source `commitments` (信用承诺): per accepting department and month, the verification tasks of
告知承诺 due in the month and how many of them were verified by their deadline, and the tasks behind those figures.

A task counts in the month its deadline (`due_on`, the N-th working day after the commitment was made) falls in,
whether it has been verified or not: an open task due in the month counts as due and not on time. It is verified
on time when its finding (核查属实 or 承诺不实, or a 履行状态认定 that answered it) was recorded on or before its
deadline; the finding itself does not matter here. Only tasks the platform has created are counted: they are
created daily by `xinyong commitments tasks` (and when a department opens its verification page), long before
they fall due. Nothing here writes."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from xinyong.commitments.models import TaskStatus, VerificationTask

DUE = "commitments_due"
ON_TIME = "commitments_verified_on_time"


def _due_in(start: date, end: date) -> Any:
    return and_(VerificationTask.due_on >= start, VerificationTask.due_on <= end)


def _on_time() -> Any:
    return and_(VerificationTask.status != TaskStatus.OPEN.value, VerificationTask.verified_on.is_not(None),
                VerificationTask.verified_on <= VerificationTask.due_on)  # fmt: skip


def monitoring_measures(session: Session, *, start: date, end: date, **_: Any) -> dict[int | None, dict[str, int]]:
    """Per accepting department: the verification tasks due from `start` to `end` (inclusive) and those of them
    verified on or before their deadline."""
    rows = session.execute(
        select(VerificationTask.department_id, func.count(), func.count().filter(_on_time()))
        .where(_due_in(start, end))
        .group_by(VerificationTask.department_id)
    )  # fmt: skip
    return {department_id: {DUE: int(due), ON_TIME: int(on_time or 0)} for department_id, due, on_time in rows}


def due_tasks(session: Session, *, department_id: int, start: date, end: date, limit: int | None = None
              ) -> list[VerificationTask]:  # fmt: skip
    """The department's tasks due from `start` to `end`, the ones not verified on time first, by deadline."""
    query = (select(VerificationTask)
             .where(VerificationTask.department_id == department_id, _due_in(start, end))
             .order_by(_on_time(), VerificationTask.due_on, VerificationTask.id))  # fmt: skip
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))
