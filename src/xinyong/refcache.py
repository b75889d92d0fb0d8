"""Reference data kept per process: list types, department names and classes, the current measures.

A credit check reads a few dozen rows of reference data that change a few times a year; reading them on
every request cost more than the check itself. Values are kept per engine for at most `ttl` seconds
(`XINYONG_REFERENCE_CACHE_SECONDS`). A commit that changed a watched model (an ORM flush of a `ListType`,
`Measure`, `Department` …) drops every cached value of this process at once; other processes (server
workers) see the change within the TTL.

Sessions bound to a connection the caller manages (scripts and tests running inside an outer transaction)
and sessions that flushed a change to a watched model in their current transaction bypass the cache:
what they read might never be committed.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

T = TypeVar("T")

DEFAULT_TTL_SECONDS = 5.0
_DIRTY = "refcache.dirty"

_watched: set[type] = set()
_ttl: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()
_values: weakref.WeakKeyDictionary[Engine, dict[Any, tuple[float, Any]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()

monotonic = time.monotonic  # the clock the TTL is measured on (tests set a manual one)


def configure(engine: Engine, ttl_seconds: float) -> None:
    """The TTL for values read through `engine` (0 turns the cache off for it)."""
    with _lock:
        _ttl[engine] = max(float(ttl_seconds), 0.0)
        _values.pop(engine, None)


def watch(*models: type) -> None:
    """Changes to these ORM models drop the cache when their transaction commits."""
    _watched.update(models)


def clear() -> None:
    with _lock:
        _values.clear()


def get(session: Session, key: Any, loader: Callable[[Session], T]) -> T:
    """The cached value of `key` for the session's database, loading it with `loader(session)` when absent
    or older than the TTL (a None is returned, never kept). Sessions that must not share (see the module
    docstring) get a per-session copy."""
    bind = session.get_bind()
    if not isinstance(bind, Engine) or session.info.get(_DIRTY):
        per_session = session.info.setdefault("refcache.local", {})
        if key not in per_session or session.info.get(_DIRTY):
            per_session[key] = loader(session)
        return per_session[key]  # type: ignore[no-any-return]
    ttl = _ttl.get(bind, DEFAULT_TTL_SECONDS)
    now = monotonic()
    store = _values.get(bind)
    hit = store.get(key) if store is not None else None
    if hit is not None and now - hit[0] < ttl:
        return hit[1]  # type: ignore[no-any-return]
    value = loader(session)
    if ttl > 0 and value is not None:  # nothing is kept for what does not exist (unbounded keys)
        with _lock:
            _values.setdefault(bind, {})[key] = (now, value)
    return value


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context: Any) -> None:
    if _watched and not session.info.get(_DIRTY):
        watched = tuple(_watched)
        changed = (*session.new, *session.dirty, *session.deleted)
        if any(isinstance(obj, watched) for obj in changed):
            session.info[_DIRTY] = True
            session.info.pop("refcache.local", None)


@event.listens_for(Session, "after_commit")
def _drop_on_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        session.info.pop("refcache.local", None)
        clear()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        session.info.pop("refcache.local", None)
