"""Database plumbing: the declarative base, the engine factory and sessions.

Everything dialect-specific lives here, so the domains stay portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")

monotonic = time.monotonic  # the clock idle connections are timed on (tests set a manual one)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both databases (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model here maps one table (SQLAlchemy types it as any FromClause); the bulk paths use it.
        __table__: ClassVar[Table]  # type: ignore[misc]


def _configure_sqlite(engine: Engine, cache_mb: int) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT semantics; SQLAlchemy documents
    # disabling it and emitting BEGIN ourselves.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA cache_size={-1024 * int(cache_mb)}")  # negative: in KiB
        cursor.close()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
        # A connection whose commits left the checkpoint to a BackgroundCheckpointer gets its setting back
        # before anyone else can use it; one that cannot is closed rather than pooled without checkpoints.
        if connection_record.info.pop(_CHECKPOINT_DEFERRED, False) and dbapi_connection is not None:
            try:
                dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            except sqlite3.Error:
                connection_record.invalidate()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight to the driver: through exec_driver_sql this cost a tenth of a credit check.
        begin = conn.get_execution_options().get(_SQLITE_BEGIN, "BEGIN")
        if begin == _WRITER_OFF_LOOP:
            begin = "BEGIN" if _on_event_loop() else "BEGIN IMMEDIATE"
        driver = conn.connection.driver_connection
        try:
            if begin == _WRITER_NOW:
                _begin_without_waiting(driver)
            else:
                driver.execute(begin)
        except sqlite3.OperationalError as exc:
            # Raised here, outside SQLAlchemy's own wrapping: as SQLAlchemy's, so that a BEGIN IMMEDIATE that
            # waited out the busy timeout is told apart from a defect (503, "数据库暂时无法访问", web.errors).
            raise OperationalError(begin, None, exc) from exc


def _begin_without_waiting(driver: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE that fails at once ("database is locked") when another connection holds the write lock,
    instead of waiting in the busy handler; the connection's busy timeout is set back either way."""
    (timeout_ms,) = driver.execute("PRAGMA busy_timeout").fetchone()
    driver.execute("PRAGMA busy_timeout = 0")
    try:
        driver.execute("BEGIN IMMEDIATE")
    finally:
        driver.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


_SQLITE_BEGIN = "xinyong_sqlite_begin"
# How long a connection waits for another's write lock before giving up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000
_WRITER_OFF_LOOP = "writer off the event loop"
_WRITER_NOW = "writer now or not at all"


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def begin_writing(session: Session) -> None:
    """Start the session's next transaction as a writer's. On SQLite that is `BEGIN IMMEDIATE`: the transaction
    takes the write lock first, waiting in the busy handler while another connection writes. A plain (deferred)
    transaction that has read and then writes while another connection holds the lock fails at once with
    "database is locked" (SQLite cannot wait there without risking a deadlock), so a long import whose chunks
    look subjects up before inserting them failed whenever a console action or a job wrote at that moment.
    Nothing on PostgreSQL, or when the session is already in a transaction."""
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return
    session.connection(execution_options={_SQLITE_BEGIN: "BEGIN IMMEDIATE"})


def try_begin_writing(session: Session) -> bool:
    """`begin_writing` without waiting, for the event loop, which must never sit in SQLite's busy handler: False
    (and the session left without a transaction) when another connection holds the write lock, so that the
    caller can wait for it in a worker thread instead. True on PostgreSQL, or when the session is already in a
    transaction."""
    if session.in_transaction() or session.get_bind().dialect.name != "sqlite":
        return True
    try:
        session.connection(execution_options={_SQLITE_BEGIN: _WRITER_NOW})
    except OperationalError as exc:
        session.rollback()
        if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
            raise
        return False
    return True


def try_write(session: Session, work: Callable[[], T]) -> T | None:
    """Bookkeeping that may wait for a later request (a session's last use, marking dead imports): `work()` in
    a savepoint. On SQLite a transaction that has read cannot start writing once another connection (an
    import's chunk, a job) committed after that read; then the savepoint is rolled back, None is returned and
    the rest of the transaction goes on. Any other failure, and every failure on PostgreSQL, propagates."""
    session.flush()  # the caller's own changes are not bookkeeping: they fail, if they fail, outside
    try:
        with session.begin_nested():
            return work()
    except OperationalError as exc:
        if session.get_bind().dialect.name != "sqlite" or "locked" not in str(exc.orig):
            raise
        log.info("bookkeeping write skipped: the database was busy")
        return None


