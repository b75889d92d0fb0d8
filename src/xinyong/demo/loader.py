"""Loads generated demo data through the real ingestion pipeline, so demo and benchmark data are exactly
what departments' files would produce."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.models import User
from xinyong.auth.rules import Role
from xinyong.config import Settings
from xinyong.demo import generator
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.evaluation import service as evaluation_service
from xinyong.lists import service as lists_service
from xinyong.measures import service as measures_service
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import BatchSource
from xinyong.regions import service as regions_service

LICENSE_SHARE = 0.4  # the rest are penalties
# The demo platform (市县信用一张网): 湖州市 is the platform's own region, each county has its departments and
# records, and its own portal under /region/<code>/.
DEMO_CITY = "330500"
DEMO_COUNTIES = ("330521", "330522", "330523")  # 德清县, 长兴县, 安吉县
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
    regions: list[tuple[str, str]] = field(default_factory=list)  # (code, name) registered by this load

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


def _register_regions(session: Session, city: str | None, counties: Sequence[str], summary: DemoSummary) -> bool:
    """The city as the platform's region and its counties under it, on an install that registered none (or
    registered this city before). False, and nothing registered, on an install that is another region's."""
    tree = regions_service.tree(session)
    if city is None or (tree.root is not None and tree.root.code != city):
        return False
    system = Actor.system("demo")
    for code in (city, *counties):
        if regions_service.tree(session).get(code) is None:
            region = regions_service.add_region(session, code=code, actor=system)
            summary.regions.append((region.code, region.name))
    return True


def _county_accounts(session: Session, counties: Sequence[str], settings: Settings) -> list[tuple[str, str, str]]:
    """A 信用办 account of each county (its platform administrator, who sees only the county)."""
    made = []
    system = Actor.system("demo")
    for index, code in enumerate(counties, start=1):
        username = f"county{index}"
        if session.scalar(select(User.id).where(User.username == username)):
            continue  # loaded before; its password may have been changed since
        password = f"Xinyong-2025-c{index}a"
        name = f"{regions_service.tree(session).display_name(code)}信用办"
        auth_service.create_user(session, username=username, password=password, role=Role.PLATFORM_ADMIN,
                                 department=None, display_name=name, actor=system, settings=settings, region=code)  # fmt: skip
        made.append((username, password, f"{name}（本县平台管理员）"))
    return made


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
    city: str | None = DEMO_CITY,
    counties: Sequence[str] = DEMO_COUNTIES,
) -> DemoSummary:
    """Departments, subjects and records of each county (`counties`: codes of the generator's regions), under
    `city` as the platform's own region (None: register no region, as a single-county install)."""
    today = today or clock.today()
    rng = random.Random(seed)
    summary = DemoSummary()
    counties = tuple(counties) or (generator.DEMO_REGION,)
    has_regions = _register_regions(session, city, counties, summary)
    by_county = {county: generator.generate_departments(rng, county) for county in counties}
    departments = [d for county in counties for d in by_county[county]]
    registered = {}
    for dept in departments:
        registered[dept.code] = _register(session, dept)
        summary.departments.append((dept.code, dept.name))
    summary.accounts = auth_service.create_demo_accounts(
        session, [registered[d.code] for d in departments], settings=settings
    )
    if has_regions and len(counties) > 1:
        summary.accounts += _county_accounts(session, counties, settings)
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
    # The built-in evaluation model, so that `xinyong evaluation run` grades the demo subjects.
    evaluation_service.load_model_file(session, evaluation_service.BUILTIN_MODEL, actor=system, settings=settings)
    session.commit()
    # Each county's departments decide on the county's own subjects (their codes carry its region).
    pools = {county: list(generator.generate_subjects(n, rng, county))
             for county, n in zip(counties, _split(subjects, len(counties)), strict=True)}  # fmt: skip
    plans: list[tuple[str, str, generator.Department, int]] = []
    for county, county_records in zip(counties, _split(records, len(counties)), strict=True):
        licensing = [d for d in by_county[county] if generator.decides(d, "license")]
        penalising = [d for d in by_county[county] if generator.decides(d, "penalty")]
        licences = round(county_records * LICENSE_SHARE)
        plans += [("license", county, d, n) for d, n in zip(licensing, _split(licences, len(licensing)), strict=True)]
        plans += [("penalty", county, d, n)
                  for d, n in zip(penalising, _split(county_records - licences, len(penalising)), strict=True)]  # fmt: skip
    for record_type, county, dept, count in plans:
        if count == 0:
            continue
        make = generator.license_rows if record_type == "license" else generator.penalty_rows
        columns = generator.LICENSE_COLUMNS if record_type == "license" else generator.PENALTY_COLUMNS
        produced = make(pools[county], by_county[county], count, rng, today=today, late_share=late_share,
                        malformed_share=malformed_share, department=dept)  # fmt: skip

        result = records_service.import_table(
            session, list(columns), _cells(produced, columns), settings=settings, protector=protector, record_type=record_type,
            department=registered[dept.code], actor="demo", source=BatchSource.DEMO,
            filename=f"demo-{record_type}-{dept.short_name}.csv", today=today, progress=progress,
        )  # fmt: skip
        summary.batches.append(result)
    return summary

