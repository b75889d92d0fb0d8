"""Database plumbing: the declarative base, the engine factory and sessions.

Everything dialect-specific lives here, so the domains stay portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
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


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT semantics; SQLAlchemy documents
    # disabling it and emitting BEGIN ourselves.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


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
    "UTCDateTime",
    "is_postgresql",
    "make_engine",
    "make_sessionmaker",
    "session_scope",
    "utcnow",
]


# ------------------------------------------------------------------------------------ bulk inserts


@lru_cache(maxsize=64)
def _sqlite_timestamp(value: datetime | None) -> str | None:
    # Rows of one batch share a handful of timestamps, hence the cache.
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _driver_converters(table: Any, columns: list[str], dialect: str) -> list[Any]:
    """Per column, the function that turns a Python value into what the DBAPI driver stores, matching
    what SQLAlchemy's own type processing would produce on that dialect."""
    import json
    from datetime import date as date_type

    from sqlalchemy import Date

    converters: list[Any] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, UTCDateTime):
            if dialect == "sqlite":
                converters.append(_sqlite_timestamp)
            else:
                converters.append(None)
        elif isinstance(column_type, Date):
            converters.append(
                (lambda v: v.isoformat() if isinstance(v, date_type) else v) if dialect == "sqlite" else None
            )
        elif isinstance(column_type, JSON):
            # Text on both: SQLite stores it as is, PostgreSQL's COPY parses it into jsonb.
            converters.append(lambda v: None if v is None else json.dumps(v, ensure_ascii=False))
        else:
            converters.append(None)
    return converters


def bulk_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows straight through the driver: COPY on PostgreSQL, executemany on SQLite.

    SQLAlchemy's per-row parameter processing costs more than the insert itself on batches of thousands
    of rows, and row-by-row INSERTs cost PostgreSQL a round trip each; this keeps the stored forms that
    SQLAlchemy would produce (see _driver_converters). Every row must have the same keys.
    """
    if not rows:
        return
    columns = list(rows[0])
    connection = session.connection()
    dialect = connection.dialect.name
    converters = _driver_converters(table, columns, dialect)
    getter = itemgetter(*columns)
    converted = [(i, conv) for i, conv in enumerate(converters) if conv is not None]
    params: list[tuple[Any, ...]] = []
    append = params.append
    for row in rows:
        values = getter(row) if len(columns) > 1 else (row[columns[0]],)
        if converted:
            values = list(values)
            for i, conv in converted:
                values[i] = conv(values[i])
            values = tuple(values)
        append(values)
    names = ", ".join(f'"{c}"' for c in columns)
    if dialect == "postgresql":
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for values in params:
                    copy.write_row(values)
        finally:
            cursor.close()
        return
    marks = ", ".join(["?"] * len(columns))
    connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', params)  # noqa: S608


def refresh_statistics(session: Session, table_names: list[str]) -> None:
    """PostgreSQL plans from table statistics; a table that grew from nothing within one long import
    still looks empty to it until autovacuum catches up, and key look-ups then scan. SQLite needs nothing."""
    if session.get_bind().dialect.name == "postgresql":
        for name in table_names:
            session.execute(text(f'ANALYZE "{name}"'))
