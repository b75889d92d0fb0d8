"""Backups of the platform's database, and restoring one.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the database in one step under a read
transaction, so the copy is one committed state even while an import writes (readers do not block writers in WAL
mode); the backup is an ordinary SQLite database file. PostgreSQL: `pg_dump -Fc` (one snapshot, a repeatable-read
transaction) and `pg_restore`, Debian's binaries of the newest installed version (or those on PATH).

Restoring replaces the database's contents; it refuses a database holding data unless forced. Stop the server and
the worker first: a restore is not a transaction they can see through."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from xinyong.db import make_engine
from xinyong.errors import DomainError

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupFailed(DomainError):
    code = "backup-failed"
    status_code = 400
    message_template = "{reason}"


@dataclass(frozen=True)
class Outcome:
    path: Path
    kind: str  # sqlite, postgresql
    size: int


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupFailed(reason="内存中的 SQLite 数据库无法备份或恢复")
    return Path(database)


def libpq_url(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq (pg_dump, pg_restore) reads it, without SQLAlchemy's driver name, and the environment
    that carries its password: a password on the command line would show in every process listing."""
    parsed = make_url(url).set(drivername="postgresql")
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return parsed._replace(password=None).render_as_string(hide_password=False), env


def pg_binary(name: str) -> str:
    """Debian's binary of the newest installed PostgreSQL (its /usr/bin wrappers need a configured cluster),
    else the one on PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.parts[-3].split(".")])  # fmt: skip
    if candidates:
        return str(candidates[-1])
    found = shutil.which(name)
    if not found:
        raise BackupFailed(reason=f"找不到 {name}：请安装 PostgreSQL 客户端（Debian：postgresql-client）")
    return found


def _run(command: list[str], *, what: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False,  # noqa: S603
                            env={**os.environ, **(env or {})})  # fmt: skip
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupFailed(reason=f"{what}失败：{(detail[-1] if detail else '')[:300]}")


# --------------------------------------------------------------------------------------------- backup


def backup(url: str, out: Path) -> Outcome:
    """Write a consistent copy of the database to `out` (written beside it first, then renamed into place)."""
    out = Path(out)
    if out.is_dir():
        raise BackupFailed(reason=f"{out} 是目录，请给出备份文件名")
    if not out.parent.is_dir():
        raise BackupFailed(reason=f"目录 {out.parent} 不存在")
    partial = out.with_name(f".{out.name}.partial")
    try:
        if _is_sqlite(url):
            source_path = _sqlite_path(url)
            if not source_path.is_file():
                raise BackupFailed(reason=f"数据库文件 {source_path} 不存在")
            partial.unlink(missing_ok=True)
            source = sqlite3.connect(source_path)
            target = sqlite3.connect(partial)
            try:
                source.execute("PRAGMA busy_timeout=10000")
                source.backup(target)  # all pages in one step: one read transaction, one committed state
                target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            except sqlite3.Error as exc:
                raise BackupFailed(reason=f"备份失败：{exc}") from None
            finally:
                target.close()
                source.close()
            kind = "sqlite"
        else:
            dbname, env = libpq_url(url)
            _run([pg_binary("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={partial}", f"--dbname={dbname}"], what="pg_dump 备份", env=env)  # fmt: skip
            kind = "postgresql"
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(out, kind, out.stat().st_size)


# -------------------------------------------------------------------------------------------- restore


def backup_kind(path: Path) -> str:
    """sqlite or postgresql, by the file's first bytes; a clear refusal for anything else."""
    path = Path(path)
    if not path.is_file():
        raise BackupFailed(reason=f"备份文件 {path} 不存在")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PGDUMP_MAGIC):
        return "postgresql"
    raise BackupFailed(reason=f"{path} 不是本平台的备份文件（既不是 SQLite 数据库，也不是 pg_dump 自定义格式）")


def _check_sqlite_backup(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            status = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise BackupFailed(reason=f"备份文件 {path} 已损坏：{exc}") from None
    if status != "ok":
        raise BackupFailed(reason=f"备份文件 {path} 已损坏：{str(status)[:200]}")
    if "alembic_version" not in tables:
        raise BackupFailed(reason=f"{path} 是 SQLite 数据库，但不是本平台的备份（没有迁移版本表）")


def holds_data(url: str) -> bool:
    """Whether any table of the database (other than the migration version) has a row."""
    if _is_sqlite(url) and not _sqlite_path(url).exists():
        return False
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            names = [n for n in inspect(connection).get_table_names() if n != "alembic_version"]
            return any(connection.execute(text(f'SELECT 1 FROM "{name}" LIMIT 1')).first() for name in names)  # noqa: S608
    finally:
        engine.dispose()


def restore(url: str, source: Path, *, force: bool = False) -> Outcome:
    source = Path(source)
    kind = backup_kind(source)
    target_kind = "sqlite" if _is_sqlite(url) else "postgresql"
    if kind != target_kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupFailed(reason=f"备份文件是 {names[kind]} 的备份，当前数据库（XINYONG_DATABASE_URL）是 {names[target_kind]}")
    if kind == "sqlite":
        _check_sqlite_backup(source)
    else:
        _run([pg_binary("pg_restore"), "--list", str(source)], what=f"读取备份文件 {source} ")
    if not force and holds_data(url):
        raise BackupFailed(reason="当前数据库已有数据，恢复会覆盖全部内容；确认无误后加 --force 重试（请先停止网站服务和定时任务）")
    if kind == "sqlite":
        target_path = _sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            target.execute("PRAGMA busy_timeout=10000")
            backup_db.backup(target)  # replaces every page of the target, under its write lock
            target.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise BackupFailed(reason=f"恢复失败：{exc}") from None
        finally:
            target.close()
            backup_db.close()
    else:
        engine = make_engine(url)
        try:
            with engine.begin() as connection:  # an empty schema: what the dump recreates, and nothing else
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        finally:
            engine.dispose()
        dbname, env = libpq_url(url)
        _run([pg_binary("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={dbname}", str(source)], what="pg_restore 恢复", env=env)  # fmt: skip
    return Outcome(source, kind, source.stat().st_size)
