"""Ingestion (归集): one pipeline for files, uploads and the JSON API.

Rows are validated one by one (pure, see validation.py) and stored chunk by chunk: each chunk resolves
its subjects and existing records in a few queries, writes with bulk statements and commits, so a
million-row file runs in bounded memory and an interruption loses at most the chunk in flight. The batch
row tells whether the run completed; re-running is safe because every write is keyed by
(department, record type, 决定文书号).
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, func, select, update
from sqlalchemy.orm import Session

from xinyong import clock, writequeue
from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.calendar.rules import WorkdayCalendar
from xinyong.calendar.service import load_calendar
from xinyong.catalog import RecordType, load_catalog
from xinyong.changelog import service as changelog
from xinyong.changelog.models import ChangeKind
from xinyong.codes import clean_display_name, mask_id_numbers
from xinyong.codes.names import load_conversion_tables
from xinyong.config import Settings
from xinyong.db import BackgroundCheckpointer, bulk_insert, refresh_statistics, utcnow
from xinyong.departments.models import Department
from xinyong.errors import FileRejected, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from xinyong.protect import Protector
from xinyong.records import rules
from xinyong.records.caps import ProblemCaps
from xinyong.records.models import (
    CATEGORIES_LENGTH,
    Batch,
    BatchProblem,
    BatchSource,
    BatchStatus,
    Record,
    RecordStatus,
    RecordVersion,
    Severity,
)
from xinyong.records.parallel import FileJob, ParallelFile
from xinyong.records.readers import is_xlsx_package, open_table
from xinyong.records.seen import SeenDocNos
from xinyong.records.seen import digest as doc_no_digest
from xinyong.records.validation import ERROR, WARNING, CleanRow, Problem, RowValidator
from xinyong.subjects.service import SubjectRef, SubjectResolver, kind_from_label, names_agree

STALE_AFTER = timedelta(minutes=10)
# SubjectRef's fields after kind and name, in order, each filled from the column with the role of the same name.
_REF_ROLES = tuple(f.name for f in fields(SubjectRef) if f.name not in ("kind", "name"))
# When a long import refreshes the planner's statistics (PostgreSQL only; see db.refresh_statistics).
STATISTICS_AFTER_CHUNKS = frozenset({1, 4, 16, 64})
ProgressCallback = Callable[[int], None]


@dataclass
class ImportResult:
    batch_id: int
    status: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    late: int = 0
    warnings: int = 0
    failure: dict[str, str] | None = None

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "late": self.late,
        }


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


# ------------------------------------------------------------------------------------------ entry points


def import_file(
    session: Session,
    path: Path,
    *,
    settings: Settings,
    protector: Protector,
    record_type: str,
    department: Department,
    actor: Actor | str,
    source: BatchSource = BatchSource.CLI,
    reported_on: date | None = None,
    backdate_reason: str | None = None,
    filename: str | None = None,
    today: date | None = None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import a CSV or XLSX file. Commits as it goes (chunk by chunk): call it at a command boundary.
    A `reported_on` other than today needs the migration permission (see reporting_day)."""
    rtype = load_catalog(settings.catalog_dirs).get(record_type)
    today = today or clock.today()
    reported_on, backdate_reason = reporting_day(reported_on, today=today, actor=actor, reason=backdate_reason)
    batch = _start_batch(
        session, department=department, record_type=rtype.key, source=source, actor=actor,
        reported_on=reported_on, filename=filename or path.name, backdate_reason=backdate_reason, today=today,
    )  # fmt: skip
    batch.file_sha256 = _sha256(path)

    def work() -> ImportResult:
        if path.stat().st_size >= settings.parallel_min_bytes:
            return _run_parallel(
                session, path, settings=settings, protector=protector, record_type=rtype, department=department,
                batch=batch, today=today, filename=filename, progress=progress,
            )  # fmt: skip
        with open_table(
            path, max_bytes=settings.upload_max_bytes, max_xlsx_uncompressed=settings.xlsx_max_uncompressed_bytes,
            filename=filename,
        ) as table:  # fmt: skip
            batch.file_format, batch.encoding = table.format, table.encoding
            return _run(
                session, settings=settings, protector=protector, record_type=rtype, department=department,
                batch=batch, headers=table.headers, rows=table.rows, today=today, progress=progress,
            )  # fmt: skip

    return _guarded(session, batch, work)


