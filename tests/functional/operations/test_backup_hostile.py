"""`xinyong db backup` / `restore` / `upgrade` meet what an operator can get wrong with one clear line and
nothing changed or left behind: a place that cannot be written, a path with brackets, a backup of a newer
version, the database's own file, a database another connection holds locked, a file that is not a database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from tests.factories.records import DEPT_CODE
from tests.fixtures.databases import own_database
from tests.fixtures.keys import TEST_KEY, keyed_sessionmaker
from typer.testing import CliRunner

from xinyong import backup, migrate
from xinyong.cli import app
from xinyong.commandline import session_factory, settings
from xinyong.db import make_engine
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department

Xinyong = Callable[..., tuple[int, str]]


@pytest.fixture
def xinyong(monkeypatch: pytest.MonkeyPatch) -> Xinyong:
    """Runs `xinyong ARGS…` in this process against the database `url` (and the jobs file `jobs_config`):
    its exit code and everything it printed, stdout and stderr."""
    runner = CliRunner()
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("COLUMNS", "300")

    def run(url: str, *args: str, jobs_config: Path | None = None) -> tuple[int, str]:
        monkeypatch.setenv("XINYONG_DATABASE_URL", url)
        if jobs_config is not None:
            monkeypatch.setenv("XINYONG_JOBS_CONFIG", str(jobs_config))
        settings.cache_clear()
        session_factory.cache_clear()
        try:
            result = runner.invoke(app, list(args))
        finally:
            settings.cache_clear()
            session_factory.cache_clear()
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        return result.exit_code, result.output

    return run


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite database holding one department: these refusals are SQLite's, whatever the suite runs on."""
    with own_database("sqlite://", tmp_path) as url:
        engine = make_engine(url)
        with keyed_sessionmaker(engine)() as session:
            departments_service.add_department(session, code=DEPT_CODE, name="测试局")
            session.commit()
        engine.dispose()
        yield url


@pytest.fixture
def good_backup(sqlite_url: str, tmp_path: Path) -> Path:
    made = backup.backup(sqlite_url, tmp_path / "good.bak")
    return made.path


def database_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def departments(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(Department)).scalar_one()
    finally:
        engine.dispose()


def test_backup_and_restore_to_a_place_that_cannot_be_written(xinyong: Xinyong, sqlite_url: str, good_backup: Path,
                                                              tmp_path: Path) -> None:  # fmt: skip
    afile = tmp_path / "afile"
    afile.write_text("a file, not a directory")

    code, output = xinyong(sqlite_url, "db", "backup", "/proc/a.bak")
    assert code == 1
    assert output.startswith("错误：无法写入 /proc/a.bak：")
    assert output.count("\n") == 1, output
    assert not Path("/proc/.a.bak.partial").exists()

    code, output = xinyong(sqlite_url, "db", "backup", str(afile / "x.bak"))
    assert (code, output) == (1, f"错误：无法写入 {afile / 'x.bak'}：{afile} 不是目录\n")

    code, output = xinyong("sqlite:////proc/xinyong-restored.db", "db", "restore", str(good_backup))
    assert code == 1
    assert output.startswith("错误：无法写入 /proc/xinyong-restored.db：")
    assert output.count("\n") == 1, output

    code, output = xinyong(f"sqlite:///{afile / 'x.db'}", "db", "restore", str(good_backup))
    assert code == 1
    assert output.startswith(f"错误：无法写入 {afile / 'x.db'}：")
    assert output.count("\n") == 1, output
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("db-")) == ["afile", "good.bak"]
    assert afile.read_text() == "a file, not a directory"


def test_paths_are_printed_as_they_are(xinyong: Xinyong, sqlite_url: str, tmp_path: Path) -> None:
    code, output = xinyong(sqlite_url, "db", "backup", str(tmp_path / "bk" / "[/x]" / "a.bak"))
    assert (code, output) == (1, f"错误：目录 {tmp_path / 'bk' / '[/x]'} 不存在\n")

    (tmp_path / "bk" / "[x]").mkdir(parents=True)
    out = tmp_path / "bk" / "[x]" / "a.bak"
    code, output = xinyong(sqlite_url, "db", "backup", str(out))
    assert code == 0, output
    assert output.startswith(f"已备份到 {out}（SQLite 数据库文件，")
    assert out.is_file()

    code, output = xinyong(sqlite_url, "db", "restore", str(out))
    assert (code, output) == (1, "错误：当前数据库已有数据，恢复会覆盖全部内容；确认无误后加 --force 重试"
                                 "（请先停止网站服务和定时任务）\n")  # fmt: skip
    code, output = xinyong(sqlite_url, "db", "restore", str(tmp_path / "[red]missing[/red].bak"))
    assert (code, output) == (1, f"错误：备份文件 {tmp_path / '[red]missing[/red].bak'} 不存在\n")


