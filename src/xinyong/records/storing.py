"""Storing validated chunks: each chunk resolves its subjects and existing records in a few queries, writes
with bulk statements and commits, so a million-row file runs in bounded memory and an interruption loses at most
the chunk in flight. Re-running is safe because every write is keyed by (department, record type, 决定文书号)."""


from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from xinyong import heap, writequeue
from xinyong.calendar.rules import WorkdayCalendar
from xinyong.calendar.service import load_calendar
from xinyong.catalog import RecordType
from xinyong.changelog import service as changelog
from xinyong.changelog.models import ChangeKind
from xinyong.config import Settings
from xinyong.db import BackgroundCheckpointer, among, begin_writing, bulk_insert, refresh_statistics, utcnow
from xinyong.departments.models import Department
from xinyong.errors import FileRejected
from xinyong.protect import Protector
from xinyong.records import rules
from xinyong.records.batches import ImportResult, _audit_finished, _result, _storable, index_names
from xinyong.records.caps import ProblemCaps
from xinyong.records.models import (
    CATEGORIES_LENGTH,
    Batch,
    BatchProblem,
    BatchStatus,
    Record,
    RecordStatus,
    RecordVersion,
)
from xinyong.records.prepare import Prepared, prepare
from xinyong.records.seen import SeenDocNos
from xinyong.records.seen import digest as doc_no_digest
from xinyong.records.validation import ERROR, WARNING, CleanRow, Problem
from xinyong.subjects.service import Resolution, SubjectRef, SubjectResolver, kind_from_label, names_agree

# SubjectRef's fields after kind and name, in order, each filled from the column with the role of the same name.
_REF_ROLES = tuple(f.name for f in fields(SubjectRef) if f.name not in ("kind", "name", "name_norm"))


# When a long import refreshes the planner's statistics (PostgreSQL only; see db.refresh_statistics).
STATISTICS_AFTER_CHUNKS = frozenset({1, 4, 16, 64})


ProgressCallback = Callable[[int], None]


@dataclass
class ImportContext:
    settings: Settings
    protector: Protector
    record_type: RecordType
    department: Department
    batch: Batch
    reported_on: date
    calendar: WorkdayCalendar
    today: date
    caps: ProblemCaps
    seen_doc_nos: SeenDocNos = field(default_factory=SeenDocNos)  # digest of 文书号 → first row
    tiers: dict[Any, str | None] = field(default_factory=dict)  # (categories, fine) → tier
    publication_ends: dict[Any, Any] = field(default_factory=dict)  # (tier, decision, stated end) → end
    late_notes: dict[tuple[date, date], tuple[str, str]] = field(default_factory=dict)  # see _late_note
    roles: dict[str, str] = field(init=False)  # role → column code
    # The column code of each optional role, "" when the type has none (values.get("") is None).
    ref_codes: tuple[str, ...] = field(init=False)  # SubjectRef's optional fields, in _REF_ROLES order
    optional_codes: dict[str, str] = field(init=False)  # role → code, for the roles _record_values reads

    def __post_init__(self) -> None:
        self.roles = {role: spec.code for role, spec in self.record_type.role_fields.items()}
        self.ref_codes = tuple(self.roles.get(name, "") for name in _REF_ROLES)
        self.optional_codes = {
            name: self.roles.get(name, "")
            for name in ("categories", "fine_amount", "publicity_until", "valid_from", "valid_until")
        }


def _store_all(
    session: Session,
    *,
    settings: Settings,
    protector: Protector,
    record_type: RecordType,
    department: Department,
    batch: Batch,
    today: date,
    file_problems: list[Problem],
    chunks: Iterable[list[CleanRow]],
    progress: ProgressCallback | None,
) -> ImportResult:
    ctx = ImportContext(
        settings=settings, protector=protector, record_type=record_type, department=department, batch=batch,
        reported_on=batch.reported_on, calendar=load_calendar(session, region=department.region), today=today,
        caps=ProblemCaps(per_column=settings.problems_max_per_column, per_batch=settings.problems_max_per_batch),
    )  # fmt: skip
    if batch.reported_on > today:
        raise FileRejected("future-reported-on", "报送日期不能晚于今天")
    _store_problems(session, ctx, file_problems)
    session.commit()  # no transaction may be open while waiting for the writers' turn
    indexed_at = time.monotonic()
    with heap.frozen_while_running(), BackgroundCheckpointer(session) as checkpointer:
        for number, chunk in enumerate(chunks, start=1):  # each chunk read and validated before taking the turn
            # Each chunk's transaction takes the writers' turn, so that short writers (credit checks) wait on
            # it in a thread instead of in SQLite's busy handler on their event loop (see writequeue).
            with writequeue.turn(session):
                _store_chunk(session, ctx, chunk, checkpointer)
                if number in STATISTICS_AFTER_CHUNKS:
                    refresh_statistics(session, ["records", "subjects", "subject_grams"])
                    session.commit()
                # The names of the subjects created so far, in transactions of their own (see index_names).
                if time.monotonic() - indexed_at >= settings.name_index_seconds:
                    index_names(session)
                    indexed_at = time.monotonic()
            if progress:
                progress(len(chunk))
    begin_writing(session)  # the audit entry reads the chain's last entry before it writes
    batch.status = BatchStatus.COMPLETED
    batch.finished_at = utcnow()
    _audit_finished(session, batch)
    session.commit()
    for year in sorted(ctx.calendar.uncovered_years):
        # Not an error in the data: the operator has to enter that year's holidays.
        _store_problems(session, ctx, [Problem(0, None, "calendar-year-missing", str(year),
                                                 f"{year} 年的节假日安排尚未配置，按周一至周五计算工作日", WARNING)])  # fmt: skip
        session.commit()
    return _result(batch)


