from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.audit import checkpoints, rules
from xinyong.audit import keys as audit_keys
from xinyong.audit.models import AuditChainHead, AuditEntry
from xinyong.audit.rules import AuditAction
from xinyong.clock import CHINA
from xinyong.codes import mask_id_numbers
from xinyong.db import utcnow
from xinyong.exports import safe_cell

HEAD_ID = 1
log = logging.getLogger("xinyong.audit")


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
    """Append one entry to the chain, in the caller's transaction (it commits or rolls back with the act),
    signed with the session's audit key (raises AuditKeyMissing without one).

    The head row is updated first: that takes its lock (PostgreSQL row lock, SQLite write lock) until the
    transaction ends, so two writers can never read the same predecessor."""
    keys = audit_keys.of(session)
    label, actor_department_id = _actor_fields(actor)
    head = session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_seq=AuditChainHead.last_seq + 1)
        .returning(AuditChainHead.last_seq, AuditChainHead.last_hash, AuditChainHead.last_key_id)
        .execution_options(synchronize_session=False)
    ).one()
    seq, prev_hash, prev_key_id = head[0], head[1], head[2]
    created_at = utcnow()
    clean_details = _json_safe(details or {})
    reason = mask_id_numbers(reason.strip())[:500] if reason else None
    body = rules.entry_body(
        seq=seq, created_at=created_at, action=action.value, actor=label, actor_department_id=actor_department_id,
        department_id=department_id, subject_id=subject_id, target=target[:100] if target else None, reason=reason,
        details=clean_details, key_id=keys.current_id,
    )  # fmt: skip
    digest = rules.keyed_hash(keys.current, prev_hash, body)
    entry = AuditEntry(
        seq=seq, created_at=created_at, action=action.value, actor=label, actor_department_id=actor_department_id,
        department_id=department_id, subject_id=subject_id, target=body["target"], reason=reason,
        details=clean_details, prev_hash=prev_hash, hash=digest, key_id=keys.current_id,
    )  # fmt: skip
    session.add(entry)
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == HEAD_ID)
        .values(last_hash=digest, last_key_id=keys.current_id)
        .execution_options(synchronize_session=False)
    )
    # The first entry under a key (the first keyed entry after the upgrade, or after a rotation) and every
    # N-th entry are published, so that an anchor of each keyed segment exists outside the database.
    if keys.checkpoint_file is not None and (
        prev_key_id != keys.current_id or (keys.checkpoint_every and seq % keys.checkpoint_every == 0)
    ):
        _publish_after_commit(session, entry)
    return entry


# ------------------------------------------------------------------------------------------ checkpoints

_PENDING = "xinyong.audit.pending-checkpoints"