def _run_parallel(
    session: Session,
    path: Path,
    *,
    settings: Settings,
    protector: Protector,
    record_type: RecordType,
    department: Department,
    batch: Batch,
    today: date,
    filename: str | None,
    progress: ProgressCallback | None,
) -> ImportResult:
    """Large files: read and validate in a worker process while this one stores (see parallel.py).

    A new interpreter takes a second or so to start, and then as long again to validate a chunk: this process
    validates the first chunk of a CSV file itself meanwhile, and has stored it by the time the worker sends
    the second. (An XLSX workbook is not opened twice: its shared strings are loaded whole.)"""
    if path.stat().st_size > settings.upload_max_bytes:
        raise FileRejected("file-too-large", f"文件超过 {settings.upload_max_bytes // (1024 * 1024)} MB 的大小上限")
    lead_rows = 0 if is_xlsx_package(path) else settings.import_chunk_rows
    job = FileJob(
        path=path, record_type=record_type.key, catalog_dirs=tuple(settings.catalog_dirs),
        department_code=department.code, today=today, max_bytes=settings.upload_max_bytes,
        max_xlsx_uncompressed=settings.xlsx_max_uncompressed_bytes, chunk_rows=settings.import_chunk_rows,
        filename=filename, skip_rows=lead_rows,
    )  # fmt: skip
    with ParallelFile(job) as worker:
        # The first chunk compares names, and that needs the conversion tables: loaded while the worker starts.
        load_conversion_tables()
        if lead_rows:
            with open_table(
                path, max_bytes=settings.upload_max_bytes,
                max_xlsx_uncompressed=settings.xlsx_max_uncompressed_bytes, filename=filename,
            ) as table:  # fmt: skip
                if not table.headers:
                    raise FileRejected("empty-file", "文件为空或没有表头")
                batch.file_format, batch.encoding = table.format, table.encoding
                validator = RowValidator(record_type, table.headers, department_code=department.code, today=today)
                first: list[CleanRow] = []
                broken: FileRejected | None = None
                try:
                    for number, cells in islice(table.rows, lead_rows):
                        first.append(validator.validate(number, cells))
                except FileRejected as exc:
                    broken = exc  # the worker stops at the same place: store the rows before it, then report it
            file_problems = validator.file_problems
            rest = _then_raise(broken) if broken else worker.chunks()
            chunks: Iterable[list[CleanRow]] = chain([first] if first else [], rest)
        else:
            head = worker.receive_head()
            batch.file_format, batch.encoding, file_problems = head.format, head.encoding, head.file_problems
            chunks = worker.chunks()
        return _store_all(
            session, settings=settings, protector=protector, record_type=record_type, department=department,
            batch=batch, today=today, file_problems=file_problems, chunks=chunks, progress=progress,
        )  # fmt: skip


def import_rows(
    session: Session,
    items: list[dict[str, Any]],
    *,
    settings: Settings,
    protector: Protector,
    record_type: str,
    department: Department,
    actor: Actor | str,
    source: BatchSource = BatchSource.API,
    reported_on: date | None = None,
    backdate_reason: str | None = None,
    today: date | None = None,
) -> ImportResult:
    """Import JSON objects keyed by column code or Chinese header; row numbers count objects from 1.
    A `reported_on` other than today needs the migration permission (see reporting_day)."""
    rtype = load_catalog(settings.catalog_dirs).get(record_type)
    today = today or clock.today()
    reported_on, backdate_reason = reporting_day(reported_on, today=today, actor=actor, reason=backdate_reason)
    headers: list[str] = []
    positions: dict[str, int] = {}
    for item in items:
        for key in item:
            if key not in positions:
                positions[key] = len(headers)
                headers.append(key)

    def cells() -> Iterator[tuple[int, list[str]]]:
        for number, item in enumerate(items, start=1):
            row = [""] * len(headers)
            for key, value in item.items():
                row[positions[key]] = "" if value is None else str(value).strip()
            yield number, row

    batch = _start_batch(
        session, department=department, record_type=rtype.key, source=source, actor=actor,
        reported_on=reported_on, filename=None, backdate_reason=backdate_reason, today=today,
    )  # fmt: skip
    batch.file_format = "json"
    return _guarded(session, batch, lambda: _run(
        session, settings=settings, protector=protector, record_type=rtype, department=department,
        batch=batch, headers=headers, rows=cells(), today=today, progress=None,
    ))  # fmt: skip


