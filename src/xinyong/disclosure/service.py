"""Use-cases of disclosure: which records the public sees today, as SQL, and the sweep job.

`published_clause` is the SQL form of `rules.withheld_reason`; tests hold the two in agreement. Every
public query filters by today's date itself, so nothing leaks between two runs of the sweep.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from itertools import islice, permutations
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

from xinyong import refcache
from xinyong.catalog import Catalog, load_catalog
from xinyong.config import Settings
from xinyong.db import period_last_day, session_scope
from xinyong.departments.models import Department
from xinyong.disclosure import rules
from xinyong.disclosure.models import PublicationStop, Withdrawal
from xinyong.disclosure.rules import DisclosurePolicy, RecordFacts
from xinyong.errors import NotFound
from xinyong.records.models import CATEGORIES_LENGTH, Record, RecordStatus
from xinyong.subjects.models import Subject, SubjectKind
from xinyong.writequeue import writing_scope

CHINA = ZoneInfo("Asia/Shanghai")


def today_in_china() -> date:
    """Publication days are Beijing calendar days, whatever the server's time zone."""
    return datetime.now(CHINA).date()


@lru_cache(maxsize=8)
def _policy(settings_json: str, catalog_dirs: tuple[Any, ...]) -> tuple[DisclosurePolicy, Catalog]:
    settings = Settings.model_validate_json(settings_json)
    catalog = load_catalog(catalog_dirs)
    return rules.policy_from_settings(settings, catalog), catalog


_by_settings: dict[int, tuple[Settings, DisclosurePolicy]] = {}


def load_policy(settings: Settings) -> DisclosurePolicy:
    """The policy of these settings; memoised per settings object (they are built once per app)."""
    hit = _by_settings.get(id(settings))
    if hit is not None and hit[0] is settings:
        return hit[1]
    policy = _policy(settings.model_dump_json(), tuple(settings.catalog_dirs))[0]
    if len(_by_settings) > 64:
        _by_settings.clear()
    _by_settings[id(settings)] = (settings, policy)
    return policy


def categories_code(catalog: Catalog, record_type: str) -> str | None:
    spec = catalog.get(record_type).field_by_role("categories")
    return spec.code if spec else None


@dataclass(frozen=True)
class DepartmentClasses:
    by_id: dict[int, str | None]

    def ids_of(self, klass: str) -> list[int]:
        return sorted(i for i, c in self.by_id.items() if c == klass)


refcache.watch(Department)


def department_classes(session: Session, policy: DisclosurePolicy) -> DepartmentClasses:
    """Classes of all departments (a few dozen rows), from the per-process reference cache."""
    key = ("disclosure.department_classes", tuple(sorted(policy.department_classes.items())),
           policy.market_name_markers)  # everything department_class() depends on
    return refcache.get(session, key, lambda s: _load_classes(s, policy))


def _load_classes(session: Session, policy: DisclosurePolicy) -> DepartmentClasses:
    table = Department.__table__.c
    rows = session.connection().execute(select(table.id, table.code, table.name))
    return DepartmentClasses({r.id: policy.department_class(r.code, r.name) for r in rows})


def _warning_only_sql(policy: DisclosurePolicy) -> ColumnElement[bool]:
    """Categories exactly within the warning set, as the ingestion pipeline writes them (';'-joined) into
    `records.categories` (NULL for record types without categories)."""
    categories = sorted(policy.warning_categories)
    spellings = [";".join(p) for n in range(1, min(len(categories), 3) + 1) for p in permutations(categories, n)]
    if not spellings:
        return false()
    # NULL (no categories) must read as "not warning-only", not as unknown: NOT (… AND NULL) would hide a record.
    return and_(Record.categories.is_not(None), Record.categories.in_(spellings))


