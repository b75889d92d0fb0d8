"""Running Alembic from the package, so `xinyong db upgrade` works wherever xinyong is installed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from xinyong.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "heads", connection: Connection | None = None) -> None:
    command.upgrade(alembic_config(database_url, connection), revision)


def current_heads(database_url: str) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


def known_revisions() -> set[str]:
    """Every revision this version's migrations know: a database at any other comes from a newer program."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def database_revisions(database_url: str) -> list[str]:
    """The revisions the database is at (empty for a database never migrated)."""
    from alembic.migration import MigrationContext


    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return sorted(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


# Schema changes that run while the platform writes. On PostgreSQL a migration's statements otherwise share one
# transaction, and a `DROP INDEX`, `ALTER COLUMN … SET NOT NULL` or an `UPDATE` of every record holds its locks
# until the whole upgrade commits: imports, credit checks and repairs would wait for minutes at 10⁷ records.
# These helpers commit as they go (Alembic's autocommit block) and take only short exclusive locks.


def rebuild_index_concurrently(name: str, table: str, columns: list[str], included: list[str]) -> None:
    """PostgreSQL: index `name` rebuilt beside the old one without blocking writes, then swapped in. A build that
    failed part-way leaves an invalid index, which the next attempt drops first."""
    from alembic import op

    new = f"{name}_new"
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {new}")
        include = f" INCLUDE ({', '.join(included)})" if included else ""
        op.execute(f"CREATE INDEX CONCURRENTLY {new} ON {table} ({', '.join(columns)}){include}")
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute(f"ALTER INDEX {new} RENAME TO {name}")


def fill_column_in_batches(table: str, column: str, assignment: str, *, batch: int = 10_000) -> None:
    """PostgreSQL: `UPDATE table SET column = assignment` over the whole table, `batch` ids at a time, each batch
    committed on its own, so that a row is locked for one batch rather than for the whole upgrade. The table must
    have an integer `id`; `assignment` may name the table's columns. Then the column becomes NOT NULL without an
    exclusive scan: a check constraint is added unvalidated (new rows must satisfy it from then on), the rows
    written meanwhile by an earlier version are filled, the constraint is validated under a lock that lets
    reads and writes go on, and `SET NOT NULL` then relies on it instead of scanning the table."""
    from alembic import op
    from sqlalchemy import text

    check = f"ck_{table}_{column}_filled"
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        low, high = bind.execute(text(f"SELECT min(id), max(id) FROM {table}")).one()  # noqa: S608
        fill = text(f"UPDATE {table} SET {column} = {assignment} "  # noqa: S608
                    f"WHERE id >= :low AND id < :high AND {column} IS NULL")  # fmt: skip
        if low is not None:
            for start in range(low, high + 1, batch):
                bind.execute(fill, {"low": start, "high": start + batch})
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID")
        op.execute(f"UPDATE {table} SET {column} = {assignment} WHERE {column} IS NULL")  # noqa: S608
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {check}")