def _publish_after_commit(session: Session, entry: AuditEntry) -> None:
    """A checkpoint names a committed entry only: written after the commit, never for a rolled-back one."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _publish_pending)
    pending.append((entry, entry.seq, entry.hash))  # read now: after the commit no SQL may run


def _publish_pending(session: Session) -> None:
    pending, session.info[_PENDING] = session.info.get(_PENDING) or [], []
    keys = session.info.get(audit_keys.INFO_KEY)
    if not isinstance(keys, audit_keys.AuditKeys) or keys.checkpoint_file is None:
        return
    for entry, seq, digest in pending:
        state = inspect(entry)
        if not state.persistent or state.identity is None:  # rolled back with a savepoint or the transaction
            continue
        line = checkpoints.sign(keys, seq=seq, entry_id=state.identity[0], digest=digest, now=utcnow())
        try:
            checkpoints.append(keys.checkpoint_file, line)
        except OSError:
            # The commit has happened; the next checkpoint covers this entry too.
            log.exception("could not publish an audit checkpoint to %s", keys.checkpoint_file)


def publish_checkpoint(session: Session) -> checkpoints.Checkpoint | None:
    """Publish the head of the committed chain now (`xinyong audit checkpoint`, the daily jobs); None when the
    chain is empty. Raises AuditKeyMissing without keys, OSError when the file cannot be written."""
    keys = audit_keys.of(session)
    if keys.checkpoint_file is None:
        raise audit_keys.AuditKeyMissing("未配置审计检查点文件")
    head = session.get(AuditChainHead, HEAD_ID)
    if head is None or head.last_seq == 0:
        return None
    entry_id = session.scalar(select(AuditEntry.id).where(AuditEntry.seq == head.last_seq))
    if entry_id is None:
        return None
    line = checkpoints.sign(keys, seq=head.last_seq, entry_id=entry_id, digest=head.last_hash, now=utcnow())
    checkpoints.append(keys.checkpoint_file, line)
    fields = {k: v for k, v in line.items() if k != "mac"}
    return checkpoints.Checkpoint(**fields)


# ------------------------------------------------------------------------------------------ verify


@dataclass
class VerifyReport:
    checked: int
    last_seq: int
    last_hash: str
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str | None = None
    checkpoints: int = 0  # published checkpoints that were found to match
    keyed_from: int | None = None  # the first entry signed with an audit key

    @property
    def is_intact(self) -> bool:
        return self.problem is None


def _body_of(entry: AuditEntry) -> dict[str, Any]:
    return rules.entry_body(
        seq=entry.seq, created_at=entry.created_at, action=entry.action, actor=entry.actor,
        actor_department_id=entry.actor_department_id, department_id=entry.department_id,
        subject_id=entry.subject_id, target=entry.target, reason=entry.reason, details=entry.details or {},
        key_id=entry.key_id,
    )  # fmt: skip


def _link_problem(entry: AuditEntry, keys: audit_keys.AuditKeys, *, keyed_before: bool) -> str | None:
    if entry.key_id is None:
        if keyed_before:
            return (f"第 {entry.seq} 条记录没有审计密钥签名，而此前的记录已经签名"
                    "（记录被改动，并按无密钥的算法重新计算了哈希）")  # fmt: skip
        if not rules.same_digest(rules.chain_hash(entry.prev_hash, _body_of(entry)), entry.hash):
            return f"第 {entry.seq} 条记录的内容与其哈希不符（记录被改动）"
        return None
    key = keys.keys.get(entry.key_id)
    if key is None:
        return (f"第 {entry.seq} 条记录的签名密钥（编号 {entry.key_id}）不在本平台的审计密钥中"
                "（记录被伪造，或缺少以前的主密钥）")  # fmt: skip
    if not rules.same_digest(rules.keyed_hash(key, entry.prev_hash, _body_of(entry)), entry.hash):
        return f"第 {entry.seq} 条记录的内容与其签名不符（记录被改动，或哈希被不持有审计密钥的人重新计算）"
    return None


def _published(keys: audit_keys.AuditKeys) -> tuple[dict[int, list[checkpoints.Checkpoint]], str | None]:
    """Published checkpoints by seq, or the first problem with the file itself."""
    by_seq: dict[int, list[checkpoints.Checkpoint]] = {}
    path = keys.checkpoint_file
    if path is None or not path.exists():
        return by_seq, None
    for item in checkpoints.read(path, keys):
        if isinstance(item, checkpoints.BadLine):
            return by_seq, f"检查点文件 {path} 第 {item.line} 行{item.reason}"
        by_seq.setdefault(item.seq, []).append(item)
    return by_seq, None


def _when(published_at: str) -> str:
    """A checkpoint's time as the people reading the report count it (Beijing time)."""
    try:
        moment = datetime.fromisoformat(published_at.replace("Z", "+00:00"))
    except ValueError:
        return published_at
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def verify(session: Session) -> VerifyReport:
    """Walk the chain in order with the session's audit keys, then hold it against every published
    checkpoint; report the first entry whose link, content or published hash does not hold."""
    keys = audit_keys.of(session)
    published, file_problem = _published(keys)
    head = session.get(AuditChainHead, HEAD_ID)
    expected_prev = rules.GENESIS_HASH
    expected_seq = 1
    checked = matched = 0
    keyed_from: int | None = None
    last_good_checkpoint = 0

    def report(problem: str, *, broken_seq: int | None, broken_id: int | None = None) -> VerifyReport:
        return VerifyReport(checked, expected_seq - 1, expected_prev, broken_seq=broken_seq, broken_id=broken_id,
                            problem=problem, checkpoints=matched, keyed_from=keyed_from)  # fmt: skip

    if file_problem:
        return report(file_problem, broken_seq=None)
    query = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000)
    for entry in session.scalars(query):
        problem: str | None
        if entry.seq != expected_seq:
            problem = f"第 {expected_seq} 条记录缺失（下一条为第 {entry.seq} 条）"
        elif entry.prev_hash != expected_prev:
            problem = f"第 {entry.seq} 条记录的前序哈希与上一条不符（上一条被改动或删除）"
        else:
            problem = _link_problem(entry, keys, keyed_before=keyed_from is not None)
        if problem:
            return report(problem, broken_seq=expected_seq, broken_id=entry.id)
        for point in published.get(entry.seq, ()):
            if not rules.same_digest(point.hash, entry.hash):
                first = last_good_checkpoint + 1
                span = f"第 {entry.seq} 条" if first == entry.seq else f"第 {first} 至第 {entry.seq} 条中"
                return report(f"第 {entry.seq} 条记录与 {_when(point.published_at)} 发布的检查点不符：{span}有记录被改动，"
                              "其后的哈希被重新计算", broken_seq=first, broken_id=entry.id)  # fmt: skip
            matched += 1
            last_good_checkpoint = entry.seq
        if entry.key_id is not None and keyed_from is None:
            keyed_from = entry.seq
        expected_prev = entry.hash
        expected_seq += 1
        checked += 1
    last = expected_seq - 1
    beyond = [p for seq, points in published.items() if seq > last for p in points]
    if beyond:
        point = max(beyond, key=lambda p: p.seq)
        return report(f"第 {last + 1} 条及以后的记录缺失：{_when(point.published_at)} 发布的检查点记载审计链已有 "
                      f"{point.count} 条，数据库中只有 {last} 条（末尾记录被删除）", broken_seq=last + 1)  # fmt: skip
    if head is None:
        return report("审计链头记录缺失", broken_seq=None)
    if head.last_seq != last or head.last_hash != expected_prev:
        return report(f"链头记录为第 {head.last_seq} 条，实际只核验到第 {last} 条（末尾记录被删除或链头被改动）",
                      broken_seq=last + 1)  # fmt: skip
    if keys.checkpoint_file is not None and keyed_from is not None and not published:
        return report(f"检查点文件 {keys.checkpoint_file} 不存在或为空，无法确认末尾记录未被删除",
                      broken_seq=None)  # fmt: skip
    return VerifyReport(checked, last, expected_prev, checkpoints=matched, keyed_from=keyed_from)


