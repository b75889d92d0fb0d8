from __future__ import annotations

from alembic import context

from xinyong import models  # noqa: F401  (fills the metadata)
from xinyong.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _sqlite_foreign_keys(connection, enabled: bool) -> None:  # type: ignore[no-untyped-def]
    """Batch mode recreates a table and drops the old one; with foreign keys on, SQLite's DROP TABLE deletes
    its rows first and cascades to the rows that reference them. SQLite's documented ALTER procedure turns
    the checks off around the change; the pragma only takes effect outside a transaction."""
    raw = connection.connection.driver_connection
    if not raw.in_transaction:
        raw.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "sqlite":
        _sqlite_foreign_keys(connection, False)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode recreates the table.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        if connection.dialect.name == "sqlite":
            _sqlite_foreign_keys(connection, True)
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None  # migrate.alembic_config sets it
    engine = make_engine(url)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
        if conn.dialect.name == "sqlite":
            _sqlite_foreign_keys(conn, True)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations_online()
