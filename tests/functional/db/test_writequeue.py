"""Writers take turns: threads of one process on a thread lock, server processes on a file lock, and an async
handler waits for its turn in a worker thread, never on the event loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time

import pytest

from xinyong import writequeue
from xinyong.db import make_engine, make_sessionmaker


@pytest.fixture
def session(fresh_database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(fresh_database_url)
    with make_sessionmaker(engine)() as session:
        yield session
    engine.dispose()


def _sqlite_only(session) -> str:  # type: ignore[no-untyped-def]
    path = writequeue._database_file(session)
    if path is None:
        pytest.skip("PostgreSQL locks rows: writers need no turn")
    return path


def test_threads_of_one_process_wait_their_turn(session):  # type: ignore[no-untyped-def]
    _sqlite_only(session)
    order: list[str] = []
    holding = threading.Event()

    def first() -> None:
        with writequeue.turn(session):
            holding.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    started = time.monotonic()
    with writequeue.turn(session):
        order.append("second")
        waited = time.monotonic() - started
    thread.join()
    assert order == ["first done", "second"]
    assert waited >= 0.2


def test_an_async_writer_waits_off_the_event_loop_while_another_process_writes(session):  # type: ignore[no-untyped-def]
    path = _sqlite_only(session)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\n"
         f"f = open({path + '-writers'!r}, 'ab'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True)\n"
         "time.sleep(0.6)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    ran_in: list[int] = []

    async def main() -> tuple[float, int]:
        ticks = 0

        async def ticker() -> None:  # keeps running only if the loop is free while the writer waits
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        task = asyncio.create_task(ticker())
        started = time.monotonic()
        await writequeue.run_in_turn(session, lambda: ran_in.append(threading.get_ident()))
        waited = time.monotonic() - started
        task.cancel()
        return waited, ticks

    waited, ticks = asyncio.run(main())
    holder.wait(5)
    assert waited >= 0.3  # it waited for the other process
    assert ticks >= 5  # and the event loop went on meanwhile
    assert ran_in
    assert ran_in[0] != threading.get_ident()


def test_a_free_turn_runs_at_once_on_the_caller(session):  # type: ignore[no-untyped-def]
    ran_in: list[int] = []
    asyncio.run(writequeue.run_in_turn(session, lambda: ran_in.append(threading.get_ident())))
    assert ran_in == [threading.get_ident()]