def test_a_backup_of_a_newer_version_is_refused_before_anything_changes(xinyong: Xinyong, sqlite_url: str,
                                                                        good_backup: Path, tmp_path: Path) -> None:  # fmt: skip
    future = tmp_path / "future.bak"
    shutil.copyfile(good_backup, future)
    with sqlite3.connect(future) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_future'")
    connection.close()
    revisions = migrate.database_revisions(sqlite_url)

    code, output = xinyong(sqlite_url, "db", "restore", str(future), "--force")
    assert (code, output) == (1, "错误：备份来自更新版本的程序（数据库版本 0099_future），请先升级程序后再恢复\n")
    assert migrate.database_revisions(sqlite_url) == revisions  # nothing overwritten
    assert departments(sqlite_url) == 1

    # A database that is at such a revision all the same: `db upgrade` says so in one line.
    at_future = tmp_path / "at-future.db"
    shutil.copyfile(future, at_future)
    code, output = xinyong(f"sqlite:///{at_future}", "db", "upgrade")
    assert (code, output) == (1, "错误：数据库版本 0099_future 不是本程序已知的版本（数据库来自更新版本的程序），请先升级程序\n")
    code, output = xinyong(sqlite_url, "db", "upgrade", "0099_future")
    assert code == 1
    assert output.startswith("错误：无法迁移：")
    assert output.count("\n") == 1, output


def test_an_older_backup_restores_and_upgrades(xinyong: Xinyong, sqlite_url: str, tmp_path: Path) -> None:
    heads = migrate.current_heads(sqlite_url)
    previous = ScriptDirectory.from_config(migrate.alembic_config(sqlite_url)).get_revision(heads[0]).down_revision
    assert isinstance(previous, str)
    with own_database("sqlite://", tmp_path, migrated=False) as older_url:
        migrate.upgrade(older_url, previous)
        older = backup.backup(older_url, tmp_path / "older.bak").path

    code, output = xinyong(sqlite_url, "db", "restore", str(older), "--force")
    assert code == 0, output
    assert f"已从 {older} 恢复数据库（版本 {previous}）" in output
    code, output = xinyong(sqlite_url, "db", "upgrade")
    assert code == 0, output
    assert output == f"数据库已迁移：{previous} → {'、'.join(heads)}。\n"


def test_restoring_the_databases_own_file_is_refused_at_once(good_backup: Path, tmp_path: Path) -> None:
    live = tmp_path / "live.db"
    shutil.copyfile(good_backup, live)  # a backup put in place: rollback-journal mode
    link = tmp_path / "link.bak"
    link.symlink_to(live)
    env = {**os.environ, "XINYONG_DATABASE_URL": f"sqlite:///{live}", "XINYONG_SECRET_KEY": TEST_KEY,
           "COLUMNS": "300"}  # fmt: skip
    for source in (live, link):
        result = subprocess.run([sys.executable, "-m", "xinyong", "db", "restore", str(source), "--force"],
                                env=env, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert result.stderr == f"错误：备份文件 {source} 就是当前数据库（XINYONG_DATABASE_URL）的文件，无法恢复到它自身\n"
    assert departments(f"sqlite:///{live}") == 1


def test_restoring_onto_a_database_held_locked_gives_up(xinyong: Xinyong, sqlite_url: str, good_backup: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(backup, "BUSY_WAIT_SECONDS", 0.5, raising=False)
    holder = sqlite3.connect(database_file(sqlite_url), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another writer in the middle of its transaction
    outcome: list[tuple[int, str]] = []
    restoring = threading.Thread(target=lambda: outcome.append(xinyong(sqlite_url, "db", "restore", str(good_backup),
                                                                       "--force")), daemon=True)  # fmt: skip
    try:
        restoring.start()
        restoring.join(timeout=60)
        assert not restoring.is_alive(), "the restore waits for the lock forever"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        restoring.join(timeout=60)
    assert outcome == [(1, "错误：恢复失败：当前数据库被其他连接锁定，等待 0.5 秒后仍未释放；请先停止网站服务和定时任务\n")]
    assert departments(sqlite_url) == 1


def test_restoring_over_a_corrupt_database_file_keeps_it_aside(xinyong: Xinyong, good_backup: Path,
                                                              tmp_path: Path) -> None:  # fmt: skip
    corrupt = tmp_path / "corrupt.db"
    garbage = os.urandom(100_000)
    corrupt.write_bytes(garbage)
    url = f"sqlite:///{corrupt}"

    code, output = xinyong(url, "db", "restore", str(good_backup))
    assert (code, output) == (1, f"错误：当前数据库文件 {corrupt} 不是可读的 SQLite 数据库（file is not a database）；"
                                 "加 --force 将其移到 corrupt.db.corrupt-<时间> 后恢复\n")  # fmt: skip
    assert corrupt.read_bytes() == garbage

    code, output = xinyong(url, "db", "restore", str(good_backup), "--force")
    assert code == 0, output
    [aside] = tmp_path.glob("corrupt.db.corrupt-*")
    assert aside.read_bytes() == garbage  # nothing lost
    assert output.splitlines()[0] == f"原数据库文件不是可读的数据库，已移到 {aside}（未删除）"
    assert f"已从 {good_backup} 恢复数据库" in output
    assert departments(url) == 1


def test_an_error_no_command_caught_is_printed_as_it_is(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    """`main`'s own last line of defence prints through `fail` too: a message holding brackets is not markup."""
    from xinyong import cli
    from xinyong.errors import InvalidInput

    def refused() -> None:
        raise InvalidInput(reason="文件 bk/[/x]/a[b].csv 不存在")

    monkeypatch.setattr(cli, "app", refused)
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 1
    assert capsys.readouterr().err == "错误：输入有误：文件 bk/[/x]/a[b].csv 不存在\n"