def _store_chunk(
    session: Session, ctx: ImportContext, chunk: list[CleanRow], checkpointer: BackgroundCheckpointer
) -> None:
    begin_writing(session)  # it reads before it writes: other writers must not make it fail (see begin_writing)
    rtype, batch = ctx.record_type, ctx.batch
    doc_code, decision_code = ctx.roles["doc_no"], ctx.roles["decision_date"]
    seen = ctx.seen_doc_nos
    good: list[tuple[CleanRow, SubjectRef, str]] = []
    rejected = 0
    for row in chunk:
        if row.has_errors:
            rejected += 1
            continue
        doc_no = row.values[doc_code]
        key = doc_no_digest(doc_no)
        first = seen.first_row(key)
        if first is not None:
            message = (f"决定文书号遮蔽其中的身份证号码后与第 {first} 行相同，无法区分两条记录；请使用不含身份证号码的文书号"
                       if doc_code in row.sealed else f"决定文书号与第 {first} 行重复，同一文书号只能出现一次")  # fmt: skip
            row.problems.append(Problem(row.row, doc_code, "duplicate-doc-no", doc_no, message))
            rejected += 1
            continue
        seen.add(key, row.row)
        if (row.reported_on or ctx.reported_on) < row.values[decision_code]:
            row.problems.append(Problem(row.row, decision_code, "reported-before-decision", None,
                                        "报送日期早于决定日期，请核对报送日期"))  # fmt: skip
            rejected += 1
            continue
        good.append((row, _subject_ref(ctx, row), doc_no))

    resolver = SubjectResolver(session, ctx.protector, defer_index=True)  # see index_names
    keys = [resolver.key_of(ref) for _, ref, _ in good]  # once per row: a person's key is a keyed hash
    subjects = resolver.resolve_keyed(zip(keys, (ref for _, ref, _ in good), strict=True))
    mismatch_is_error = ctx.settings.name_mismatch == "error"
    name_code = ctx.roles["subject_name"]
    accepted: list[tuple[CleanRow, Resolution, str, str]] = []
    for (row, ref, doc_no), subject_key in zip(good, keys, strict=True):
        found = subjects[subject_key]
        if found.registered_name != ref.name and not names_agree(found.registered_name, ref.name):
            row.problems.append(Problem(
                row.row, name_code, "name-code-mismatch", ref.name,
                f"名称“{ref.name}”与主体库中该代码登记的名称“{found.registered_name}”不一致，请核对名称或代码",
                ERROR if mismatch_is_error else WARNING,
            ))  # fmt: skip
            if mismatch_is_error:
                rejected += 1
                continue
        accepted.append((row, found, doc_no, ref.name))

    existing = _existing_records(session, ctx, [doc for _, _, doc, _ in accepted])
    now = utcnow()
    inserts: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    unchanged = late = 0
    type_key, department_id, active = rtype.key, ctx.department.id, RecordStatus.ACTIVE.value
    report_deadline, workdays = ctx.calendar.report_deadline, ctx.settings.report_deadline_workdays
    for row, found, doc_no, name in accepted:
        subject_id = found.subject_id
        prepared = row.prepared or _prepare(name_code, row)
        sealed_text = prepared.sealed_text
        content_hash = rules.content_hash_of(prepared.hash_text, subject_id)
        previous = existing.get(doc_no)
        if previous is not None:
            if "*" in doc_no and not _same_clear_doc_no(ctx, previous, row.sealed.get(doc_code)):
                row.problems.append(Problem(
                    row.row, doc_code, "doc-no-ambiguous", doc_no,
                    "决定文书号遮蔽其中的身份证号码后与已有的另一条记录相同，无法区分；请使用不含身份证号码的文书号或联系信用办",
                ))  # fmt: skip
                rejected += 1
                continue
            if previous.status == RecordStatus.REVOKED:
                row.problems.append(Problem(row.row, doc_code, "record-revoked", doc_no,
                                            "该文书号的记录已被撤销，不能再次上报；如确需恢复请联系信用办"))  # fmt: skip
                rejected += 1
                continue
            if previous.content_hash == content_hash:
                unchanged += 1
                continue
            versions.append({
                "record_id": previous.id, "version": previous.version, "status": previous.status.value,
                "subject_id": previous.subject_id, "payload": previous.payload, "sealed": previous.sealed,
                "content_hash": previous.content_hash, "batch_id": previous.batch_id, "superseded_at": now,
                "superseded_by": "update",
            })  # fmt: skip
            values = _record_values(ctx, row, found, name, sealed_text, content_hash)
            updates.append({"b_id": previous.id, **dict(zip(_VALUE_COLUMNS, values, strict=True)),
                            "version": previous.version + 1, "updated_at": now})  # fmt: skip
            continue
        values = _record_values(ctx, row, found, name, sealed_text, content_hash, prepared.payload_json)
        decision = values[3]  # decision_date
        reported_on = row.reported_on or ctx.reported_on
        deadline = report_deadline(decision, workdays)
        is_late = reported_on > deadline
        if is_late:
            late += 1
            shown, message = _late_note(ctx, decision, deadline, reported_on)
            row.problems.append(Problem(row.row, decision_code, "late-report", shown, message, WARNING))
        inserts.append(
            (*values, type_key, department_id, doc_no, active, 1, reported_on, deadline, is_late, now, now)
        )

    table = Record.__table__
    bulk_insert(session, table, inserts, columns=_INSERT_COLUMNS, json_encoded=True)  # payload: prepared.payload_json
    bulk_insert(session, RecordVersion.__table__, versions)
    if updates:
        columns = [c for c in updates[0] if c != "b_id"]
        session.execute(
            update(table).where(table.c.id == bindparam("b_id")).values({c: bindparam(c) for c in columns}),
            updates,
        )
    # The change log (feed, exports) in the chunk's transaction: sequenced when it commits.
    changelog.log_new_records(session, table, department_id=department_id, record_type=type_key,
                              doc_nos=[row[_DOC_NO_AT] for row in inserts])  # fmt: skip
    changelog.log(session, ((u["b_id"], type_key) for u in updates), ChangeKind.UPDATED)
    problems = [p for row in chunk if row.problems for p in row.problems]
    _store_problems(session, ctx, problems)
    batch.rows_read += len(chunk)
    batch.created += len(inserts)
    batch.updated += len(updates)
    batch.unchanged += unchanged
    batch.rejected += rejected
    batch.late += late
    batch.heartbeat_at = now
    checkpointer.before_commit(session)
    session.commit()
    checkpointer.after_commit()