def published_clause(
    session: Session,
    policy: DisclosurePolicy,
    today: date,
    *,
    subject_kind: str | ColumnElement[Any] | QueryableAttribute[Any] | None,
) -> ColumnElement[bool]:
    """Records the public may see on `today`. `subject_kind` is the subject's kind when known, or the
    subjects.kind column when the query joins subjects."""
    classes = department_classes(session, policy)
    # Building the clause costs more than the look-up it serves; it depends only on these, so every
    # request of the day shares it (SQL expressions are immutable and safe to share between threads).
    key = (id(policy), today, subject_kind if isinstance(subject_kind, str | None) else f"column {subject_kind}",
           tuple(sorted(classes.by_id.items())))  # fmt: skip
    hit = _CLAUSES.get(key)
    if hit is not None and hit[0] is policy:  # ids are only unique among live objects
        return hit[1]
    if len(_CLAUSES) > 256:
        _CLAUSES.clear()
    clause = _build_published_clause(policy, today, subject_kind, classes)
    _CLAUSES[key] = (policy, clause)
    return clause


_CLAUSES: dict[tuple[Any, ...], tuple[DisclosurePolicy, ColumnElement[bool]]] = {}


def published_among(session: Session, record_ids: list[int], *, settings: Settings, today: date,
                    subject_kind: str) -> set[int]:  # fmt: skip
    """Which of these records (of one subject, of that kind) the public may see on `today`."""
    if not record_ids:
        return set()
    clause = published_clause(session, load_policy(settings), today, subject_kind=subject_kind)
    return set(session.scalars(select(Record.id).where(Record.id.in_(record_ids), clause)))


def _build_published_clause(
    policy: DisclosurePolicy,
    today: date,
    subject_kind: str | ColumnElement[Any] | QueryableAttribute[Any] | None,
    classes: DepartmentClasses,
) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [
        Record.status == RecordStatus.ACTIVE.value,
        Record.decision_date <= today,
        or_(Record.publish_until.is_(None), Record.publish_until >= today),
        not_stopped_by_repair(),
    ]
    # Configured shorter periods, class-specific entries first.
    per_type_tier: dict[tuple[str, str], dict[str | None, int]] = defaultdict(dict)
    for (record_type, klass), tiers in policy.max_months.items():
        for tier, months in tiers.items():
            per_type_tier[(record_type, tier)][klass] = months
    for (record_type, tier), by_class in sorted(per_type_tier.items(), key=str):
        classed_ids: list[int] = []
        for klass, months in by_class.items():
            if klass is None:
                continue
            ids = classes.ids_of(klass)
            classed_ids += ids
            if ids:
                conditions.append(not_(and_(
                    Record.record_type == record_type, Record.tier == tier, Record.department_id.in_(ids),
                    Record.decision_date < rules.earliest_published_decision(today, months),
                )))  # fmt: skip
        if None in by_class:
            conditions.append(not_(and_(
                Record.record_type == record_type, Record.tier == tier,
                Record.department_id.not_in(classed_ids) if classed_ids else true(),
                Record.decision_date < rules.earliest_published_decision(today, by_class[None]),
            )))  # fmt: skip
    warning_only = _warning_only_sql(policy)
    if not policy.publish_person_warnings:
        if isinstance(subject_kind, str):
            if subject_kind == SubjectKind.PERSON.value:
                conditions.append(not_(warning_only))
        elif subject_kind is not None:
            conditions.append(not_(and_(subject_kind == literal(SubjectKind.PERSON.value), warning_only)))
    if not policy.publish_market_warnings:
        market_ids = classes.ids_of(rules.MARKET)
        if market_ids:
            conditions.append(not_(and_(Record.department_id.in_(market_ids), warning_only)))
    return and_(*conditions)


def not_stopped_by_repair() -> ColumnElement[bool]:
    """Hook for credit repair (信用修复): a record whose publication was stopped by an approved repair is not
    published from that moment. The repair domain owns the table; disclosure stays the one place that
    decides, through this clause in `published_clause`."""

    return ~exists().where(PublicationStop.record_id == Record.id, PublicationStop.lifted_on.is_(None))