# ------------------------------------------------------------------------------------ search & export


@dataclass
class AuditQuery:
    actor: str | None = None
    department_id: int | None = None
    subject_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    within: Any = None  # the reader's data scope: an SQL condition on audit_entries (None: every entry)


def _filtered(query: AuditQuery) -> Any:
    stmt = select(AuditEntry)
    if query.within is not None:
        stmt = stmt.where(query.within)
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


def write_entries(session: Session, query: AuditQuery, out: IO[str]) -> int:
    """The matching entries as CSV, without recording the export (`record_export` does): the number written."""
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for entry in iter_entries(session, query):
        body = _body_of(entry)
        body["details"] = rules.canonical_json(body["details"])
        writer.writerow([_csv_cell(body.get(c, getattr(entry, c, None))) for c in EXPORT_COLUMNS[:-2]]
                        + [entry.prev_hash, entry.hash])  # fmt: skip
        count += 1
    return count


def record_export(session: Session, query: AuditQuery, rows: int, *, actor: Actor | str) -> AuditEntry:
    """The trail's entry of an export of `rows` entries matching `query` (written by `write_entries`)."""
    return record(session, AuditAction.AUDIT_EXPORTED, actor=actor, details={
        "rows": rows, "actor_filter": query.actor, "department_id": query.department_id,
        "subject_id": query.subject_id, "action": query.action,
        "since": query.since.isoformat() if query.since else None,
        "until": query.until.isoformat() if query.until else None,
    })  # fmt: skip
