"""The feed under concurrent writers: read from any cursor, it serves every committed change once, in one
order, including a change whose transaction began first and committed last."""

from __future__ import annotations

import random
import threading
import time
from datetime import date

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from tests.factories.records import department, penalty_row
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.actors import Permission
from xinyong.changelog import service as changelog
from xinyong.changelog.models import ChangeKind
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.exchange import cursors, feed
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service

TODAY = date(2025, 10, 20)
PERMISSIONS = frozenset({Permission.API_CHANGES_READ})
ROUNDS = 10


def _read_all(factory, settings: Settings, after: str | None, *, limit: int = 7) -> tuple[list[tuple[int, int]], str]:  # type: ignore[no-untyped-def]
    """Every change after the cursor, as (seq, id) positions, a page at a time, each page its own transaction."""
    positions: list[tuple[int, int]] = []
    while True:
        with factory() as session:
            page = feed.read(session, settings=settings, key_prefix="partner", permissions=PERMISSIONS, after=after,
                             types="penalty", limit=limit, today=TODAY)  # fmt: skip
            session.commit()
        for change in page.changes:
            position = cursors.decode(change["cursor"], feed.key_scope("partner"), _key(settings))
            positions.append((position.seq, position.id))
        after = page.cursor
        if not page.has_more:
            return positions, after


def _key(settings: Settings) -> bytes:
    from xinyong.exchange.service import cursor_key

    return cursor_key(settings)


def test_two_writers_and_a_reader_no_gap_no_duplicate(fresh_database_url: str, settings: Settings) -> None:
    engine = make_engine(fresh_database_url)
    factory = keyed_sessionmaker(engine)
    protector = make_protector(settings)
    with factory() as session:
        dept = department(session)
        session.commit()
        dept_id = dept.id
    errors: list[BaseException] = []
    done = threading.Event()

    def _import(rows: list[dict[str, str]]) -> None:
        from xinyong.departments.models import Department

        with factory() as session:
            dept = session.get(Department, dept_id)
            assert dept is not None
            session.commit()  # the import's first statement writes: no read snapshot to upgrade
            result = records_service.import_rows(
                session, rows, settings=settings, protector=protector, record_type="penalty", department=dept,
                actor="test", today=TODAY,
            )  # fmt: skip
            assert result.rejected == 0

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(ROUNDS):
                rows = [penalty_row() for _ in range(rng.randint(1, 3))]
                for attempt in range(20):
                    try:
                        _import(rows)
                        break
                    except OperationalError as exc:
                        # Two imports in one process on SQLite may meet its lock outside the writers' turn; the
                        # department sends the batch again (imports are idempotent), as it would in practice.
                        if "locked" not in str(exc) or attempt == 19:
                            raise
                        time.sleep(0.01)
                time.sleep(rng.random() / 200)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    seen: list[tuple[int, int]] = []
    cursors_seen: list[str | None] = [None]

    def reader() -> None:
        after: str | None = None
        try:
            while True:
                finished = done.is_set()
                got, after = _read_all(factory, settings, after)
                seen.extend(got)
                cursors_seen.append(after)
                if finished:
                    return
                time.sleep(0.002)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in (1, 2)]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    done.set()
    watcher.join(120)
    assert not errors, errors

    with factory() as session:
        logged = [(row.seq, row.id) for row in changelog.page(session, changelog.Position.start(), limit=10_000)]
    assert len(logged) >= 2 * ROUNDS
    assert seen == logged  # every change, once, in log order
    assert len(set(seen)) == len(seen)
    # replay from the start and from any cursor the reader was given: exactly the rest of the log
    given = cursors_seen[1:]
    for cursor in [None, *random.Random(3).sample(given, min(7, len(given)))]:
        replay, _ = _read_all(factory, settings, cursor, limit=5)
        start = (0, 0) if cursor is None else _position(cursor, settings)
        assert replay == [p for p in logged if p > start]
    engine.dispose()


def _position(cursor: str, settings: Settings) -> tuple[int, int]:
    position = cursors.decode(cursor, feed.key_scope("partner"), _key(settings))
    return (position.seq, position.id)


def test_a_transaction_that_commits_late_is_not_skipped(fresh_database_url: str, settings: Settings) -> None:
    """A begins and writes first (the lower change id), B writes later and commits first; a reader that read B
    before A committed still gets A afterwards. (SQLite lets one transaction write at a time, so the late
    commit cannot happen there: B would wait for A's lock.)"""
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writing transactions: no transaction can commit after a later one")
    engine = make_engine(fresh_database_url)
    factory = keyed_sessionmaker(engine)
    early: Session = factory()
    late: Session = factory()
    try:
        changelog.log(early, [(1001, "penalty")], ChangeKind.CREATED)
        early.flush()
        changelog.log(late, [(1002, "penalty")], ChangeKind.CREATED)
        late.commit()
        first, cursor = _read_all(factory, settings, None)
        assert len(first) == 1
        early.commit()
        second, _ = _read_all(factory, settings, cursor)
        assert len(second) == 1
        assert second[0][1] < first[0][1]  # the earlier-begun change: a lower id, served after
        assert second[0][0] > first[0][0]  # … under a later commit sequence number
    finally:
        early.close()
        late.close()
        engine.dispose()
