"""Queue short, frequent write transactions (recording credit checks) instead of letting them collide.

SQLite lets one connection write at a time. A connection that finds the write lock taken sleeps in
SQLite's busy handler in growing steps (1, 2, 5, 10 … ms) and retries, so under concurrent requests most of
a 0.1 ms write is spent asleep: a check server measured 60 checks/s with most threads idle. Here writers
wait their turn on locks that wake them the moment the holder is done: a thread lock within the process,
and an advisory file lock (`flock`, next to the database file) between server processes. PostgreSQL needs
none of this: it locks rows, not the database.

Writers that do not take part (an import, a console action) still meet SQLite's own locking and wait in
its busy handler, as before; this only shortens the queue among the participants.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar

import anyio.to_thread
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from xinyong.db import begin_writing, session_scope, try_begin_writing

try:  # POSIX only; elsewhere the thread lock alone orders the writers of one process
    import fcntl
except ImportError:  # pragma: no cover - not on the supported platforms
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")

_thread_locks: dict[str, threading.Lock] = {}
_lock_files: dict[tuple[int, str], IO[bytes]] = {}  # per process: flock belongs to the open file
_guard = threading.Lock()


_files: weakref.WeakKeyDictionary[Engine, str | None] = weakref.WeakKeyDictionary()


def _database_file(session: Session) -> str | None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    try:
        return _files[engine]
    except KeyError:
        pass
    path = None
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        path = str(Path(engine.url.database).resolve())  # type: ignore[arg-type]
    _files[engine] = path
    return path


def _locks_for(path: str) -> tuple[threading.Lock, IO[bytes] | None]:
    with _guard:
        lock = _thread_locks.setdefault(path, threading.Lock())
        key = (os.getpid(), path)  # a forked child opens its own: an inherited one would share the lock
        handle = _lock_files.get(key)
        if handle is None and fcntl is not None:
            try:
                handle = open(path + "-writers", "ab")  # noqa: SIM115 - held for the life of the process
            except OSError:
                handle = None  # a read-only directory: the thread lock still helps
            else:
                _lock_files[key] = handle
        return lock, handle


async def run_in_turn(session: Session, work: Callable[[], T]) -> T:
    """`work()` in the writers' turn, as a writer's transaction (see `db.begin_writing`), from async code: at
    once on the event loop when the turn and SQLite's write lock are both free (the usual case: a short write
    costs less than a hop to a worker thread), else in a worker thread that waits for them, so that the event
    loop never blocks on another writer. The lock is tried without waiting because writers outside the turn (an
    import's chunk, a job, a console action) hold it too: waiting for them on the loop stopped every request
    of the process for as long."""
    path = _database_file(session)
    if path is None:
        return work()
    lock, handle = _locks_for(path)
    if lock.acquire(blocking=False):
        try:
            with _file_lock_now(handle) as held:
                if held and try_begin_writing(session):
                    return work()
        finally:
            lock.release()

    def waiting() -> T:
        with turn(session):
            begin_writing(session)
            return work()

    return await anyio.to_thread.run_sync(waiting)


@contextmanager
def _file_lock_now(handle: IO[bytes] | None) -> Iterator[bool]:
    """The writers' file lock if no other process holds it (True), without waiting; True without a lock file."""
    if handle is None:
        yield True
        return
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        yield False
        return
    try:
        yield True
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def turn(session: Session) -> Iterator[None]:
    """Hold the writers' turn for the session's database while the block writes and commits.

    The session must not be inside a transaction that already read: on SQLite (WAL) such a transaction
    cannot start writing once another writer committed after its first read."""
    path = _database_file(session)
    if path is None:
        yield
        return
    lock, handle = _locks_for(path)
    with lock:
        if handle is None:
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def writing(session: Session) -> Iterator[None]:
    """A writer's transaction in the writers' turn: begun before the block's first statement (the session must
    have none open) and committed before the turn is released. When the block raises, it is left uncommitted for
    the caller to roll back (or to commit, for a refusal that keeps its changes)."""
    with turn(session):
        begin_writing(session)
        yield
        session.commit()


@contextmanager
def writing_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """`db.session_scope` for a job or command that reads and then writes, as one writer's transaction (`writing`).
    On SQLite a plain transaction that has read cannot start writing once another connection (an import's chunk)
    committed since: the sweep, list expiry and the rest failed whenever they met an import."""
    with session_scope(factory) as session, writing(session):
        yield session
