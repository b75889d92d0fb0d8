"""An import that dies midway leaves no half-written batch: the committed chunks stay, the batch is
marked incomplete, and re-running the (mended) file completes without duplicates."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from tests.factories.records import DEPT_CODE, company_code, department, penalty_row, write_rows
from tests.fixtures.keys import TEST_KEY, keyed_sessionmaker
from tests.functional.records.helpers import batch, problems, record_count

from xinyong.db import make_engine, utcnow
from xinyong.records import service
from xinyong.records.models import Batch, BatchStatus, Record
from xinyong.subjects.models import Subject


@pytest.fixture
def small_chunks(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"import_chunk_rows": 10})


def test_a_bad_byte_in_the_second_half_keeps_the_first_half_and_a_rerun_completes(
    db_session, import_csv, small_chunks, tmp_path, dept
):
    rows = [penalty_row(CF_SY="经查，当事人未按规定公示年度报告，情节较轻。" * 4) for _ in range(60)]
    good = write_rows(tmp_path / "good.csv", rows)
    data = good.read_bytes()
    cut = data.index(rows[49]["CF_WSH"].encode())  # row 51 of the file
    broken = tmp_path / "broken.csv"
    broken.write_bytes(data[:cut] + b"\xff" + data[cut + 1 :])

    failed = import_csv([], path=broken, settings_=small_chunks)

    stored = batch(db_session, failed.batch_id)
    assert failed.failure is not None
    assert failed.failure["code"] == "encoding-error"
    assert "第 51 行" in failed.failure["message"]
    assert stored.status == BatchStatus.INCOMPLETE
    assert stored.finished_at is not None
    # Every row before the bad one is stored, though the break falls within a chunk (rows 42–51).
    assert stored.rows_read == stored.created == record_count(db_session, dept) == 49
    assert problems(db_session, failed.batch_id) == [(51, None, "encoding-error")]
    assert "第 51 行及以后的内容未导入" in stored.failure

    rerun = import_csv([], path=good, settings_=small_chunks)

    assert rerun.status == "completed"
    assert rerun.rows == 60
    assert (rerun.created, rerun.unchanged, rerun.rejected) == (11, 49, 0)
    assert record_count(db_session, dept) == 60
    assert db_session.scalar(select(func.count(func.distinct(Record.doc_no)))) == 60


@pytest.mark.parametrize(
    ("path_taken", "encoding", "good_rows"),
    [
        ("in-process", "utf-8", 0),
        ("in-process", "gbk", 23),
        ("worker", "utf-8", 3),  # within the first chunk, which the storing process validates itself
        ("worker", "gbk", 26),  # midway through a chunk the worker validates (rows 17–31)
        ("worker", "utf-8", 45),  # the first row of a chunk the worker validates (rows 47–61)
    ],
)
def test_every_valid_row_before_a_bad_byte_is_stored_and_the_bad_row_named(
    db_session, import_csv, settings, tmp_path, dept, path_taken, encoding, good_rows
):
    chosen = settings.model_copy(update={
        "import_chunk_rows": 15, "parallel_min_bytes": 0 if path_taken == "worker" else 1 << 40,
    })  # fmt: skip
    rows = [penalty_row() for _ in range(good_rows + 30)]
    data = write_rows(tmp_path / "good.csv", rows, encoding=encoding).read_bytes()
    cut = data.index(rows[good_rows]["CF_WSH"].encode(encoding))
    broken = tmp_path / "broken.csv"
    broken.write_bytes(data[:cut] + b"\xff" + data[cut + 1 :])  # undecodable in either encoding
    bad_row = good_rows + 2  # the header is row 1

    result = import_csv([], path=broken, settings_=chosen)

    stored = batch(db_session, result.batch_id)
    label = "UTF-8" if encoding == "utf-8" else "GBK/GB18030"
    assert result.failure == {
        "code": "encoding-error",
        "message": f"第 {bad_row} 行有无法识别的字符（文件按 {label} 编码读取），请将文件另存为 UTF-8 或 GBK 编码",
    }
    assert stored.status == (BatchStatus.INCOMPLETE if good_rows else BatchStatus.FAILED)
    assert stored.rows_read == stored.created == record_count(db_session, dept) == good_rows
    assert problems(db_session, result.batch_id) == [(bad_row, None, "encoding-error")]
    if good_rows:
        assert stored.failure == (
            f"导入未完成：{result.failure['message']}。此前的 {good_rows} 行数据已处理，第 {bad_row} 行及以后的"
            "内容未导入；修正文件后重新导入即可，已导入的记录不会重复"
        )
    stored_numbers = {row["CF_WSH"] for row in rows[:good_rows]}
    assert set(db_session.scalars(select(Record.doc_no).where(Record.department_id == dept.id))) == stored_numbers


def test_a_crash_while_reading_marks_the_batch_incomplete(
    db_session, import_csv, small_chunks, tmp_path, dept, monkeypatch
):
    path = write_rows(tmp_path / "rows.csv", [penalty_row() for _ in range(30)])
    real_open_table = service.open_table

    @contextlib.contextmanager
    def dying_after_25_rows(*args, **kwargs):  # type: ignore[no-untyped-def]
        with real_open_table(*args, **kwargs) as table:
            real_rows = table.rows

            def rows():  # type: ignore[no-untyped-def]
                for count, item in enumerate(real_rows, start=1):
                    if count > 25:
                        raise RuntimeError("disk went away")
                    yield item

            table.rows = rows()
            yield table

    monkeypatch.setattr(service, "open_table", dying_after_25_rows)
    with pytest.raises(RuntimeError):
        import_csv([], path=path, settings_=small_chunks)
    monkeypatch.undo()

    interrupted = db_session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    assert interrupted is not None
    db_session.refresh(interrupted)
    assert interrupted.status == BatchStatus.INCOMPLETE
    assert "RuntimeError" in (interrupted.failure or "")
    assert (interrupted.rows_read, interrupted.created) == (20, 20)
    assert record_count(db_session, dept) == 20

    rerun = import_csv([], path=path, settings_=small_chunks)

    assert (rerun.status, rerun.created, rerun.unchanged, rerun.rejected) == ("completed", 10, 20, 0)
    assert record_count(db_session, dept) == 30


def test_a_custom_row_source_that_fails_midway_through_run(
    db_session, settings, protector, dept, small_chunks
):
    from tests.factories.records import TODAY

    from xinyong.catalog import load_catalog
    from xinyong.records.models import BatchSource

    items = [penalty_row() for _ in range(25)]
    headers = list(items[0])

    def rows():  # type: ignore[no-untyped-def]
        for number, item in enumerate(items, start=2):
            if number == 20:
                raise KeyboardInterrupt
            yield number, [item[h] for h in headers]

    started = service._start_batch(
        db_session, department=dept, record_type="penalty", source=BatchSource.CLI, actor="test",
        reported_on=TODAY, filename="custom.csv",
    )  # fmt: skip
    def run() -> None:
        # What import_file does around _run, with a row source of our own.
        try:
            service._run(
                db_session, settings=small_chunks, protector=protector, record_type=load_catalog().get("penalty"),
                department=dept, batch=started, headers=headers, rows=rows(), today=TODAY, progress=None,
            )  # fmt: skip
        except BaseException as exc:
            service._interrupt(db_session, started, exc)
            raise

    with pytest.raises(KeyboardInterrupt):
        run()

    stored = batch(db_session, started.id)
    assert (stored.status, stored.rows_read, stored.created) == (BatchStatus.INCOMPLETE, 10, 10)
    assert record_count(db_session, dept) == 10


def test_mark_stale_batches_only_touches_silent_running_batches(db_session, dept, settings):
    from tests.factories.records import TODAY

    from xinyong.records.models import BatchSource

    def new_batch(status: BatchStatus, heartbeat_minutes_ago: int) -> Batch:
        created = Batch(
            department_id=dept.id, record_type="penalty", source=BatchSource.CLI, actor="t", reported_on=TODAY,
            status=status, heartbeat_at=utcnow() - timedelta(minutes=heartbeat_minutes_ago),
        )  # fmt: skip
        db_session.add(created)
        return created

    silent = new_batch(BatchStatus.RUNNING, 11)
    alive = new_batch(BatchStatus.RUNNING, 1)
    done = new_batch(BatchStatus.COMPLETED, 60)
    db_session.flush()

    assert service.mark_stale_batches(db_session) == 1
    db_session.expire_all()
    assert (silent.status, alive.status, done.status) == (
        BatchStatus.INCOMPLETE,
        BatchStatus.RUNNING,
        BatchStatus.COMPLETED,
    )
    assert "中断" in (silent.failure or "")


# ------------------------------------------------------------------------------------------- a real kill

TOTAL_ROWS = 20_000


def _cli_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XINYONG_")}
    env.update(
        XINYONG_DATABASE_URL=url,
        XINYONG_SECRET_KEY=TEST_KEY,
        XINYONG_AUDIT_CHECKPOINT_FILE=os.environ["XINYONG_AUDIT_CHECKPOINT_FILE"],  # the test's own
        XINYONG_IMPORT_CHUNK_ROWS="200",
    )
    return env


def _import(path: Path, env: dict[str, str], **kwargs) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    command = [sys.executable, "-m", "xinyong", "records", "import", str(path), "--type", "penalty",
               "--department", DEPT_CODE, "--reported-on", "2025-10-15", "--reason", "迁移原系统报送记录", "--json"]  # fmt: skip
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )


def test_a_killed_import_is_marked_incomplete_and_a_rerun_completes(fresh_database_url, tmp_path):
    engine = make_engine(fresh_database_url)
    with keyed_sessionmaker(engine)() as session:
        department(session)
        session.commit()
    rows = [
        penalty_row(
            CF_XDR_MC=f"安吉县批量{n}号有限公司",
            CF_XDR_SHXYM=company_code(100_000 + n),
            CF_WSH=f"安市监罚〔2025〕批{n}号",
        )
        for n in range(TOTAL_ROWS)
    ]
    path = write_rows(tmp_path / "big.csv", rows, encoding="gbk")
    env = _cli_env(fresh_database_url)

    process = _import(path, env)
    try:
        rows_read = 0
        deadline = time.monotonic() + 60
        with Session(engine) as session:
            while time.monotonic() < deadline and process.poll() is None:
                rows_read = session.scalar(select(func.max(Batch.rows_read))) or 0
                session.rollback()
                if rows_read > 0:
                    break
                time.sleep(0.01)
        assert process.poll() is None, "the import finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert rows_read > 0

    with Session(engine) as session:
        killed = session.scalars(select(Batch)).one()
        assert killed.status == BatchStatus.RUNNING  # nobody could mark it: the process died
        assert 0 < killed.rows_read < TOTAL_ROWS
        assert killed.rows_read % 200 == 0
        stored = session.scalar(select(func.count()).select_from(Record))
        assert stored == killed.created == killed.rows_read  # exactly the committed chunks

        # Ten minutes later nobody has heard from it.
        session.execute(
            update(Batch).values(heartbeat_at=utcnow() - service.STALE_AFTER - timedelta(seconds=1))
        )
        assert service.mark_stale_batches(session) == 1
        session.commit()
        session.refresh(killed)
        assert killed.status == BatchStatus.INCOMPLETE
        assert killed.failure

    rerun = _import(path, env)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    document = json.loads(out)
    assert document["status"] == "completed"
    assert document["rows"] == TOTAL_ROWS
    assert (document["created"], document["unchanged"]) == (TOTAL_ROWS - stored, stored)
    assert document["created"] + document["unchanged"] == TOTAL_ROWS
    assert (document["rejected"], document["late"], document["errors"], document["warnings"]) == (
        0,
        0,
        [],
        [],
    )

    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Record)) == TOTAL_ROWS
        assert session.scalar(select(func.count(func.distinct(Record.doc_no)))) == TOTAL_ROWS
        assert session.scalar(select(func.count()).select_from(Subject)) == TOTAL_ROWS
        statuses = sorted(b.status.value for b in session.scalars(select(Batch)))
        assert statuses == ["completed", "incomplete"]
    engine.dispose()


def test_each_chunk_is_stored_in_the_writers_turn_and_nothing_else_is(db_session, import_csv, small_chunks, tmp_path,
                                                                       monkeypatch):  # type: ignore[no-untyped-def]
    from xinyong import writequeue

    turns: list[bool] = []
    real_turn = writequeue.turn

    @contextlib.contextmanager
    def counting_turn(session):  # type: ignore[no-untyped-def]
        turns.append(session.in_transaction())  # taken with no transaction open (see writequeue.turn)
        with real_turn(session):
            yield

    monkeypatch.setattr(writequeue, "turn", counting_turn)
    result = import_csv([], path=write_rows(tmp_path / "rows.csv", [penalty_row() for _ in range(25)]),
                        settings_=small_chunks)  # fmt: skip
    assert result.created == 25
    assert turns == [False, False, False]  # chunks of 10, 10 and 5 rows