def refill_categories(session: Session, catalog: Catalog) -> int:
    """Copy every record's categories out of its payload into `records.categories`, for each record type of the
    catalogue that has a categories field (migration 0009 fills only the built-in types). The caller commits."""
    changed = 0
    for key in sorted(catalog.types):
        code = categories_code(catalog, key)
        if code is None:
            continue
        value = func.substr(Record.payload[code].as_string(), 1, CATEGORIES_LENGTH)
        result = session.execute(
            update(Record).where(Record.record_type == key, Record.categories.is_distinct_from(value))
            .values(categories=value).execution_options(synchronize_session=False)
        )  # fmt: skip
        changed += result.rowcount or 0  # type: ignore[attr-defined]
    return changed


def facts_of(record: Any, subject_kind: str, department_class: str | None, catalog: Catalog) -> RecordFacts:
    code = categories_code(catalog, record.record_type)
    payload = record.payload or {}
    status = record.status.value if isinstance(record.status, RecordStatus) else str(record.status)
    return RecordFacts(
        record_type=record.record_type,
        is_active=status == RecordStatus.ACTIVE.value,
        decision_date=record.decision_date,
        publish_until=record.publish_until,
        tier=record.tier,
        categories=rules.split_categories(payload.get(code)) if code else (),
        subject_kind=str(subject_kind),
        department_class=department_class,
    )


# ----------------------------------------------------------------------------------------------- reads


def published_records(
    session: Session,
    *,
    settings: Settings,
    subject: Subject,
    record_type: str,
    today: date,
    offset: int = 0,
    limit: int = 20,
    within: ColumnElement[bool] | None = None,
) -> tuple[list[Record], int]:
    """`within`: a further condition on the records (a county's portal: made in the county)."""
    policy = load_policy(settings)
    clause = published_clause(session, policy, today, subject_kind=subject.kind.value)
    where = and_(Record.subject_id == subject.id, Record.record_type == record_type, clause,
                 *([within] if within is not None else []))  # fmt: skip
    total = session.scalar(select(func.count()).select_from(Record).where(where)) or 0
    records = session.scalars(
        select(Record).where(where).order_by(Record.decision_date.desc(), Record.id.desc()).offset(offset).limit(limit)
    )
    return list(records), total


def published_counts(session: Session, *, settings: Settings, subject: Subject, today: date) -> dict[str, int]:
    policy = load_policy(settings)
    clause = published_clause(session, policy, today, subject_kind=subject.kind.value)
    rows = session.execute(
        select(Record.record_type, func.count())
        .where(Record.subject_id == subject.id, clause)
        .group_by(Record.record_type)
    )
    return {r[0]: r[1] for r in rows}


def get_published_record(session: Session, *, settings: Settings, record_id: int, today: date,
                         within: ColumnElement[bool] | None = None) -> Record:  # fmt: skip
    """One record, if the public may see it today (checked twice: by SQL and by the pure rule) and it meets
    `within` (a county's portal: made in the county)."""
    policy = load_policy(settings)
    record = session.scalar(
        select(Record).join(Subject, Subject.id == Record.subject_id).where(
            Record.id == record_id, published_clause(session, policy, today, subject_kind=Subject.kind),
            *([within] if within is not None else []),
        )
    )
    if record is None:
        raise NotFound(what="该信用记录（可能已撤销或已过公示期）")
    subject = session.get(Subject, record.subject_id)
    department = session.get(Department, record.department_id)
    assert subject is not None
    assert department is not None
    facts = facts_of(record, subject.kind.value, policy.department_class(department.code, department.name),
                     load_catalog(settings.catalog_dirs))  # fmt: skip
    if not rules.is_published(facts, policy, today):
        raise NotFound(what="该信用记录（可能已撤销或已过公示期）")
    return record


