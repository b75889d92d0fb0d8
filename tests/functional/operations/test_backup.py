"""`xinyong db backup` / `restore`: a round trip while an import runs in another process gives one committed state;
restoring refuses a database holding data without --force, and a missing or corrupt file."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from tests.factories.records import DEPT_CODE
from tests.fixtures.databases import own_database
from tests.fixtures.keys import TEST_KEY, keyed_sessionmaker
from typer.testing import CliRunner

from xinyong import backup, migrate
from xinyong.cli import app
from xinyong.commandline import session_factory, settings
from xinyong.db import make_engine
from xinyong.demo import generator
from xinyong.departments import service as departments_service
from xinyong.records.models import Batch, Record

ROWS = 6000
CHUNK = 100


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even tables: where a backup is restored."""
    with own_database(database_url, tmp_path, migrated=False) as url:
        yield url


def counts(url: str) -> tuple[int, int, str | None, int]:
    """Records stored, what the (only) batch says it created, its status, and its rows read."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            records = conn.execute(select(func.count()).select_from(Record)).scalar_one()
            batch = conn.execute(select(Batch.created, Batch.status, Batch.rows_read)).first()
    finally:
        engine.dispose()
    if batch is None:
        return records, 0, None, 0
    return records, batch.created, str(getattr(batch.status, "value", batch.status)), batch.rows_read


@contextmanager
def import_held(url: str) -> Iterator[tuple[int, int, str | None, int]]:
    """Once the import has committed a chunk, hold it between two of its chunks and give what is committed then.

    On PostgreSQL each try takes the lock that a chunk's commit needs (the batches' table in EXCLUSIVE mode, which
    reads and pg_dump leave alone), reads the committed state under it, and keeps it only mid-import; otherwise it
    lets the import go on for a moment. Holding first and looking second, the state cannot move between the look
    and the backup, however fast the import runs. On SQLite nothing is held (a second writer would make the
    import's next write fail instead of wait): the online backup copies in one step right after the look."""
    postgresql = url.startswith("postgresql")
    deadline = time.monotonic() + 300
    while True:
        assert time.monotonic() < deadline, "the import never committed a chunk"
        with _batches_locked(url) if postgresql else nullcontext():
            state = counts(url)
            if state[1] > 0 and state[2] == "running":
                yield state
                return
        assert state[2] != "completed", f"the import finished before it could be held: {state}"
        time.sleep(0.005)


@contextmanager
def _batches_locked(url: str) -> Iterator[None]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"LOCK TABLE {Batch.__tablename__} IN EXCLUSIVE MODE"))
            yield
            conn.rollback()
    finally:
        engine.dispose()


def penalties(tmp_path: Path) -> tuple[Path, generator.Department]:
    rng = random.Random(7)
    departments = generator.generate_departments(rng)
    department = next(d for d in departments if generator.decides(d, "penalty"))
    subjects = list(generator.generate_subjects(ROWS // 4, rng))
    rows = generator.penalty_rows(subjects, departments, ROWS, rng, today=date(2026, 11, 20), department=department)
    path = tmp_path / "penalties.csv"
    generator.write_csv(path, (row for row, _, _ in rows), generator.PENALTY_COLUMNS)
    return path, department


def test_backup_while_importing_is_one_committed_state(fresh_database_url: str, empty_database_url: str,
                                                       tmp_path: Path) -> None:  # fmt: skip
    path, department = penalties(tmp_path)
    engine = make_engine(fresh_database_url)
    with keyed_sessionmaker(engine)() as session:
        departments_service.add_department(session, code=department.code, name=department.name)
        session.commit()
    engine.dispose()
    env = {**os.environ, "XINYONG_DATABASE_URL": fresh_database_url, "XINYONG_SECRET_KEY": TEST_KEY,
           "XINYONG_IMPORT_CHUNK_ROWS": str(CHUNK), "XINYONG_AUDIT_CHECKPOINT_FILE": str(tmp_path / "cp.jsonl")}  # fmt: skip
    importer = subprocess.Popen(
        [sys.executable, "-m", "xinyong", "records", "import", str(path), "--type", "penalty",
         "--department", department.code, "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        out = tmp_path / "backup.bin"
        with import_held(fresh_database_url) as during:
            assert importer.poll() is None, importer.stderr.read().decode() if importer.stderr else ""
            made = backup.backup(fresh_database_url, out)
        assert made.size > 0
    finally:
        _, errors = importer.communicate(timeout=600)
    assert importer.returncode == 0, errors.decode()
    final = counts(fresh_database_url)
    assert final[0] == final[1] == ROWS, final

    backup.restore(empty_database_url, out)
    records, created, status, rows_read = counts(empty_database_url)
    # One committed state: the chunk's records and the batch's counters were committed together.
    assert records == created
    assert rows_read % CHUNK == 0
    assert status == "running", (records, status, during)  # taken mid-import
    if fresh_database_url.startswith("postgresql"):
        assert (records, created, status, rows_read) == during  # the state committed while the import was held
    assert 0 < records < ROWS
    assert migrate.database_revisions(empty_database_url) == migrate.database_revisions(fresh_database_url)

    # Over a database holding data: refused, then forced.
    with pytest.raises(backup.BackupFailed, match="已有数据"):
        backup.restore(fresh_database_url, out)
    backup.restore(fresh_database_url, out, force=True)
    assert counts(fresh_database_url)[0] == records


def test_commands_and_bad_files(fresh_database_url: str, empty_database_url: str, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    runner = CliRunner()
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("COLUMNS", "300")

    def run(url: str, *args: str) -> tuple[int, str]:
        monkeypatch.setenv("XINYONG_DATABASE_URL", url)
        settings.cache_clear()
        session_factory.cache_clear()
        try:
            result = runner.invoke(app, ["db", *args])
        finally:
            settings.cache_clear()
            session_factory.cache_clear()
        return result.exit_code, result.output

    out = tmp_path / "copy.bak"
    code, output = run(fresh_database_url, "backup", str(out))
    assert code == 0, output
    assert f"已备份到 {out}" in output
    code, output = run(empty_database_url, "restore", str(out))
    assert code == 0, output
    assert "恢复数据库" in output
    assert migrate.database_revisions(empty_database_url)

    # A migrated database without rows takes a restore; one with a department holds data.
    engine = make_engine(fresh_database_url)
    with keyed_sessionmaker(engine)() as session:
        departments_service.add_department(session, code=DEPT_CODE, name="测试局")
        session.commit()
    engine.dispose()
    code, output = run(fresh_database_url, "restore", str(out))
    assert code == 1
    assert "当前数据库已有数据，恢复会覆盖全部内容；确认无误后加 --force 重试" in output
    code, output = run(fresh_database_url, "restore", str(out), "--force")
    assert code == 0, output

    code, output = run(empty_database_url, "restore", str(tmp_path / "missing.bak"))
    assert code == 1
    assert f"备份文件 {tmp_path / 'missing.bak'} 不存在" in output
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"not a backup at all")
    code, output = run(empty_database_url, "restore", str(junk))
    assert code == 1
    assert "不是本平台的备份文件" in output
    truncated = tmp_path / "truncated.bak"
    truncated.write_bytes(out.read_bytes()[: out.stat().st_size // 3])
    code, output = run(empty_database_url, "restore", str(truncated), "--force")
    assert code == 1
    assert "已损坏" in output or "失败" in output
    code, output = run(fresh_database_url, "backup", str(tmp_path / "no-such-dir" / "x.bak"))
    assert code == 1
    assert "不存在" in output