# What _record_values returns, in order; an insert adds the rest of _INSERT_COLUMNS.
_VALUE_COLUMNS = (
    "subject_id", "subject_kind", "subject_name", "decision_date", "valid_from", "valid_until", "tier", "publish_until", "payload",
    "categories", "sealed", "content_hash", "batch_id",
)  # fmt: skip


_INSERT_COLUMNS = (
    *_VALUE_COLUMNS, "record_type", "department_id", "doc_no", "status", "version", "reported_on", "deadline",
    "is_late", "created_at", "updated_at",
)  # fmt: skip
_DOC_NO_AT = _INSERT_COLUMNS.index("doc_no")


# Per-import caches keyed by dates are dropped past this size (rows with their own reporting dates).
_CACHE_LIMIT = 20_000


def _late_note(ctx: ImportContext, decision: date, deadline: date, reported_on: date) -> tuple[str, str]:
    """(value, message) of the late-report warning, the same for every row of a decision and reporting day."""
    key = (decision, reported_on)
    note = ctx.late_notes.get(key)
    if note is None:
        if len(ctx.late_notes) >= _CACHE_LIMIT:
            ctx.late_notes.clear()
        overdue = ctx.calendar.workdays_between(deadline, reported_on)
        note = ctx.late_notes[key] = (
            decision.isoformat(),
            f"决定日期 {decision.isoformat()}，应于 {deadline.isoformat()} 前报送，"
            f"实际报送日期 {reported_on.isoformat()}，逾期 {overdue} 个工作日（已接收并标记为迟报）",
        )
    return note


