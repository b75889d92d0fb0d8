"""The change log's bookkeeping: what a transaction logs is sequenced when it commits, once, and nothing of a
rolled-back transaction or savepoint survives."""

from __future__ import annotations

from sqlalchemy import select

from xinyong.changelog import service as changelog
from xinyong.changelog.models import Change, ChangeKind


def _logged(db_session) -> list[tuple[int, int | None]]:  # type: ignore[no-untyped-def]
    return [(c.record_id, c.seq) for c in db_session.scalars(select(Change).where(Change.record_id >= 900_000)
                                                             .order_by(Change.id))]  # fmt: skip


def test_a_savepoint_rolled_back_keeps_what_was_logged_before_it(db_session) -> None:
    start = changelog.head(db_session)
    changelog.log(db_session, [(900_001, "penalty")], ChangeKind.CREATED)
    savepoint = db_session.begin_nested()
    changelog.log(db_session, [(900_002, "penalty")], ChangeKind.CREATED)
    savepoint.rollback()
    db_session.commit()
    logged = _logged(db_session)
    assert [r for r, _ in logged] == [900_001]
    assert logged[0][1] == start.seq + 1
    assert changelog.head(db_session).seq == start.seq + 1


def test_a_rolled_back_transaction_leaves_nothing_and_the_next_one_is_sequenced(db_session) -> None:
    start = changelog.head(db_session)
    changelog.log(db_session, [(900_003, "penalty")], ChangeKind.CREATED)
    db_session.rollback()
    changelog.log(db_session, [(900_004, "penalty")], ChangeKind.UPDATED)
    db_session.commit()
    db_session.commit()  # a commit with nothing logged takes no number
    assert _logged(db_session) == [(900_004, start.seq + 1)]
    assert [row.record_id for row in changelog.page(db_session, start)] == [900_004]
