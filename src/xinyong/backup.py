"""Backups of the platform's database, and restoring one.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the database in one step under a read
transaction, so the copy is one committed state even while an import writes (readers do not block writers in WAL
mode); the backup is an ordinary SQLite database file. PostgreSQL: `pg_dump -Fc` (one snapshot, a repeatable-read
transaction) and `pg_restore`, Debian's binaries of the newest installed version (or those on PATH).

Restoring replaces the database's contents; it refuses a database holding data unless forced. Stop the server and
the worker first: a restore is not a transaction they can see through."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from xinyong import migrate
from xinyong.db import make_engine
from xinyong.errors import DomainError

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# How long a copy waits for a database another connection holds locked before giving up: the online backup
# API otherwise retries a busy database forever.
BUSY_WAIT_SECONDS = 10.0
# The errors of a file that is not (or no longer) a readable SQLite database, as opposed to one that is locked or
# cannot be opened.
_UNREADABLE = {sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT}


class BackupFailed(DomainError):
    code = "backup-failed"
    status_code = 400
    message_template = "{reason}"


@dataclass(frozen=True)
class Outcome:
    path: Path
    kind: str  # sqlite, postgresql
    size: int
    set_aside: Path | None = None  # restore: where the unreadable database file it replaced was moved


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


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (or cannot be reached): not the same file
        return False


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{quote(str(Path(path).absolute()))}?mode=ro", uri=True)


class _Busy(Exception):
    pass


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """Every page of `source` into `target` in one step (one read transaction, one committed state), waiting at
    most BUSY_WAIT_SECONDS for a lock another connection holds on either."""
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    timeout_ms = int(BUSY_WAIT_SECONDS * 1000)
    source.execute(f"PRAGMA busy_timeout={timeout_ms}")
    target.execute(f"PRAGMA busy_timeout={timeout_ms}")

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) and time.monotonic() >= deadline:
            raise _Busy

    source.backup(target, progress=progress, sleep=0.05)


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
        if out.parent.exists():
            raise BackupFailed(reason=f"无法写入 {out}：{out.parent} 不是目录")
        raise BackupFailed(reason=f"目录 {out.parent} 不存在")
    partial = out.with_name(f".{out.name}.partial")
    try:
        if _is_sqlite(url):
            source_path = _sqlite_path(url)
            if not source_path.is_file():
                raise BackupFailed(reason=f"数据库文件 {source_path} 不存在")
            if _same_file(source_path, out):
                raise BackupFailed(reason=f"{out} 就是当前数据库文件，请给出另一个备份文件名")
            partial.unlink(missing_ok=True)
            partial.open("wb").close()  # an unwritable place is refused with the system's reason
            try:
                source = sqlite3.connect(source_path)
                try:
                    target = sqlite3.connect(partial)
                    try:
                        _copy(source, target)
                        target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
                    finally:
                        target.close()
                finally:
                    source.close()
            except _Busy:
                raise BackupFailed(reason=f"备份失败：数据库被其他连接锁定，等待 {BUSY_WAIT_SECONDS:g} 秒后仍未释放，"
                                          "请稍后重试") from None  # fmt: skip
            except sqlite3.Error as exc:
                raise BackupFailed(reason=f"备份失败：{exc}") from None
            kind = "sqlite"
        else:
            dbname, env = libpq_url(url)
            _run([pg_binary("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={partial}", f"--dbname={dbname}"], what="pg_dump 备份", env=env)  # fmt: skip
            kind = "postgresql"
        os.replace(partial, out)
    except OSError as exc:
        raise BackupFailed(reason=f"无法写入 {out}：{_reason(exc)}") from None
    finally:
        with contextlib.suppress(OSError):
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


def _check_sqlite_backup(path: Path) -> list[str]:
    """The backup's schema revisions, once it has proved sound and a backup of this platform."""
    try:
        connection = _read_only(path)
        try:
            status = connection.execute("PRAGMA quick_check").fetchone()[0]
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            revisions = (sorted(str(row[0]) for row in connection.execute("SELECT version_num FROM alembic_version"))
                         if "alembic_version" in tables else [])  # fmt: skip
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise BackupFailed(reason=f"备份文件 {path} 已损坏：{exc}") from None
    if status != "ok":
        raise BackupFailed(reason=f"备份文件 {path} 已损坏：{str(status)[:200]}")
    if "alembic_version" not in tables:
        raise BackupFailed(reason=f"{path} 是 SQLite 数据库，但不是本平台的备份（没有迁移版本表）")
    return revisions


