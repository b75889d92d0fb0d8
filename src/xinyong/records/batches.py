"""A batch's life: started (and audited) before its first row, ended in a known state whatever happens —
completed, failed (the file was refused), or incomplete (interrupted, or stale: no heartbeat); the reporting day
a batch counts as reported on."""


from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.codes import clean_display_name, mask_id_numbers
from xinyong.db import begin_writing, try_write, utcnow
from xinyong.departments.models import Department
from xinyong.errors import FileRejected, InvalidInput, PermissionDenied
from xinyong.records.models import (
    Batch,
    BatchProblem,
    BatchSource,
    BatchStatus,
    Severity,
)
from xinyong.subjects import names as search_index

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)


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
    # What the caller read goes with its own transaction: the batch's begins as a writer's (db.begin_writing).
    session.commit()
    begin_writing(session)
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
    """Batches whose process died (no heartbeat for a while) are marked incomplete. Looked for first, so that a
    listing writes nothing in the usual case (on SQLite even an UPDATE of no row takes the write lock), and
    written as bookkeeping the next listing can do when SQLite cannot write it now (db.try_write)."""
    stale = (Batch.status == BatchStatus.RUNNING, Batch.heartbeat_at < utcnow() - STALE_AFTER)
    if session.scalar(select(Batch.id).where(*stale).limit(1)) is None:
        return 0

    def mark() -> int:
        result = session.execute(  # an UPDATE: a cursor result with a row count
            update(Batch)
            .where(*stale)
            .values(status=BatchStatus.INCOMPLETE, failure="导入进程中断（超时无响应），可重新导入同一文件继续")
        )
        return cast("CursorResult[Any]", result).rowcount or 0

    return try_write(session, mark) or 0


def _guarded(session: Session, batch: Batch, work: Callable[[], ImportResult]) -> ImportResult:
    """Run an import so that its batch always ends in a known state: a rejected file is recorded as
    failed (or incomplete, if chunks were stored); anything else marks it incomplete and propagates. Whichever
    way it ends, the subjects its chunks created are then indexed by name (index_names)."""
    try:
        return work()
    except FileRejected as exc:
        return _fail(session, batch, exc)
    except BaseException as exc:
        _interrupt(session, batch, exc)
        raise
    finally:
        _index_names(session)


def index_names(session: Session) -> int:
    """The name indexer's pass for an import: the subjects its chunks created (and any others queued) go into the
    portal's name index, set-based, in transactions of their own after theirs (one per `names.INDEX_PASS`
    subjects). Chunks only queue their new subjects (one row each, where the index takes a dozen), and a pass every
    `name_index_seconds` writes the grams of many chunks' subjects at once. The import runs a pass at that pace
    after a chunk commits, within that chunk's writers' turn (storing._store_all), and one when it ends, however it
    ends (_guarded), so a subject it created is missing from the name search for at most `name_index_seconds`
    plus one chunk's storing while it runs, and not at all once it has returned. If the importing process dies,
    the `subjects-index` job indexes what it left within a minute."""
    total = 0
    while True:
        count = search_index.index_pending(session, limit=search_index.INDEX_PASS)
        session.commit()
        total += count
        if count < search_index.INDEX_PASS:
            return total


def _index_names(session: Session) -> None:
    try:
        index_names(session)
    except Exception:  # the import's own outcome stands; the subjects-index job indexes them within a minute
        session.rollback()
        log.exception("name index pass after an import failed")


def _fail(session: Session, batch: Batch, exc: FileRejected) -> ImportResult:
    session.rollback()
    begin_writing(session)  # merge reads the batch before it is written
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
    begin_writing(session)
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


def _storable(text: str, length: int) -> str:
    """Text a department sent, fit to store in a report: ID numbers masked, NULs (PostgreSQL refuses them) dropped,
    cut to the column."""
    text = text.replace("\x00", "") if "\x00" in text else text
    return mask_id_numbers(text)[:length]