# ---------------------------------------------------------------------------------------------- batches


BACKDATE_REASON_MIN = 4


class BackdateRefused(PermissionDenied):
    code = "backdate-not-allowed"
    message_template = ("报送日期只能是今天（{today}），不能指定为 {day}：按时报送以实际报送日期计算；"
                        "补录历史数据须由信用办办理或经信用办授权（api:records:backdate）")  # fmt: skip


def reporting_day(reported_on: date | None, *, today: date, actor: Actor | str, reason: str | None
                  ) -> tuple[date, str | None]:  # fmt: skip
    """The day a batch counts as reported, and the reason when it is not today. Timeliness (7 working days) is
    measured against it, so a department may not choose it: only the 信用办 (admin:records:backdate, the CLI
    operator) or a key it granted api:records:backdate may, when migrating historical data, with a reason that
    is audited. A label alone (demo data, benchmarks) carries no permission. Raises BackdateRefused (403) or
    InvalidInput (no reason); a later day is refused by the import itself (future-reported-on)."""
    if reported_on is None or reported_on == today:
        return today, None
    if not (isinstance(actor, Actor) and (actor.can(Permission.RECORDS_BACKDATE)
                                          or actor.can(Permission.API_RECORDS_BACKDATE))):  # fmt: skip
        raise BackdateRefused(today=today.isoformat(), day=reported_on.isoformat())
    text = clean_display_name(reason or "")
    if len(text) < BACKDATE_REASON_MIN:
        raise InvalidInput(reason=f"指定报送日期（补录历史数据）须说明理由（至少 {BACKDATE_REASON_MIN} 个字）")
    return reported_on, text[:450]