@dataclass
class ListingFilter:
    record_type: str
    department_id: int | None = None
    category: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def latest_records(
    session: Session, *, settings: Settings, listing: ListingFilter, today: date, offset: int, limit: int,
    within: ColumnElement[bool] | None = None,
) -> tuple[list[tuple[Record, Subject]], int, bool]:
    """双公示 listing, newest first. Natural persons are never listed in bulk. Totals stop at 10,000.
    `within`: a further condition on the records (a county's portal: made in the county)."""
    policy = load_policy(settings)
    catalog = load_catalog(settings.catalog_dirs)
    # The subject's kind as each record carries it: the count reads the records' index alone (performance.md).
    where = [
        Record.record_type == listing.record_type,
        Record.subject_kind != SubjectKind.PERSON.value,
        published_clause(session, policy, today, subject_kind=Record.subject_kind),
    ]
    if within is not None:
        where.append(within)
    if listing.department_id:
        where.append(Record.department_id == listing.department_id)
    if listing.date_from:
        where.append(Record.decision_date >= listing.date_from)
    if listing.date_to:
        where.append(Record.decision_date <= listing.date_to)
    filter_field = catalog.get(listing.record_type).filter_field  # the type's declared listing filter
    if listing.category and filter_field is not None:
        pattern = "%" + listing.category.replace("%", "").replace("_", "") + "%"
        where.append(Record.payload[filter_field.code].as_string().like(pattern))
    base = select(Record, Subject).join(Subject, Subject.id == Record.subject_id).where(*where)
    cap = 10_000
    counted = select(Record.id).where(*where).limit(cap + 1)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    rows = session.execute(base.order_by(Record.decision_date.desc(), Record.id.desc()).offset(offset).limit(limit))
    return [(r[0], r[1]) for r in rows], min(total, cap), total > cap


def recent_counts(session: Session, *, settings: Settings, today: date, days: int,
                  within: ColumnElement[bool] | None = None) -> dict[str, int]:  # fmt: skip
    from datetime import timedelta

    policy = load_policy(settings)
    since = today - timedelta(days=days)
    rows = session.execute(
        select(Record.record_type, func.count())
        .where(Record.decision_date > since,
               published_clause(session, policy, today, subject_kind=Record.subject_kind),
               *([within] if within is not None else []))
        .group_by(Record.record_type)
    )  # fmt: skip
    return {r[0]: r[1] for r in rows}


# ----------------------------------------------------------------------------------------------- sweep


WITHDRAWAL_COLUMNS = ("record_id", "reason", "last_day", "swept_on")
SWEEP_BATCH = 5_000  # withdrawals per writer's transaction, on SQLite (`sweep_beside_writers`): about 0.1 s each


@dataclass(frozen=True)
class _SweepPlan:
    """What the sweep notes: for each reason, a query of (record_id, reason, last_day, swept_on) rows, and the
    query of the expired records whose categories only the payload settles (None when no warning is withheld)."""

    noted: list[tuple[str, Select[Any]]]
    unsettled: Select[Any] | None
    policy: DisclosurePolicy
    catalog: Catalog
    classes: DepartmentClasses
    today: date