def writers_bind(engine: Engine) -> Engine:
    """The engine for sessions that are likely to write after they read (a synchronous handler's form): on
    SQLite their transactions begin as writers' (see `begin_writing`), waiting for the write lock and then
    holding it until they end, except on an event loop's thread, which must never wait for it: there they begin
    as plain transactions, as before. The same engine on PostgreSQL."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_SQLITE_BEGIN: _WRITER_OFF_LOOP})


# SQLite's own default: a committing connection copies the WAL back into the database once it holds this
# many pages (4 MB), which on an import is about every chunk.
WAL_AUTOCHECKPOINT_PAGES = 1000
_CHECKPOINT_DEFERRED = "xinyong_checkpoint_deferred"
T = TypeVar("T")
log = logging.getLogger(__name__)


def make_engine(url: str, *, sqlite_cache_mb: int = 64, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        # SQLite's page cache belongs to each connection: handing out the most recently used one keeps
        # the pages a request just read for the next, instead of spreading them over the whole pool.
        if make_url(url).database not in (None, "", ":memory:"):  # in memory: one connection per thread
            kwargs.setdefault("pool_use_lifo", True)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, sqlite_cache_mb)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if "connect_timeout" not in make_url(url).query:
        # libpq waits for the operating system's TCP timeout (minutes) on a server that is down: a page, a
        # scrape or a job gets its error after this many seconds instead. The URL may set its own.
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **kwargs.get("connect_args", {})}
    engine = create_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping") and engine.dialect.name == "postgresql":
        _ping_after_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


CONNECT_TIMEOUT_SECONDS = 10

# A pooled PostgreSQL connection is checked before use only after sitting idle this long.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection with a round trip before handing it out, but only when it has been idle:
    `pool_pre_ping` pays that round trip on every request, a fifth of a code look-up's. A connection returned
    moments ago is alive unless the server went away in between; then the statement fails, SQLAlchemy sees
    the disconnect and replaces every pooled connection, and the next request gets a fresh one."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)  # None: connected just now
        if dbapi_connection.closed:
            raise DisconnectionError("connection closed")
        if idle_since is None or monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(str(error)) from error  # the pool reconnects and tries again


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


# ------------------------------------------------------------------------------------- read-only reads


class ReadOnlyViolation(RuntimeError):
    """Something tried to write through a session or engine meant for reading only (a bug, never a user's)."""


class ReadOnlySession(Session):
    """A session for public reads: a flush with changes, or an INSERT, UPDATE or DELETE run through it, raises
    instead of reaching the database. What reaches the database through `session.connection()` is refused by
    the database itself when the session's engine came from `make_read_engine`."""

    def flush(self, objects: Sequence[Any] | None = None) -> None:
        if self.new or self.deleted or any(self.is_modified(o) for o in self.dirty):
            raise ReadOnlyViolation("a public read tried to write through its read-only session")
        super().flush(objects)

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(statement, "is_dml", False):
            raise ReadOnlyViolation("a public read ran a data-changing statement through its read-only session")
        return super().execute(statement, *args, **kwargs)


def make_read_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, class_=ReadOnlySession, expire_on_commit=False, autoflush=False)


def make_read_engine(url: str, *, sqlite_cache_mb: int = 64, **kwargs: Any) -> Engine:
    """An engine whose connections cannot write: each PostgreSQL session runs with
    `default_transaction_read_only` (a hot standby refuses writes anyway; this also holds when the URL names a
    primary), each SQLite connection with `query_only`."""
    engine = make_engine(url, sqlite_cache_mb=sqlite_cache_mb, **kwargs)

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection: Any, connection_record: Any) -> None:
        if engine.dialect.name == "sqlite":
            dbapi_connection.execute("PRAGMA query_only=ON")
            return
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # the SET must not leave a transaction open
        try:
            dbapi_connection.execute("SET default_transaction_read_only = on")
        finally:
            dbapi_connection.autocommit = autocommit

    return engine


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The single commit boundary for CLI commands and jobs."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgresql(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


__all__ = [
    "JSONB",
    "Base",
    "JSONType",
    "ReadOnlySession",
    "ReadOnlyViolation",
    "UTCDateTime",
    "is_postgresql",
    "make_engine",
    "make_read_engine",
    "make_read_sessionmaker",
    "make_sessionmaker",
    "period_last_day",
    "session_scope",
    "try_write",
    "utcnow",
    "writers_bind",
]


