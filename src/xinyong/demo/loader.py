"""Loads generated demo data through the real ingestion pipeline, so demo and benchmark data are exactly
what departments' files would produce."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Actor
from xinyong.config import Settings
from xinyong.demo import generator
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.lists import service as lists_service
from xinyong.measures import service as measures_service
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import BatchSource

LICENSE_SHARE = 0.4  # the rest are penalties
# Who decides each built-in list type among the demo departments (generator profile keys; 谁认定、谁列入).
DEMO_DECIDERS = {
    "honor": ("market", "tax"),
    "serious-dishonesty": ("market",),
    "watch": ("market", "environment", "transport", "housing", "emergency", "health"),
    "major-tax-dishonesty": ("tax",),
}


@dataclass
class DemoSummary:
    departments: list[tuple[str, str]] = field(default_factory=list)
    batches: list[records_service.ImportResult] = field(default_factory=list)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # (username, password, role)

    @property
    def created(self) -> int:
        return sum(b.created for b in self.batches)

    @property
    def rejected(self) -> int:
        return sum(b.rejected for b in self.batches)


def _cells(
    produced: Iterator[tuple[dict[str, str], date, str | None]], columns: tuple[str, ...] | list[str]
) -> Iterator[tuple[int, list[str], date]]:
    for number, (row, reported_on, _defect) in enumerate(produced, start=2):
        yield number, [row.get(c, "") for c in columns], reported_on


def _register(session: Session, department: generator.Department) -> Department:
    existing = session.scalar(select(Department).where(Department.code == department.code))
    if existing is not None:
        return existing
    return departments_service.add_department(session, code=department.code, name=department.name)


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def load_demo(
    session: Session,
    *,
    settings: Settings,
    protector: Protector,
    subjects: int,
    records: int,
    seed: int,
    today: date | None = None,
    late_share: float = 0.05,
    malformed_share: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    today = today or clock.today()
    rng = random.Random(seed)
    departments = generator.generate_departments(rng)
    summary = DemoSummary()
    registered = {}
    for dept in departments:
        registered[dept.code] = _register(session, dept)
        summary.departments.append((dept.code, dept.name))
    summary.accounts = auth_service.create_demo_accounts(
        session, [registered[d.code] for d in departments], settings=settings
    )
    # The built-in list types and the sample measure list, so that checks have something to apply.
    system = Actor.system("demo")
    lists_service.load_types_file(session, lists_service.BUILTIN_TYPES, actor=system)
    for type_key, keys in DEMO_DECIDERS.items():
        if not lists_service.get_type(session, type_key).deciding_departments:  # never over what an operator set
            codes = [d.code for d in departments if d.key in keys]
            lists_service.set_deciding_departments(session, type_key, codes=codes, actor=system)
    if not measures_service.current_measures(session):
        measures_service.load_measures_file(session, measures_service.DEFAULT_MEASURES, actor=system,
                                            settings=settings)  # fmt: skip
    session.commit()
    pool = list(generator.generate_subjects(subjects, rng))
    plans: list[tuple[str, generator.Department, int]] = []
    licensing = [d for d in departments if generator.decides(d, "license")]
    penalising = [d for d in departments if generator.decides(d, "penalty")]
    licences = round(records * LICENSE_SHARE)
    plans += [("license", d, n) for d, n in zip(licensing, _split(licences, len(licensing)), strict=True)]
    plans += [("penalty", d, n) for d, n in zip(penalising, _split(records - licences, len(penalising)), strict=True)]
    for record_type, dept, count in plans:
        if count == 0:
            continue
        make = generator.license_rows if record_type == "license" else generator.penalty_rows
        columns = generator.LICENSE_COLUMNS if record_type == "license" else generator.PENALTY_COLUMNS
        produced = make(pool, departments, count, rng, today=today, late_share=late_share,
                        malformed_share=malformed_share, department=dept)  # fmt: skip

        result = records_service.import_table(
            session, list(columns), _cells(produced, columns), settings=settings, protector=protector, record_type=record_type,
            department=registered[dept.code], actor="demo", source=BatchSource.DEMO,
            filename=f"demo-{record_type}-{dept.short_name}.csv", today=today, progress=progress,
        )  # fmt: skip
        summary.batches.append(result)
    return summary