def parse_reported_on(text: str | None) -> date | None:
    """A reporting day typed in a form or on the command line (YYYY-MM-DD); empty means today."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(reason=f"报送日期“{text[:20]}”格式不正确，应为 YYYY-MM-DD") from None


def _start_batch(
    session: Session,
    *,
    department: Department,
    record_type: str,
    source: BatchSource,
    actor: Actor | str,
    reported_on: date,
    filename: str | None,
    backdate_reason: str | None = None,
    today: date | None = None,
) -> Batch:
    mark_stale_batches(session)
    label = actor.label if isinstance(actor, Actor) else actor
    batch = Batch(
        department_id=department.id,
        record_type=record_type,
        source=source,
        actor=label,
        reported_on=reported_on,
        filename=(mask_id_numbers(Path(filename).name)[:255] if filename else None),
        status=BatchStatus.RUNNING,
    )
    session.add(batch)
    session.flush()  # the audit entry names the batch
    audit.record(session, AuditAction.BATCH_STARTED, actor=label, department_id=department.id,
                 target=f"batch:{batch.id}", details={"record_type": record_type, "source": source.value,
                                                      "filename": batch.filename})  # fmt: skip
    if backdate_reason is not None:
        audit.record(session, AuditAction.BATCH_BACKDATED, actor=actor, department_id=department.id,
                     target=f"batch:{batch.id}", reason=backdate_reason,
                     details={"reported_on": reported_on.isoformat(), "today": today.isoformat() if today else None})  # fmt: skip
    session.commit()  # the batch must exist even if the run dies in its first chunk
    return batch


def _audit_finished(session: Session, batch: Batch) -> None:
    audit.record(session, AuditAction.BATCH_FINISHED, actor=batch.actor, department_id=batch.department_id,
                 target=f"batch:{batch.id}", details={"status": batch.status.value, "rows": batch.rows_read,
                 "created": batch.created, "updated": batch.updated, "rejected": batch.rejected})  # fmt: skip


def mark_stale_batches(session: Session) -> int:
    """Batches whose process died (no heartbeat for a while) are marked incomplete."""
    result = session.execute(  # an UPDATE: a cursor result with a row count
        update(Batch)
        .where(Batch.status == BatchStatus.RUNNING, Batch.heartbeat_at < utcnow() - STALE_AFTER)
        .values(status=BatchStatus.INCOMPLETE, failure="导入进程中断（超时无响应），可重新导入同一文件继续")
    )
    return cast("CursorResult[Any]", result).rowcount or 0


def _guarded(session: Session, batch: Batch, work: Callable[[], ImportResult]) -> ImportResult:
    """Run an import so that its batch always ends in a known state: a rejected file is recorded as
    failed (or incomplete, if chunks were stored); anything else marks it incomplete and propagates."""
    try:
        return work()
    except FileRejected as exc:
        return _fail(session, batch, exc)
    except BaseException as exc:
        _interrupt(session, batch, exc)
        raise


def _fail(session: Session, batch: Batch, exc: FileRejected) -> ImportResult:
    session.rollback()
    batch = session.merge(batch)
    # A file that breaks midway (say, a bad byte in its second half) keeps the rows stored before the break:
    # the batch is then incomplete rather than failed, and re-running the mended file is safe.
    row = exc.details.get("row")
    if batch.rows_read == 0:
        batch.status = BatchStatus.FAILED
        batch.failure = _storable(exc.message, 500)  # it may quote a header
    else:
        batch.status = BatchStatus.INCOMPLETE
        where = f"第 {row} 行及以后" if isinstance(row, int) else "其余"
        batch.failure = _storable(
            f"导入未完成：{exc.reason}。此前的 {batch.rows_read} 行数据已处理，{where}的内容未导入；"
            "修正文件后重新导入即可，已导入的记录不会重复", 500,
        )  # fmt: skip
    batch.finished_at = utcnow()
    session.add(BatchProblem(batch_id=batch.id, severity=Severity.ERROR, row=row if isinstance(row, int) else 0,
                             code=exc.problem_code, message=_storable(exc.reason, 500)))  # fmt: skip
    _audit_finished(session, batch)
    session.commit()
    result = _result(batch)
    result.failure = {"code": exc.problem_code, "message": mask_id_numbers(exc.reason)}
    return result


def _interrupt(session: Session, batch: Batch, exc: BaseException) -> None:
    session.rollback()
    batch = session.merge(batch)
    batch.status = BatchStatus.INCOMPLETE
    batch.failure = f"导入中断（{type(exc).__name__}），已保存的部分有效，可重新导入同一文件继续"
    batch.finished_at = utcnow()
    _audit_finished(session, batch)
    session.commit()


def _result(batch: Batch) -> ImportResult:
    return ImportResult(
        batch_id=batch.id, status=batch.status.value, rows=batch.rows_read, created=batch.created,
        updated=batch.updated, unchanged=batch.unchanged, rejected=batch.rejected, late=batch.late,
        warnings=batch.warnings,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------- the run


def _run(
    session: Session,
    *,
    settings: Settings,
    protector: Protector,
    record_type: RecordType,
    department: Department,
    batch: Batch,
    headers: list[str],
    rows: Iterable[tuple[int, list[str]]] | Iterable[tuple[int, list[str], date]],
    today: date,
    progress: ProgressCallback | None,
) -> ImportResult:
    """Validate in this process and store: JSON batches, demo data, small files."""
    if not headers:
        raise FileRejected("empty-file", "文件为空或没有表头")
    validator = RowValidator(record_type, headers, department_code=department.code, today=today)
    size = settings.import_chunk_rows

    def chunks() -> Iterator[list[CleanRow]]:
        chunk: list[CleanRow] = []
        try:
            for item in rows:
                clean = validator.validate(item[0], item[1])
                if len(item) > 2:
                    clean.reported_on = item[2]  # type: ignore[misc]
                chunk.append(clean)
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
        except FileRejected:
            if chunk:  # a file that breaks midway (a bad byte): the rows before the break are stored first
                yield chunk
            raise
        if chunk:
            yield chunk

    return _store_all(
        session, settings=settings, protector=protector, record_type=record_type, department=department,
        batch=batch, today=today, file_problems=validator.file_problems, chunks=chunks(), progress=progress,
    )  # fmt: skip


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
        reported_on=batch.reported_on, calendar=load_calendar(session), today=today,
        caps=ProblemCaps(per_column=settings.problems_max_per_column, per_batch=settings.problems_max_per_batch),
    )  # fmt: skip
    if batch.reported_on > today:
        raise FileRejected("future-reported-on", "报送日期不能晚于今天")
    _store_problems(session, ctx, file_problems)
    session.commit()  # no transaction may be open while waiting for the writers' turn
    with _long_lived_objects_frozen(), BackgroundCheckpointer(session) as checkpointer:
        for number, chunk in enumerate(chunks, start=1):  # each chunk read and validated before taking the turn
            # Each chunk's transaction takes the writers' turn, so that short writers (credit checks) wait on
            # it in a thread instead of in SQLite's busy handler on their event loop (see writequeue).
            with writequeue.turn(session):
                _store_chunk(session, ctx, chunk, checkpointer)
                if number in STATISTICS_AFTER_CHUNKS:
                    refresh_statistics(session, ["records", "subjects", "subject_grams"])
                    session.commit()
            if progress:
                progress(len(chunk))
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


def _then_raise(exc: BaseException) -> Iterator[list[CleanRow]]:
    """No chunks, then `exc`: raised when the chunks before it have been stored."""
    yield from ()
    raise exc


_frozen_lock = threading.Lock()
_frozen_runs = 0


@contextmanager
def _long_lived_objects_frozen() -> Iterator[None]:
    """Keep the objects that exist before a run (modules, mappers, caches: most of a process's heap) out of the
    garbage collector's full passes while it runs. Each chunk allocates tens of thousands of objects, enough to
    set off a full pass about once a chunk, and a full pass over the whole heap cost the storing process
    more than a tenth of its time. Frozen objects are not lost, only not collected until the run ends;
    concurrent runs in one process unfreeze when the last of them ends."""
    global _frozen_runs
    with _frozen_lock:
        if _frozen_runs == 0:
            gc.freeze()
        _frozen_runs += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_runs -= 1
            if _frozen_runs == 0:
                gc.unfreeze()


def _store_chunk(
    session: Session, ctx: ImportContext, chunk: list[CleanRow], checkpointer: BackgroundCheckpointer
) -> None:
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

    resolver = SubjectResolver(session, ctx.protector)
    keys = [resolver.key_of(ref) for _, ref, _ in good]  # once per row: a person's key is a keyed hash
    subjects = resolver.resolve_keyed(zip(keys, (ref for _, ref, _ in good), strict=True))
    mismatch_is_error = ctx.settings.name_mismatch == "error"
    name_code = ctx.roles["subject_name"]
    accepted: list[tuple[CleanRow, int, str, str]] = []
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
        accepted.append((row, found.subject_id, doc_no, ref.name))

    existing = _existing_records(session, ctx, [doc for _, _, doc, _ in accepted])
    now = utcnow()
    inserts: list[tuple[Any, ...]] = []
    updates: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    unchanged = late = 0
    type_key, department_id, active = rtype.key, ctx.department.id, RecordStatus.ACTIVE.value
    report_deadline, workdays = ctx.calendar.report_deadline, ctx.settings.report_deadline_workdays
    encode_sealed = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode  # as json.dumps(…, sort_keys)
    for row, subject_id, doc_no, name in accepted:
        sealed_text = encode_sealed(row.sealed) if row.sealed else None
        content_hash = rules.content_hash(row.payload, sealed_text, subject_id)
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
            values = _record_values(ctx, row, subject_id, name, sealed_text, content_hash)
            updates.append({"b_id": previous.id, **dict(zip(_VALUE_COLUMNS, values, strict=True)),
                            "version": previous.version + 1, "updated_at": now})  # fmt: skip
            continue
        values = _record_values(ctx, row, subject_id, name, sealed_text, content_hash)
        decision = values[2]  # decision_date
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
    bulk_insert(session, table, inserts, columns=_INSERT_COLUMNS)
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
    "subject_id", "subject_name", "decision_date", "valid_from", "valid_until", "tier", "publish_until", "payload",
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
                table.c.doc_no.in_(part),
            )
        )  # fmt: skip
        for row in rows:
            found[row.doc_no] = row
    return found


def _record_values(
    ctx: ImportContext, row: CleanRow, subject_id: int, name: str, sealed_text: str | None, content_hash: str
) -> tuple[Any, ...]:
    """The stored values of a row, in _VALUE_COLUMNS order; `name` is the subject name as displayed."""
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
        subject_id, name, decision, values.get(codes["valid_from"]), values.get(codes["valid_until"]), tier,
        publish_until, payload, _categories_text(payload.get(categories_code)),
        ctx.protector.seal(sealed_text) if sealed_text else None, content_hash, ctx.batch.id,
    )  # fmt: skip


def _categories_text(published: str | None) -> str | None:
    """The payload's categories for `records.categories`. Longer values are cut: the column only has to tell
    the few short combinations of warning categories apart from everything else."""
    return published[:CATEGORIES_LENGTH] if published else None


def _subject_ref(ctx: ImportContext, row: CleanRow) -> SubjectRef:
    values = row.values
    role = ctx.roles
    return SubjectRef(
        kind_from_label(values[role["subject_kind"]]),
        clean_display_name(values[role["subject_name"]]),
        *map(values.get, ctx.ref_codes),  # uscc, id_number, … in _REF_ROLES order
    )


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


def _storable(text: str, length: int) -> str:
    """Text a department sent, fit to store in a report: ID numbers masked, NULs (PostgreSQL refuses them) dropped,
    cut to the column."""
    text = text.replace("\x00", "") if "\x00" in text else text
    return mask_id_numbers(text)[:length]


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


def revoke_record(
    session: Session,
    *,
    department: Department,
    record_type: str,
    doc_no: str,
    reason: str,
    actor: str,
) -> Record:
    """撤销: the record leaves publication for good; its content stays in history."""
    reason = mask_id_numbers(reason.strip())
    if len(reason) < rules.REVOKE_REASON_MIN_LENGTH:
        raise InvalidInput(reason=f"撤销理由至少 {rules.REVOKE_REASON_MIN_LENGTH} 个字")
    # Stored 文书号 have their ID numbers masked (see validation); the department names it as it knows it.
    doc_no = mask_id_numbers(doc_no.strip())
    record = session.scalar(
        select(Record).where(Record.department_id == department.id, Record.record_type == record_type,
                             Record.doc_no == doc_no)
    )  # fmt: skip
    if record is None:
        raise NotFound(what=f"本部门文书号为“{doc_no}”的记录")
    if record.status == RecordStatus.REVOKED:
        raise InvalidTransition(state="已撤销", action="撤销")
    session.add(RecordVersion(
        record_id=record.id, version=record.version, status=record.status, subject_id=record.subject_id,
        payload=record.payload, sealed=record.sealed, content_hash=record.content_hash, batch_id=record.batch_id,
        superseded_by="revoke",
    ))  # fmt: skip
    record.status = RecordStatus.REVOKED
    record.revoked_at = utcnow()
    record.revoke_reason = f"{reason[:450]}（{actor[:40]}）"
    record.version += 1
    record.updated_at = utcnow()
    changelog.log(session, [(record.id, record.record_type)], ChangeKind.REVOKED)
    audit.record(session, AuditAction.RECORD_REVOKED, actor=actor, department_id=department.id,
                 subject_id=record.subject_id, target=f"record:{record.id}", reason=reason,
                 details={"record_type": record_type, "doc_no": record.doc_no})  # fmt: skip
    return record


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_table(
    session: Session,
    headers: list[str],
    rows: Iterable[tuple[int, list[str], date]],
    *,
    settings: Settings,
    protector: Protector,
    record_type: str,
    department: Department,
    actor: str,
    source: BatchSource,
    filename: str | None = None,
    today: date | None = None,
    progress: ProgressCallback | None = None,
) -> ImportResult:
    """Rows that each carry their own reporting date: loading demo data or a migrated archive in one run."""
    rtype = load_catalog(settings.catalog_dirs).get(record_type)
    today = today or clock.today()
    batch = _start_batch(
        session, department=department, record_type=rtype.key, source=source, actor=actor,
        reported_on=today, filename=filename,
    )  # fmt: skip
    return _guarded(session, batch, lambda: _run(
        session, settings=settings, protector=protector, record_type=rtype, department=department,
        batch=batch, headers=headers, rows=rows, today=today, progress=progress,
    ))  # fmt: skip


def move_subject_records(session: Session, *, from_subject_id: int, to_subject_id: int, protector: Protector) -> int:
    """Part of merging two subjects: every record and earlier version of `from` now belongs to `to`. The content
    hash names the subject, so it is worked out again (a re-sent row must still read as unchanged)."""
    moved = 0
    for record in session.scalars(select(Record).where(Record.subject_id == from_subject_id)):
        sealed_text = protector.unseal(record.sealed) if record.sealed else None
        record.subject_id = to_subject_id
        record.content_hash = rules.content_hash(record.payload, sealed_text, to_subject_id)
        record.updated_at = utcnow()
        changelog.log(session, [(record.id, record.record_type)], ChangeKind.UPDATED)
        moved += 1
    session.execute(update(RecordVersion).where(RecordVersion.subject_id == from_subject_id)
                    .values(subject_id=to_subject_id))  # fmt: skip
    return moved
