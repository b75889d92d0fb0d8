"""The worker on the database under test: what is due runs once, one worker at a time holds a job, a failing job
is recorded and the others still run. Time is a manual clock: nothing sleeps."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.jobs import service
from xinyong.jobs.models import JobLock, JobRun
from xinyong.jobs.registry import Job, JobContext
from xinyong.jobs.rules import Schedule
from xinyong.jobs.worker import Worker


class DateClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 10:00 in Beijing

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def factory(fresh_database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(fresh_database_url)
    yield keyed_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def clock() -> DateClock:
    return DateClock()


def job(name: str, run, schedule: Schedule | None = None) -> Job:  # type: ignore[no-untyped-def]
    return Job(name=name, title=name, run=run, schedule=schedule or Schedule(every=timedelta(minutes=15)))


def runs(factory: sessionmaker[Session]) -> list[JobRun]:
    with factory() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def test_due_jobs_run_once_and_again_on_schedule(factory, settings: Settings, clock: DateClock) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def record(ctx: JobContext) -> str:
        calls.append(f"{ctx.today}")
        return "完成"

    jobs = {"often": job("often", record), "daily": job("daily", record, Schedule(daily_at=time(1, 30)))}
    worker = Worker(factory, settings, jobs, clock=clock, holder="w1")
    assert [(r.job, r.outcome) for r in worker.run_due()] == [("often", "ok"), ("daily", "ok")]
    assert worker.run_due() == []
    clock.advance(minutes=14)
    assert worker.run_due() == []
    clock.advance(minutes=1)
    assert [r.job for r in worker.run_due()] == ["often"]
    clock.advance(hours=15, minutes=30)  # 01:45 Beijing the next day
    assert sorted(r.job for r in worker.run_due()) == ["daily", "often"]
    recorded = runs(factory)
    assert [r.outcome for r in recorded] == ["ok"] * 5
    assert all(r.finished_at is not None and r.message == "完成" and r.worker == "w1" for r in recorded)
    assert calls[-1] == "2026-12-06"
    with factory() as session:
        assert all(lock.holder is None for lock in session.scalars(select(JobLock)))


def test_second_worker_skips_a_job_the_first_is_running(factory, settings: Settings, clock: DateClock) -> None:  # type: ignore[no-untyped-def]
    seen: list[object] = []
    second: list[Worker] = []

    def contended(ctx: JobContext) -> str:
        # While this run holds the lease, the other worker sees it running (not due), and even forced it cannot
        # take the lease.
        seen.append(second[0].run_due())
        result = second[0].run(jobs["sweep"], force=True)
        seen.append((result.outcome, result.message))
        return "完成"

    jobs = {"sweep": job("sweep", contended)}
    first = Worker(factory, settings, jobs, clock=clock, holder="w1")
    second.append(Worker(factory, settings, jobs, clock=clock, holder="w2"))
    assert [r.outcome for r in first.run_due()] == ["ok"]
    assert seen == [[], ("skipped", "另一个实例正在运行")]
    # Done: the other worker reads the recorded run and finds nothing due.
    assert second[0].run_due() == []
    assert [(r.job, r.worker) for r in runs(factory)] == [("sweep", "w1")]


def test_two_workers_at_once_run_the_job_once(factory, settings: Settings, clock: DateClock) -> None:  # type: ignore[no-untyped-def]
    started = []
    release = threading.Event()

    def slow(ctx: JobContext) -> str:
        started.append(1)
        release.wait(30)
        return "完成"

    jobs = {"sweep": job("sweep", slow)}
    workers = [Worker(factory, settings, jobs, clock=clock, holder=f"w{i}") for i in (1, 2)]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def go(worker: Worker) -> None:
        barrier.wait()
        results.extend(r.outcome for r in [worker.run(jobs["sweep"])])

    threads = [threading.Thread(target=go, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    # The loser returns at once; the winner waits in its job until released.
    for _ in range(600):
        if results:
            break
        threads[0].join(0.05)
        threads[1].join(0.05)
    release.set()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["ok", "skipped"]
    assert started == [1]
    assert len(runs(factory)) == 1


def test_failed_job_is_recorded_and_the_others_still_run(factory, settings: Settings, clock: DateClock) -> None:  # type: ignore[no-untyped-def]
    def broken(ctx: JobContext) -> str:
        with ctx.session() as session:
            session.add(JobLock(job="written-then-rolled-back"))
            session.flush()
            raise RuntimeError("磁盘已满 110101199003070011")

    jobs = {"broken": job("broken", broken, Schedule(daily_at=time(1, 0))),
            "fine": job("fine", lambda ctx: "完成", Schedule(daily_at=time(1, 0)))}  # fmt: skip
    worker = Worker(factory, settings, jobs, clock=clock, holder="w1")
    assert [(r.job, r.outcome) for r in worker.run_due()] == [("broken", "failed"), ("fine", "ok")]
    failed = runs(factory)[0]
    assert (failed.job, failed.outcome) == ("broken", "failed")
    assert failed.message is not None
    assert failed.message.startswith("RuntimeError: 磁盘已满 ")
    assert "110101199003070011" not in failed.message  # recorded masked, as the logs are
    assert failed.finished_at is not None
    with factory() as session:
        assert session.get(JobLock, "written-then-rolled-back") is None
        assert session.get(JobLock, "broken").holder is None  # type: ignore[union-attr]
    clock.advance(minutes=9)
    assert worker.run_due() == []
    clock.advance(minutes=1)  # the retry delay: only the failed job
    assert [(r.job, r.outcome) for r in worker.run_due()] == [("broken", "failed")]


def test_lease_of_a_dead_worker_runs_out(factory, settings: Settings, clock: DateClock) -> None:  # type: ignore[no-untyped-def]
    jobs = {"sweep": job("sweep", lambda ctx: "完成", Schedule(every=timedelta(minutes=1), lease=timedelta(minutes=30)))}
    with factory() as session, session.begin():
        assert service.try_acquire(session, "sweep", holder="dead", now=clock(), lease=timedelta(minutes=30))
    worker = Worker(factory, settings, jobs, clock=clock, holder="w1")
    assert [r.outcome for r in worker.run_due()] == ["skipped"]
    clock.advance(minutes=30)
    assert [r.outcome for r in worker.run_due()] == ["ok"]


def test_a_long_run_keeps_its_lease(factory, settings: Settings, clock: DateClock) -> None:  # type: ignore[no-untyped-def]
    """The lease is extended while the job runs (every third of it): a run longer than its lease is not taken
    over by another worker."""
    lease = timedelta(seconds=0.6)
    extended = []

    def long_run(ctx: JobContext) -> str:
        clock.advance(hours=1)  # far beyond the lease, as the database sees it once extended
        with factory() as session:
            for _ in range(200):
                until = session.get(JobLock, "long").lease_until  # type: ignore[union-attr]
                if until is not None and until > clock.now:
                    extended.append(until)
                    break
                session.rollback()  # a new snapshot next time
                threading.Event().wait(0.05)
        other = Worker(factory, settings, jobs, clock=clock, holder="w2").run(jobs["long"], force=True)
        return other.outcome

    jobs = {"long": job("long", long_run, Schedule(every=timedelta(minutes=1), lease=lease))}
    result = Worker(factory, settings, jobs, clock=clock, holder="w1").run(jobs["long"])
    assert extended, "the lease was never extended"
    assert (result.outcome, result.message) == ("ok", "skipped")


def test_prune_keeps_recent_runs_and_each_jobs_latest(factory, settings: Settings, clock: DateClock) -> None:  # type: ignore[no-untyped-def]
    old = clock.now - timedelta(days=200)
    with factory() as session, session.begin():
        for name, started in (("a", old), ("a", old + timedelta(days=1)), ("b", old), ("a", clock.now)):
            session.add(JobRun(job=name, worker="w", started_at=started, finished_at=started, outcome="ok"))
        session.add(JobRun(job="c", worker="w", started_at=old, outcome="running"))
    with factory() as session, session.begin():
        assert service.prune_runs(session, before=clock.now - timedelta(days=90)) == 2
    # "a": only its recent run; "b": its only (latest) run, however old; "c": a run never ended stays.
    assert sorted((r.job, r.started_at == clock.now) for r in runs(factory)) == [("a", True), ("b", False), ("c", False)]