def _same_clear_doc_no(ctx: ImportContext, previous: Any, clear: str | None) -> bool:
    """Whether a stored record whose 文书号 is masked (ID numbers in it, see validation) had this clear 文书号:
    two documents whose numbers differ only in the hidden digits must not overwrite each other."""
    doc_code = ctx.roles["doc_no"]
    opened = json.loads(ctx.protector.unseal(previous.sealed)) if previous.sealed else {}
    return opened.get(doc_code) == clear


def _existing_records(session: Session, ctx: ImportContext, doc_nos: list[str]) -> dict[str, Any]:
    table = Record.__table__
    found: dict[str, Any] = {}
    for start in range(0, len(doc_nos), 900):
        part = doc_nos[start : start + 900]
        rows = session.execute(
            select(
                table.c.id, table.c.doc_no, table.c.content_hash, table.c.version, table.c.status,
                table.c.subject_id, table.c.payload, table.c.sealed, table.c.batch_id,
            ).where(
                table.c.department_id == ctx.department.id,
                table.c.record_type == ctx.record_type.key,
                among(session, table.c.doc_no, part),
            )
        )  # fmt: skip
        for row in rows:
            found[row.doc_no] = row
    return found


def _record_values(
    ctx: ImportContext, row: CleanRow, subject: Resolution, name: str, sealed_text: str | None, content_hash: str,
    payload_json: str | None = None,
) -> tuple[Any, ...]:
    """The stored values of a row, in _VALUE_COLUMNS order; `name` is the subject name as displayed. The payload
    is `payload_json` when given (its JSON text, for bulk_insert), the payload itself otherwise."""
    values = row.values
    codes = ctx.optional_codes
    decision = values[ctx.roles["decision_date"]]
    categories_code = codes["categories"]
    categories = values.get(categories_code)
    fine = values.get(codes["fine_amount"])
    key = (tuple(categories) if categories else None, fine)
    tier = ctx.tiers.get(key, "")
    if tier == "":
        tier = ctx.tiers[key] = rules.penalty_tier(ctx.record_type.publicity, categories, fine)
    stated_until = values.get(codes["publicity_until"])
    window = (tier, decision, stated_until)
    publish_until = ctx.publication_ends.get(window, "")
    if publish_until == "":
        if len(ctx.publication_ends) >= _CACHE_LIMIT:
            ctx.publication_ends.clear()
        publish_until = ctx.publication_ends[window] = rules.publication_end(
            ctx.record_type.publicity, tier, decision=decision, stated_until=stated_until
        )
    payload = row.payload
    return (
        subject.subject_id, subject.kind, name, decision, values.get(codes["valid_from"]),
        values.get(codes["valid_until"]), tier,
        publish_until, payload if payload_json is None else payload_json,
        _categories_text(payload.get(categories_code)),
        ctx.protector.seal(sealed_text) if sealed_text else None, content_hash, ctx.batch.id,
    )  # fmt: skip


def _categories_text(published: str | None) -> str | None:
    """The payload's categories for `records.categories`. Longer values are cut: the column only has to tell
    the few short combinations of warning categories apart from everything else."""
    return published[:CATEGORIES_LENGTH] if published else None


def _subject_ref(ctx: ImportContext, row: CleanRow) -> SubjectRef:
    values = row.values
    role = ctx.roles
    prepared = row.prepared or _prepare(role["subject_name"], row)
    ref = SubjectRef(
        kind_from_label(values[role["subject_kind"]]),
        prepared.name,
        *map(values.get, ctx.ref_codes),  # uscc, id_number, … in _REF_ROLES order
    )
    ref.name_norm = prepared.name_norm
    return ref


def _prepare(name_code: str, row: CleanRow) -> Prepared:
    """What the validating process computes (validated_chunks), for a row that comes without it."""
    row.prepared = prepare(row.values[name_code], row.payload, row.sealed)
    return row.prepared


def _store_problems(session: Session, ctx: ImportContext, problems: list[Problem]) -> None:
    """Stores the problems within the batch's caps (see caps.py) and keeps the count of the others."""
    if not problems:
        return
    batch = ctx.batch
    batch_id = batch.id
    bulk_insert(
        session,
        BatchProblem.__table__,
        [
            # An unknown header is reported under its own text, which may be longer than the column. The text is
            # the department's as it came (a cell a rule refused, a header): any ID number in it is masked before the
            # cut, and PostgreSQL cannot store a NUL in it.
            (batch_id, p.severity, p.row, p.column and _storable(p.column, 64), p.code,
             _storable(p.value or "", 200) or None, _storable(p.message, 500))
            for p in ctx.caps.admit(problems)
        ],
        columns=("batch_id", "severity", "row", "column", "code", "value", "message"),
    )  # fmt: skip
    if ctx.caps.changed:
        batch.omitted_problems = ctx.caps.omitted()
    batch.warnings += sum(1 for p in problems if p.severity == WARNING)
