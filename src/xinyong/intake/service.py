"""部门目录清单: what each department must report and how often, kept by the 信用办; and the measures monitoring
takes against it (types due in a month, and which of them the department reported)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.catalog import load_catalog
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments.models import Department
from xinyong.errors import NotFound, PermissionDenied
from xinyong.intake import rules
from xinyong.intake.models import DepartmentDuty
from xinyong.records.models import Batch, BatchStatus

# Batches that count as reported: a file refused whole (failed) did not report anything.
REPORTED = (BatchStatus.COMPLETED, BatchStatus.INCOMPLETE)


def _ensure(actor: Actor, permission: Permission) -> None:
    if not actor.can(permission):
        raise PermissionDenied("只有信用办可以维护部门目录清单")


@dataclass(frozen=True)
class DutyRow:
    id: int
    department_id: int
    department: str
    record_type: str
    type_name: str
    frequency: str
    frequency_label: str
    set_by: str


def duties(session: Session, settings: Settings, *, actor: Actor | None = None,
           department_id: int | None = None) -> list[DutyRow]:  # fmt: skip
    """The department catalogue, by department and catalogue order; a department-bound actor sees its own."""
    if actor is not None and actor.is_department_bound:
        department_id = actor.department_id
    catalog = load_catalog(settings.catalog_dirs)
    order = {key: i for i, key in enumerate(catalog.types)}
    query = select(DepartmentDuty, Department.name).join(Department, Department.id == DepartmentDuty.department_id)
    if department_id is not None:
        query = query.where(DepartmentDuty.department_id == department_id)
    clause = actor.reach(DepartmentDuty.department_id) if actor is not None else None  # a county: its departments
    if clause is not None:
        query = query.where(clause)
    rows = [
        DutyRow(d.id, d.department_id, name, d.record_type,
                catalog.types[d.record_type].name if d.record_type in catalog.types else f"{d.record_type}（目录中已无此类别）",
                d.frequency, rules.FREQUENCIES.get(d.frequency, d.frequency), d.set_by)
        for d, name in session.execute(query)
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (r.department, order.get(r.record_type, len(order))))


def set_duty(session: Session, actor: Actor, *, settings: Settings, department_id: int, record_type: str,
             frequency: str | None = None) -> DepartmentDuty:  # fmt: skip
    """Add a type to a department's catalogue, or change its frequency (default: 双公示 within 7 working days,
    others monthly). Audited."""
    _ensure(actor, Permission.DUTIES_WRITE)
    department = session.get(Department, department_id)
    if department is None or not actor.can_reach(department.id):  # a county keeps its own departments' catalogues
        raise NotFound(what="该部门")
    rtype = load_catalog(settings.catalog_dirs).get(record_type.strip())
    chosen = rules.check_frequency(frequency) if frequency else rules.default_frequency(rtype)
    duty = session.scalar(select(DepartmentDuty).where(DepartmentDuty.department_id == department.id,
                                                       DepartmentDuty.record_type == rtype.key))  # fmt: skip
    if duty is None:
        duty = DepartmentDuty(department_id=department.id, record_type=rtype.key, frequency=chosen, set_by=actor.label)
        session.add(duty)
    else:
        duty.frequency, duty.set_by, duty.updated_at = chosen, actor.label, utcnow()
    session.flush()
    audit.record(session, AuditAction.DEPARTMENT_DUTY_SET, actor=actor, department_id=department.id,
                 target=f"department:{department.id}", details={"record_type": rtype.key, "frequency": chosen})  # fmt: skip
    return duty


def remove_duty(session: Session, actor: Actor, *, duty_id: int) -> None:
    _ensure(actor, Permission.DUTIES_WRITE)
    duty = session.get(DepartmentDuty, duty_id)
    if duty is None or not actor.can_reach(duty.department_id):
        raise NotFound(what="该目录清单条目")
    audit.record(session, AuditAction.DEPARTMENT_DUTY_REMOVED, actor=actor, department_id=duty.department_id,
                 target=f"department:{duty.department_id}", details={"record_type": duty.record_type,
                                                                      "frequency": duty.frequency})  # fmt: skip
    session.delete(duty)
    session.flush()


# ------------------------------------------------------------------------------------------ monitoring


@dataclass(frozen=True)
class Due:
    department_id: int
    record_type: str
    frequency: str
    period: tuple[date, date]
    reported: bool


def due_in_month(session: Session, *, start: date, department_id: int | None = None) -> list[Due]:
    """Every duty due in the month starting `start`, and whether a batch of that type was reported in its period."""
    query = select(DepartmentDuty)
    if department_id is not None:
        query = query.where(DepartmentDuty.department_id == department_id)
    found: list[Due] = []
    for duty in session.scalars(query.order_by(DepartmentDuty.department_id, DepartmentDuty.id)):
        period = rules.period_of(duty.frequency, start)
        if period is None:
            continue
        reported = session.scalar(
            select(func.count()).select_from(Batch).where(
                Batch.department_id == duty.department_id, Batch.record_type == duty.record_type,
                Batch.reported_on >= period[0], Batch.reported_on <= period[1], Batch.status.in_(REPORTED))
        )  # fmt: skip
        found.append(Due(duty.department_id, duty.record_type, duty.frequency, period, bool(reported)))
    return found


def catalogue_measures(session: Session, *, start: date, **_: Any) -> dict[int | None, dict[str, int]]:
    """The monitoring source `department-catalogue`: per department, the types due this month (types_expected)
    and how many of them it reported in their period (types_reported)."""
    result: dict[int | None, dict[str, int]] = {}
    for due in due_in_month(session, start=start):
        counts = result.setdefault(due.department_id, {"types_expected": 0, "types_reported": 0})
        counts["types_expected"] += 1
        counts["types_reported"] += int(due.reported)
    return result