def _pg_backup_revisions(path: Path) -> list[str]:
    """The schema revisions in a pg_dump archive: the rows of its `alembic_version` table."""
    command = [pg_binary("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    revisions: list[str] = []
    copying = False
    for line in result.stdout.splitlines():
        if line.startswith("COPY ") and "alembic_version" in line:
            copying = True
        elif copying and line == "\\.":
            break
        elif copying:
            revisions.append(line.strip())
    return sorted(revisions)


def _check_known_revisions(revisions: list[str]) -> None:
    """A backup of a newer version of the program: its schema is one this version can neither run nor upgrade."""
    known = migrate.known_revisions()
    unknown = [r for r in revisions if r not in known]
    if unknown:
        raise BackupFailed(reason=f"备份来自更新版本的程序（数据库版本 {'、'.join(unknown)}），请先升级程序后再恢复")


def _unreadable_sqlite(path: Path) -> str | None:
    """Why the file at `path` is not a readable SQLite database (random bytes, a damaged header); None for a
    database, a file not there, or one that cannot be opened for another reason (locked, no permission)."""
    if not path.is_file():
        return None
    try:
        connection = _read_only(path)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF in _UNREADABLE:
            return str(exc)
    return None


def _set_aside(path: Path) -> Path:
    """Move an unreadable database file (and any journal of it) to `<name>.corrupt-<time>`, losing nothing."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")  # noqa: DTZ005  (the operator's local time, in a file name)
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    number = 1
    while any(Path(f"{aside}{suffix}").exists() for suffix in ("", "-wal", "-shm", "-journal")):
        number += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{number}")
    for suffix in ("-wal", "-shm", "-journal"):  # a stale journal must not be replayed into the restored database
        if Path(f"{path}{suffix}").exists():
            os.rename(f"{path}{suffix}", f"{aside}{suffix}")
    os.rename(path, aside)
    return aside


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
    """Replace the database's contents with the backup's. SQLite: a database file that is not a readable database
    is, with `force`, moved aside to `<name>.corrupt-<time>` (never deleted) and the backup restored in its place."""
    source = Path(source)
    kind = backup_kind(source)
    target_kind = "sqlite" if _is_sqlite(url) else "postgresql"
    if kind != target_kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupFailed(reason=f"备份文件是 {names[kind]} 的备份，当前数据库（XINYONG_DATABASE_URL）是 {names[target_kind]}")
    unreadable = None
    if kind == "sqlite":
        target_path = _sqlite_path(url)
        if _same_file(source, target_path):
            raise BackupFailed(reason=f"备份文件 {source} 就是当前数据库（XINYONG_DATABASE_URL）的文件，无法恢复到它自身")
        _check_known_revisions(_check_sqlite_backup(source))
        unreadable = _unreadable_sqlite(target_path)
        if unreadable is not None and not force:
            raise BackupFailed(reason=f"当前数据库文件 {target_path} 不是可读的 SQLite 数据库（{unreadable}）；"
                                      f"加 --force 将其移到 {target_path.name}.corrupt-<时间> 后恢复")  # fmt: skip
    else:
        _run([pg_binary("pg_restore"), "--list", str(source)], what=f"读取备份文件 {source} ")
        _check_known_revisions(_pg_backup_revisions(source))
    if not force and holds_data(url):
        raise BackupFailed(reason="当前数据库已有数据，恢复会覆盖全部内容；确认无误后加 --force 重试（请先停止网站服务和定时任务）")
    set_aside = None
    if kind == "sqlite":
        try:
            target_path.parent.mkdir(parents=True, exist_ok=True)
            if unreadable is not None:
                set_aside = _set_aside(target_path)
            target_path.open("ab").close()  # an unwritable place is refused with the system's reason
            target = sqlite3.connect(target_path)
        except (OSError, sqlite3.Error) as exc:
            reason = _reason(exc) if isinstance(exc, OSError) else str(exc)
            raise BackupFailed(reason=f"无法写入 {target_path}：{reason}") from None
        kept = f"（原数据库文件已移到 {set_aside}）" if set_aside else ""
        try:
            backup_db = _read_only(source)
            try:
                _copy(backup_db, target)  # replaces every page of the target, under its write lock
                target.execute("PRAGMA journal_mode=WAL")
            finally:
                backup_db.close()
        except _Busy:
            raise BackupFailed(reason=f"恢复失败：当前数据库被其他连接锁定，等待 {BUSY_WAIT_SECONDS:g} 秒后仍未释放；"
                                      f"请先停止网站服务和定时任务{kept}") from None  # fmt: skip
        except sqlite3.Error as exc:
            raise BackupFailed(reason=f"恢复失败：{exc}{kept}") from None
        finally:
            target.close()
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
    return Outcome(source, kind, source.stat().st_size, set_aside)
