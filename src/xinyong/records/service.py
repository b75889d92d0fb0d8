"""Ingestion (归集): one pipeline for files, uploads and the JSON API — its entry points.

Rows are read in chunks and each chunk is validated column by column (pure, see validation.ChunkValidator),
then stored (storing.py): each chunk resolves its subjects and existing records in a few queries, writes with
bulk statements and commits, so a million-row file runs in bounded memory and an interruption loses at most
the chunk in flight. The batch row tells whether the run completed (batches.py); re-running is safe because
every write is keyed by (department, record type, 决定文书号).

The package by use-case: this module (imports), batches.py (a batch's life and reporting day), storing.py
(chunks into records), queries.py (reading batches and problems), revocation.py (撤销, subject merges).
Other packages keep importing every service function from here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import date
from itertools import chain, islice
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.actors import Actor
from xinyong.catalog import RecordType, load_catalog
from xinyong.codes.names import load_conversion_tables
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.errors import FileRejected
from xinyong.protect import Protector
from xinyong.records.batches import (
    BACKDATE_REASON_MIN,
    STALE_AFTER,
    BackdateRefused,
    ImportResult,
    _guarded,
    _start_batch,
    mark_stale_batches,
    parse_reported_on,
    reporting_day,
)
from xinyong.records.batches import _interrupt as _interrupt
from xinyong.records.batches import _result as _result
from xinyong.records.models import Batch, BatchSource
from xinyong.records.parallel import FileJob, ParallelFile
from xinyong.records.queries import get_batch, iter_problems, list_batches, problem_page, visible_subjects
from xinyong.records.readers import forget_read, is_spreadsheet, open_table
from xinyong.records.revocation import move_subject_records, revoke_record
from xinyong.records.storing import ImportContext, ProgressCallback, _store_all
from xinyong.records.validation import ChunkValidator, CleanRow, validated_chunks

# The package's service functions, wherever they now live: callers keep importing them from here.
__all__ = [
    "BACKDATE_REASON_MIN", "STALE_AFTER", "BackdateRefused", "ImportContext", "ImportResult", "ProgressCallback",
    "get_batch", "import_file", "import_rows", "import_table", "iter_problems", "list_batches", "mark_stale_batches",
    "move_subject_records", "parse_reported_on", "problem_page", "reporting_day", "revoke_record", "visible_subjects",
]  # fmt: skip


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
    the second. (A spreadsheet is not opened twice: its readers load it, or its shared strings, whole.)"""
    if path.stat().st_size > settings.upload_max_bytes:
        raise FileRejected("file-too-large", f"文件超过 {settings.upload_max_bytes // (1024 * 1024)} MB 的大小上限")
    lead_rows = 0 if is_spreadsheet(path) else settings.import_chunk_rows
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
                validator = ChunkValidator(record_type, table.headers, department_code=department.code, today=today)
                first: list[CleanRow] = []
                broken: FileRejected | None = None
                try:
                    for part in validated_chunks(validator, islice(table.rows, lead_rows), lead_rows):
                        first = part  # one chunk: lead_rows rows at most
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
    validator = ChunkValidator(record_type, headers, department_code=department.code, today=today)
    chunks = validated_chunks(validator, rows, settings.import_chunk_rows)
    return _store_all(
        session, settings=settings, protector=protector, record_type=record_type, department=department,
        batch=batch, today=today, file_problems=validator.file_problems, chunks=chunks, progress=progress,
    )  # fmt: skip


def _then_raise(exc: BaseException) -> Iterator[list[CleanRow]]:
    """No chunks, then `exc`: raised when the chunks before it have been stored."""
    yield from ()
    raise exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        forgotten = 0
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            forgotten = forget_read(handle, forgotten)  # a large file: not kept whole in the cache between two reads
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
