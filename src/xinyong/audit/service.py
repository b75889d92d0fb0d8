from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinyong.audit import rules
from xinyong.audit.models import AuditChainHead, AuditEntry
from xinyong.audit.rules import AuditAction
from xinyong.auth.rules import Actor
from xinyong.codes import mask_id_numbers
from xinyong.db import utcnow
from xinyong.exports import safe_cell

HEAD_ID = 1


def _actor_fields(actor: Actor | str) -> tuple[str, int | None]:
    if isinstance(actor, Actor):
        return actor.label[:100], actor.department_id
    return str(actor)[:100], None


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, str):
        return mask_id_numbers(value)  # the trail is read and exported by auditors: never a full ID number
    if value is None or isinstance(value, bool | int):
        return value
    return str(value)  # dates, decimals, enums: their text, so the stored JSON hashes the same when read back


def record(
    session: Session,
    action: AuditAction,
    *,
    actor: Actor | str,
    department_id: int | None = None,
    subject_id: int | None = None,
    target: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain, in the caller's transaction (it commits or rolls back with the act).

    The head row is updated first: that takes its lock (PostgreSQL row lock, SQLite write lock) until the
    transaction ends, so two writers can never read the same predecessor."""
    label, actor_department_id = _actor_fields(actor)
    head = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_seq=AuditChainHead.last_seq + 1)
        .returning(AuditChainHead.last_seq, AuditChainHead.last_hash)
        .execution_options(synchronize_session=False)
    ).one()
    seq, prev_hash = head[0], head[1]
    created_at = utcnow()
    clean_details = _json_safe(details or {})
    reason = mask_id_numbers(reason.strip())[:500] if reason else None
    body = rules.entry_body(
        seq=seq, created_at=created_at, action=action.value, actor=label, actor_department_id=actor_department_id,
        department_id=department_id, subject_id=subject_id, target=target[:100] if target else None, reason=reason,
        details=clean_details,
    )  # fmt: skip
    digest = rules.chain_hash(prev_hash, body)
    entry = AuditEntry(
        seq=seq, created_at=created_at, action=action.value, actor=label, actor_department_id=actor_department_id,
        department_id=department_id, subject_id=subject_id, target=body["target"], reason=reason,
        details=clean_details, prev_hash=prev_hash, hash=digest,
    )  # fmt: skip
    session.add(entry)
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_hash=digest)
        .execution_options(synchronize_session=False)
    )
    return entry


# ------------------------------------------------------------------------------------------ verify


@dataclass
class VerifyReport:
    checked: int
    last_seq: int
    last_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def is_intact(self) -> bool:
        return self.problem is None


def _body_of(entry: AuditEntry) -> dict[str, Any]:
    return rules.entry_body(
        seq=entry.seq, created_at=entry.created_at, action=entry.action, actor=entry.actor,
        actor_department_id=entry.actor_department_id, department_id=entry.department_id,
        subject_id=entry.subject_id, target=entry.target, reason=entry.reason, details=entry.details or {},
    )  # fmt: skip


def verify(session: Session) -> VerifyReport:
    """Walk the chain in order; report the first entry whose link or content does not hold."""
    head = session.get(AuditChainHead, HEAD_ID)
    expected_prev = rules.GENESIS_HASH
    expected_seq = 1
    checked = 0
    query = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
    for entry in session.scalars(query):
        report = None
        if entry.seq != expected_seq:
            report = f"第 {expected_seq} 条记录缺失（下一条为第 {entry.seq} 条）"
        elif entry.prev_hash != expected_prev:
            report = f"第 {entry.seq} 条记录的前序哈希与上一条不符（上一条被改动或删除）"
        elif rules.chain_hash(entry.prev_hash, _body_of(entry)) != entry.hash:
            report = f"第 {entry.seq} 条记录的内容与其哈希不符（记录被改动）"
        if report:
            return VerifyReport(checked, expected_seq - 1, expected_prev, broken_seq=expected_seq,
                                broken_id=entry.id, problem=report)  # fmt: skip
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
    if head is None:
        return VerifyReport(checked, expected_seq - 1, expected_prev, problem="审计链头记录缺失")
    if head.last_seq != expected_seq - 1 or head.last_hash != expected_prev:
        return VerifyReport(checked, expected_seq - 1, expected_prev, broken_seq=expected_seq,
                            problem=f"链头记录为第 {head.last_seq} 条，实际只核验到第 {expected_seq - 1} 条"
                            "（末尾记录被删除或链头被改动）")  # fmt: skip
    return VerifyReport(checked, expected_seq - 1, expected_prev)


# ------------------------------------------------------------------------------------ search & export


@dataclass
class AuditQuery:
    actor: str | None = None
    department_id: int | None = None
    subject_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: AuditQuery) -> Any:
    stmt = select(AuditEntry)
    if query.actor:
        stmt = stmt.where(AuditEntry.actor.contains(query.actor.strip(), autoescape=True))
    if query.department_id is not None:
        stmt = stmt.where(
            (AuditEntry.department_id == query.department_id)
            | (AuditEntry.actor_department_id == query.department_id)
        )
    if query.subject_id is not None:
        stmt = stmt.where(AuditEntry.subject_id == query.subject_id)
    if query.action:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.since is not None:
        stmt = stmt.where(AuditEntry.created_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditEntry.created_at < query.until)
    return stmt


def search(session: Session, query: AuditQuery, *, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
    stmt = _filtered(query).order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


def iter_entries(session: Session, query: AuditQuery) -> Iterator[AuditEntry]:
    yield from session.scalars(_filtered(query).order_by(AuditEntry.seq).execution_options(yield_per=2000))


EXPORT_COLUMNS = ["seq", "created_at", "action", "actor", "actor_department_id", "department_id", "subject_id",
                  "target", "reason", "details", "prev_hash", "hash"]  # fmt: skip


def _csv_cell(value: Any) -> Any:
    # Spreadsheet formula injection: text that a spreadsheet would evaluate is quoted (the shared rule).
    return safe_cell(value) if isinstance(value, str) else value


def export_csv(session: Session, query: AuditQuery, out: IO[str], *, actor: Actor | str) -> int:
    """Write the matching entries as CSV; the export itself is recorded (an export is a look-up too)."""
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for entry in iter_entries(session, query):
        body = _body_of(entry)
        body["details"] = rules.canonical_json(body["details"])
        writer.writerow([_csv_cell(body.get(c, getattr(entry, c, None))) for c in EXPORT_COLUMNS[:-2]]
                        + [entry.prev_hash, entry.hash])  # fmt: skip
        count += 1
    record(session, AuditAction.AUDIT_EXPORTED, actor=actor, details={
        "rows": count, "actor_filter": query.actor, "department_id": query.department_id,
        "subject_id": query.subject_id, "action": query.action,
        "since": query.since.isoformat() if query.since else None,
        "until": query.until.isoformat() if query.until else None,
    })  # fmt: skip
    return count
