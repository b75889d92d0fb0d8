"""Writing the change log and reading it in commit order (see the package's docstring)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, event, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from xinyong.changelog.models import Change, ChangeKind, ChangeSequence
from xinyong.db import among, bulk_insert, utcnow

_TOKEN = "changelog.txn"  # noqa: S105  (a session.info key, not a secret)
_PART = 900  # values per IN list (SQLite's parameter limit, with room)


@dataclass(frozen=True, order=True)
class Position:
    """A place in the log: after the change (seq, id). (0, 0) is the beginning."""

    seq: int
    id: int

    @classmethod
    def start(cls) -> Position:
        return cls(0, 0)


def _token(session: Session) -> str:
    token = session.info.get(_TOKEN)
    if token is None:
        token = session.info[_TOKEN] = secrets.token_hex(16)
    return token


def log(session: Session, changes: Iterable[tuple[int, str]], kind: str) -> int:
    """Log `kind` for each (record id, record type), in the caller's transaction."""
    assert kind in ChangeKind.ALL
    token, now = None, utcnow()
    rows = []
    for record_id, record_type in changes:
        token = token or _token(session)
        rows.append((record_id, record_type, kind, token, now))
    bulk_insert(session, Change.__table__, rows, columns=("record_id", "record_type", "kind", "txn", "created_at"))
    return len(rows)


def log_new_records(
    session: Session, table: Any, *, department_id: int, record_type: str, doc_nos: Sequence[str]
) -> None:
    """Log the creation of records just inserted in bulk into `table` (the records table, which this core package
    does not import): their ids are looked up by their natural key, and logged in id order (the order the rows
    were inserted in), not in whatever order the database finds them (by the 文书号 index: "10号" before "9号")."""
    if not doc_nos:
        return
    token, now = _token(session), utcnow()
    target = Change.__table__
    for start in range(0, len(doc_nos), _PART):
        chosen = select(
            table.c.id, table.c.record_type, literal(ChangeKind.CREATED), literal(token),
            literal(now, target.c.created_at.type),
        ).where(
            table.c.department_id == department_id, table.c.record_type == record_type,
            among(session, table.c.doc_no, doc_nos[start : start + _PART]),
        ).order_by(table.c.id)  # fmt: skip
        session.execute(insert(target).from_select(["record_id", "record_type", "kind", "txn", "created_at"], chosen))


@event.listens_for(Session, "before_commit")
def _sequence(session: Session) -> None:
    """Give this transaction's changes the next commit sequence number. The UPDATE of the sequence row locks it
    until the commit ends, so numbers are handed out in commit order (on SQLite the write lock does the same)."""
    token = session.info.pop(_TOKEN, None)
    if token is None:
        return
    sequence = ChangeSequence.__table__
    value = session.execute(
        update(sequence).where(sequence.c.id == 1).values(value=sequence.c.value + 1).returning(sequence.c.value)
    ).scalar_one()
    changes = Change.__table__
    session.execute(update(changes).where(changes.c.txn == token).values(seq=value, txn=None))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    """The session's outermost transaction ended (committed, or rolled back with its changes): forget its token. A
    savepoint rolled back inside it leaves the changes logged before the savepoint, and their token."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_TOKEN, None)


# ------------------------------------------------------------------------------------------ reading


def head(session: Session) -> Position:
    """The last committed position (the pruning horizon when the log holds nothing after it, the beginning when
    it never held anything)."""
    changes = Change.__table__
    seq = session.execute(select(func.max(changes.c.seq))).scalar()
    if seq is None:
        return horizon(session)
    last = session.execute(select(func.max(changes.c.id)).where(changes.c.seq == seq)).scalar()
    return max(Position(int(seq), int(last or 0)), horizon(session))


def after(position: Position) -> Any:
    changes = Change.__table__
    return or_(changes.c.seq > position.seq, and_(changes.c.seq == position.seq, changes.c.id > position.id))


def not_after(position: Position) -> Any:
    changes = Change.__table__
    return or_(changes.c.seq < position.seq, and_(changes.c.seq == position.seq, changes.c.id <= position.id))


def page(
    session: Session, start: Position, *, types: Sequence[str] | None = None, limit: int = 500,
    until: Position | None = None,
) -> list[Any]:  # fmt: skip
    """Changes after `start` in log order (committed ones only), at most `limit`: rows of
    (id, seq, record_id, record_type, kind, created_at)."""
    changes = Change.__table__
    query = select(
        changes.c.id, changes.c.seq, changes.c.record_id, changes.c.record_type, changes.c.kind, changes.c.created_at
    ).where(changes.c.seq.is_not(None), after(start))
    if types is not None:
        query = query.where(changes.c.record_type.in_(list(types)))
    if until is not None:
        query = query.where(not_after(until))
    return list(session.execute(query.order_by(changes.c.seq, changes.c.id).limit(limit)))


# ------------------------------------------------------------------------------------------ pruning


def horizon(session: Session) -> Position:
    """The last change deleted by pruning: a reader's cursor before it has missed changes that are gone."""
    sequence = ChangeSequence.__table__
    row = session.execute(select(sequence.c.pruned_seq, sequence.c.pruned_id).where(sequence.c.id == 1)).first()
    return Position(int(row[0]), int(row[1])) if row is not None else Position.start()


def prune(session: Session, *, made_before: datetime, keep_after: Position | None = None) -> int:
    """Delete the committed changes made before `made_before`, none after `keep_after` (the slowest consumer the
    platform itself feeds: destinations, webhooks), and move the horizon to the last one deleted. Returns the
    number deleted. The sequence row's lock keeps it from interleaving with commits that hand out positions."""
    changes, sequence = Change.__table__, ChangeSequence.__table__
    query = select(changes.c.seq, changes.c.id).where(changes.c.seq.is_not(None), changes.c.created_at < made_before)
    if keep_after is not None:
        query = query.where(not_after(keep_after))
    last = session.execute(query.order_by(changes.c.seq.desc(), changes.c.id.desc()).limit(1)).first()
    if last is None:
        return 0
    cut = Position(int(last[0]), int(last[1]))
    session.execute(update(sequence).where(sequence.c.id == 1).values(pruned_seq=cut.seq, pruned_id=cut.id))
    deleted = session.execute(delete(changes).where(changes.c.seq.is_not(None), not_after(cut)))
    return int(getattr(deleted, "rowcount", 0) or 0)