def _sweep_plan(session: Session, *, settings: Settings, today: date) -> _SweepPlan:
    """The sweep's queries, by the rules of `rules.withheld_reason` and `rules.last_day`
    (`test_sweep_agrees_with_pure_rule` holds them together). Records never public (future decisions, withheld
    warnings) are not noted."""
    policy = load_policy(settings)
    catalog = load_catalog(settings.catalog_dirs)
    classes = department_classes(session, policy)
    end = _last_day_sql(policy, classes)
    # Correlated to the records only: the INSERT's own table must stay inside the subquery.
    not_noted = ~exists().where(Withdrawal.record_id == Record.id).correlate_except(Withdrawal)

    def rows(reason: str, *where: ColumnElement[bool]) -> tuple[str, Select[Any]]:
        query = select(Record.id, literal(reason), end, literal(today, Date())).where(*where, not_noted)
        return reason, cast("Select[Any]", query)

    # Only records that could have been public: tiered (negative) ones and revoked ones.
    was_public = or_(Record.status == RecordStatus.REVOKED.value, Record.tier.is_not(None))
    noted = [rows("revoked", was_public, Record.status != RecordStatus.ACTIVE.value)]
    expired = [Record.status == RecordStatus.ACTIVE.value, Record.tier.is_not(None), Record.decision_date <= today,
               end < today]  # fmt: skip
    warnings = _warning_sql(policy, catalog, classes)
    unsettled_query: Select[Any] | None = None
    if warnings is None:
        noted.append(rows("expired", *expired))
    else:
        withheld, unsettled = warnings
        noted.append(rows("expired", *expired, not_(withheld), not_(unsettled)))
        unsettled_query = cast("Select[Any]", (
            select(Record, Subject.kind).join(Subject, Subject.id == Record.subject_id)
            .where(*expired, unsettled, not_noted).order_by(Record.id)
        ))  # fmt: skip
    return _SweepPlan(noted, unsettled_query, policy, catalog, classes, today)


def sweep(session: Session, *, settings: Settings, today: date) -> dict[str, int]:
    """Note every record that has left publication since the last run (公示期满, 撤销, shortened periods).
    Idempotent; the caller commits. The command and the job run `sweep_beside_writers`.

    Runs in the database: one `INSERT … SELECT` per reason, the reason and the last day worked out in SQL. Only
    the expired records whose categories column cannot settle whether they are warning-only are read into
    Python."""
    plan = _sweep_plan(session, settings=settings, today=today)
    table = Withdrawal.__table__
    counts: dict[str, int] = {}
    for reason, rows in plan.noted:
        # psycopg's row count of an INSERT is kept only on request.
        statement = insert(table).from_select(WITHDRAWAL_COLUMNS, rows).execution_options(preserve_rowcount=True)
        _count(counts, reason, session.execute(statement).rowcount)  # type: ignore[attr-defined]
    if plan.unsettled is not None:
        unsettled = _unsettled_rows(session, plan)
        while batch := list(islice(unsettled, 1000)):
            session.execute(insert(table), batch)
            _count(counts, "expired", len(batch))
    return counts


def sweep_beside_writers(factory: sessionmaker[Session], *, settings: Settings, today: date,
                         batch: int = SWEEP_BATCH) -> dict[str, int]:  # fmt: skip
    """`sweep` for the command and the job, committed, without holding other writers up.

    PostgreSQL locks rows, not the database: `sweep`, in one writer's transaction. On SQLite a statement that
    writes holds the database's only write lock from its start, and finding the records due reads the whole
    register (about 4 s at 10⁶ records when few are due, docs/performance.md): an import and every request that
    writes waited for it, past the busy timeout at 10⁷. So the records due are read in a plain transaction, which
    takes no lock, and noted in batches, each a short writer's transaction of its own. A batch passes over the
    records another sweep noted meanwhile: two runs at once note nothing twice."""
    with session_scope(factory) as reading:
        if reading.get_bind().dialect.name != "sqlite":
            with writing_scope(factory) as session:
                return sweep(session, settings=settings, today=today)
        plan = _sweep_plan(reading, settings=settings, today=today)

        def due() -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:  # each reading begins when its turn comes
            for reason, rows in plan.noted:
                yield reason, _as_withdrawals(reading.execute(rows.execution_options(yield_per=batch)))
            if plan.unsettled is not None:
                yield "expired", _unsettled_rows(reading, plan)

        note = sqlite_insert(Withdrawal.__table__).on_conflict_do_nothing(index_elements=["record_id"])
        counts: dict[str, int] = {}
        for reason, withdrawals in due():
            while chunk := list(islice(withdrawals, batch)):
                with writing_scope(factory) as writing:
                    _count(counts, reason, writing.execute(note, chunk).rowcount)  # type: ignore[attr-defined]
    return counts