# ------------------------------------------------------------------------------------ date arithmetic


class period_last_day(FunctionElement[date]):
    """`period_last_day(day, months)`: the last day of a period of `months` calendar months starting on `day`,
    i.e. `records.rules.add_months(day, months) - 1 day`, clamped at month ends as that function is
    (2024-01-31 + 1 month = 2024-02-29). `months` is a constant of the query (a configured period)."""

    type = Date()
    name = "period_last_day"
    inherit_cache = True

    def __init__(self, day: Any, months: int) -> None:
        # The number is part of the SQL text, not a parameter: the expression repeats it, it comes from
        # configuration, and as text it is part of the statement cache's key (a bound value would not be).
        super().__init__(day, literal_column(str(int(months))))


def _period_parts(element: period_last_day, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    day, months = list(element.clauses)
    return compiler.process(day, **kw), compiler.process(months, **kw)


@compiles(period_last_day, "postgresql")
def _period_last_day_postgresql(element: period_last_day, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = _period_parts(element, compiler, **kw)
    # Adding an interval of months clamps at the month's end, as add_months does.
    return f"(CAST({day} + make_interval(months => {months}) AS DATE) - 1)"


@compiles(period_last_day, "sqlite")
def _period_last_day_sqlite(element: period_last_day, compiler: SQLCompiler, **kw: Any) -> str:
    day, months = _period_parts(element, compiler, **kw)
    # SQLite's '+N months' overflows into the next month (2024-01-31 + 1 month = 2024-03-02): when the day of
    # the month changed, the month's last day was passed, and the clamped day is the day before that month.
    shifted = f"date({day}, '{int(months):+d} months')"
    return (f"date(CASE WHEN strftime('%d', {shifted}) = strftime('%d', {day}) THEN {shifted} "
            f"ELSE date({shifted}, 'start of month', '-1 day') END, '-1 day')")


# ------------------------------------------------------------------------------------ bulk inserts


def among(session: Session, column: Any, values: Sequence[str] | Sequence[int]) -> Any:
    """`column IN (values)` as one bound parameter however many values there are: a JSON array read by
    `json_each` on SQLite, an array with `= ANY` on PostgreSQL. SQLAlchemy's `in_()` turns every value into a
    parameter of its own each time the statement runs, at a few microseconds a value: more than the look-up
    itself for the thousands of keys of an import's chunk. For text and integer columns."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    array = bindparam(None, json.dumps(list(values), ensure_ascii=False), type_=String())
    return column.in_(select(literal_column("value")).select_from(func.json_each(array)))


@lru_cache(maxsize=64)
def _sqlite_timestamp(value: datetime | None) -> str | None:
    # Rows of one batch share a handful of timestamps, hence the cache.
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# One encoder for every row: json.dumps builds a new JSONEncoder on each call with non-default options.
_encode_json = json.JSONEncoder(ensure_ascii=False).encode


def encode_json(value: Any) -> str:
    """JSON text exactly as bulk_insert stores a JSON column (what SQLAlchemy's JSON type writes)."""
    return _encode_json(value)


def _driver_converters(table: Any, columns: list[str], dialect: str, *, json_encoded: bool) -> list[Any]:
    """Per column, the function that turns a Python value into what the DBAPI driver stores, matching
    what SQLAlchemy's own type processing would produce on that dialect."""
    converters: list[Any] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            converters.append(_sqlite_timestamp if dialect == "sqlite" else None)
        elif isinstance(column_type, Date):
            converters.append(_sqlite_date if dialect == "sqlite" else None)
        elif isinstance(column_type, JSON):
            # Text on both: SQLite stores it as is, PostgreSQL's COPY parses it into jsonb.
            converters.append(None if json_encoded else _json_or_null)
        else:
            converters.append(None)
    return converters


def _sqlite_date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _json_or_null(value: Any) -> str | None:
    return None if value is None else _encode_json(value)


def bulk_insert(
    session: Session,
    table: Any,
    rows: Sequence[Mapping[str, Any]] | Sequence[tuple[Any, ...]],
    *,
    columns: Sequence[str] | None = None,
    json_encoded: bool = False,
) -> None:
    """INSERT many rows straight through the driver: COPY on PostgreSQL, executemany on SQLite.

    SQLAlchemy's per-row parameter processing costs more than the insert itself on batches of thousands
    of rows, and row-by-row INSERTs cost PostgreSQL a round trip each; this keeps the stored forms that
    SQLAlchemy would produce (see _driver_converters). Rows are dicts with the same keys or, with
    `columns`, tuples in that order (no dict per row). With `json_encoded`, JSON columns already hold
    text from `encode_json` (or None).
    """
    if not rows:
        return
    if columns is None:
        names_ = list(rows[0])  # type: ignore[arg-type]
        getter = itemgetter(*names_)
        if len(names_) > 1:
            params: list[Any] = [getter(row) for row in rows]
        else:
            params = [(getter(row),) for row in rows]
    else:
        names_ = list(columns)
        params = rows if isinstance(rows, list) else list(rows)  # type: ignore[assignment]
    connection = session.connection()
    dialect = connection.dialect.name
    converters = _driver_converters(table, names_, dialect, json_encoded=json_encoded)
    converted = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
    if converted:
        params = [_convert(values, converted) for values in params]
    names = ", ".join(f'"{c}"' for c in names_)
    if dialect == "postgresql":
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                write_row = copy.write_row
                for values in params:
                    write_row(values)
        finally:
            cursor.close()
        return
    marks = ", ".join(["?"] * len(names_))
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', params)  # noqa: S608


def _convert(values: Sequence[Any], converted: list[tuple[int, Any]]) -> tuple[Any, ...]:
    out = list(values)
    for i, conv in converted:
        out[i] = conv(out[i])
    return tuple(out)  # the driver layer takes tuples, not lists


def refresh_statistics(session: Session, table_names: list[str]) -> None:
    """PostgreSQL plans from table statistics; a table that grew from nothing within one long import
    still looks empty to it until autovacuum catches up, and key look-ups then scan. SQLite needs nothing."""
    if session.get_bind().dialect.name == "postgresql":
        for name in table_names:
            session.execute(text(f'ANALYZE "{name}"'))


# ------------------------------------------------------------------------------ checkpoints off the way


class BackgroundCheckpointer:
    """Copies SQLite's write-ahead log back into the database in a thread of its own, for a run of large write
    transactions (an import's chunks).

    A commit that leaves more than WAL_AUTOCHECKPOINT_PAGES in the log checkpoints before it returns: an
    import's commit spent most of its time there, writing the chunk's pages into the database file and syncing
    both files, while the validation worker waited for it to take the next chunk. Here each commit skips that
    (`before_commit`) and asks this thread to do it (`after_commit`), which it does at once while the caller
    prepares its next chunk (the driver releases the GIL). Nothing about durability changes: it is the same
    PASSIVE checkpoint, run as often, with the same syncs; only the caller does not wait for it. A no-op
    other than on an SQLite database file."""

    def __init__(self, session: Session) -> None:
        self._wanted = threading.Event()
        self._closing = False
        self._connection: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine
        database = engine.url.database
        if engine.dialect.name != "sqlite" or database in (None, "", ":memory:") or engine.url.query:
            return
        try:
            connection = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.close()
                return
            connection.execute("PRAGMA synchronous=NORMAL")  # as the engine's connections checkpoint
        except sqlite3.Error:
            log.warning("no background checkpoints for %s", database, exc_info=True)
            return
        self._connection = connection
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def before_commit(self, session: Session) -> None:
        """Let the session's current transaction commit without checkpointing; its connection gets the usual
        setting back when it returns to the pool."""
        if self._thread is None:
            return
        fairy = session.connection().connection
        if not fairy.info.get(_CHECKPOINT_DEFERRED):
            fairy.driver_connection.execute("PRAGMA wal_autocheckpoint=0")  # type: ignore[union-attr]
            fairy.info[_CHECKPOINT_DEFERRED] = True

    def after_commit(self) -> None:
        if self._thread is not None:
            self._wanted.set()

    def close(self) -> None:
        """Wait for the checkpoint asked for last, and stop."""
        if self._thread is None:
            return
        self._closing = True
        self._wanted.set()
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        connection = self._connection
        assert connection is not None
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                # Read before the checkpoint: one asked for while it runs (a commit, or close) runs another.
                closing = self._closing
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    # Not fatal: the next request, or the next ordinary commit of any connection, catches up.
                    log.warning("background checkpoint failed", exc_info=True)
                if closing:
                    return
        finally:
            connection.close()

    def __enter__(self) -> BackgroundCheckpointer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