def _as_withdrawals(rows: Iterable[Any]) -> Iterator[dict[str, Any]]:
    return (dict(zip(WITHDRAWAL_COLUMNS, row, strict=True)) for row in rows)


def _count(counts: dict[str, int], reason: str, count: int) -> None:
    if count:
        counts[reason] = counts.get(reason, 0) + count


def _unsettled_rows(session: Session, plan: _SweepPlan) -> Iterator[dict[str, Any]]:
    """The withdrawals of the expired candidates whose categories only the payload settles, decided by the pure
    rule."""
    assert plan.unsettled is not None
    for record, kind in session.execute(plan.unsettled.execution_options(yield_per=2000)):
        facts = facts_of(record, str(kind.value if hasattr(kind, "value") else kind),
                         plan.classes.by_id.get(record.department_id), plan.catalog)  # fmt: skip
        if rules.withheld_reason(facts, plan.policy, plan.today) != "expired":
            continue  # a withheld warning: never public, nothing left publication
        yield {"record_id": record.id, "reason": "expired", "last_day": rules.last_day(facts, plan.policy),
               "swept_on": plan.today}  # fmt: skip


def _last_day_sql(policy: DisclosurePolicy, classes: DepartmentClasses) -> ColumnElement[date]:
    """`rules.last_day` in SQL: `publish_until`, or the configured period's end when that is earlier."""
    whens: list[tuple[ColumnElement[bool], ColumnElement[date]]] = []
    for (record_type, klass), tiers in sorted(policy.max_months.items(), key=lambda item: item[0][1] is None):
        # Class-specific entries first: `months_for` prefers them over the record type's own.
        in_class = Record.department_id.in_(classes.ids_of(klass)) if klass else true()
        if klass and not classes.ids_of(klass):
            continue
        for tier, months in sorted(tiers.items()):
            configured = period_last_day(Record.decision_date, months)
            earlier = case((or_(Record.publish_until.is_(None), configured < Record.publish_until), configured),
                           else_=Record.publish_until)  # fmt: skip
            whens.append((and_(Record.record_type == record_type, Record.tier == tier, in_class), earlier))
    if not whens:
        return Record.__table__.c.publish_until
    return case(*whens, else_=Record.publish_until)


def _warning_sql(policy: DisclosurePolicy, catalog: Catalog,
                 classes: DepartmentClasses) -> tuple[ColumnElement[bool], ColumnElement[bool]] | None:  # fmt: skip
    """None when no warning is withheld; otherwise two conditions on records: withheld as warning-only (`rules.withheld_reason`'s person and market
    rules, read from `records.categories`), and "the column cannot settle it": a record the rules would
    look at whose categories mention a warning category but are not one of the spellings
    `_warning_only_sql` knows (other separators, repeats, a long value cut short), or whose column is empty
    while its type has categories. The pure rule reads the payload; those few records go to it."""
    applies: list[ColumnElement[bool]] = []
    if not policy.publish_person_warnings:
        applies.append(exists().where(Subject.id == Record.subject_id, Subject.kind == SubjectKind.PERSON.value)
                       .correlate_except(Subject))  # fmt: skip
    market_ids = classes.ids_of(rules.MARKET)
    if not policy.publish_market_warnings and market_ids:
        applies.append(Record.department_id.in_(market_ids))
    if not applies or not policy.warning_categories:
        return None
    warning_only = _warning_only_sql(policy)
    mentions = or_(*(Record.categories.contains(c, autoescape=True) for c in sorted(policy.warning_categories)))
    typed = sorted(key for key in catalog.types if categories_code(catalog, key) is not None)
    unsettled = or_(
        and_(Record.categories.is_not(None), not_(warning_only), mentions),
        and_(Record.categories.is_(None), Record.record_type.in_(typed)) if typed else false(),
    )
    # Cheap tests first: the subject look-up only for the records whose categories matter.
    return and_(warning_only, or_(*applies)), and_(unsettled, or_(*applies))
