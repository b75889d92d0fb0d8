"""The lease and the record of runs, on the database: every worker instance reads and writes the same rows, so
that a job runs once however many workers there are. The caller commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xinyong.jobs.models import JobLock, JobRun


def try_acquire(session: Session, job: str, *, holder: str, now: datetime, lease: timedelta) -> bool:
    """Take the job's lease when nobody holds it (or the holder's lease ran out). One conditional UPDATE:
    PostgreSQL re-checks the condition on the row another transaction just changed, SQLite writes one at a
    time; either way exactly one contender sees its row updated."""
    if session.get(JobLock, job) is None:
        try:
            with session.begin_nested():
                session.add(JobLock(job=job, runs_ok=0, runs_failed=0))
        except IntegrityError:
            pass  # another worker made the row first
    result = session.execute(
        update(JobLock)
        .where(JobLock.job == job, or_(JobLock.lease_until.is_(None), JobLock.lease_until <= now))
        .values(holder=holder, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def extend(session: Session, job: str, *, holder: str, now: datetime, lease: timedelta) -> bool:
    """Keep a lease this holder still has for another `lease` from now (a long run's heartbeat)."""
    result = session.execute(
        update(JobLock).where(JobLock.job == job, JobLock.holder == holder)
        .values(lease_until=now + lease).execution_options(synchronize_session=False)
    )  # fmt: skip
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, job: str, *, holder: str) -> None:
    session.execute(
        update(JobLock).where(JobLock.job == job, JobLock.holder == holder)
        .values(holder=None, lease_until=None, run_id=None).execution_options(synchronize_session=False)
    )  # fmt: skip


def last_run(session: Session, job: str) -> JobRun | None:
    return session.scalars(
        select(JobRun).where(JobRun.job == job).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)
    ).first()


def start_run(session: Session, job: str, *, holder: str, now: datetime) -> JobRun:
    run = JobRun(job=job, worker=holder, started_at=now, outcome="running")
    session.add(run)
    session.flush()
    session.execute(update(JobLock).where(JobLock.job == job).values(run_id=run.id)
                    .execution_options(synchronize_session=False))  # fmt: skip
    return run


def finish_run(session: Session, job: str, run_id: int, *, outcome: str, message: str | None,
               now: datetime) -> None:  # fmt: skip
    """Record the run's end, and count it in the job's tallies."""
    session.execute(
        update(JobRun).where(JobRun.id == run_id)
        .values(outcome=outcome, message=(message or "")[:2000] or None, finished_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    tally = {"runs_ok": JobLock.runs_ok + 1, "last_success_at": now} if outcome == "ok" else \
        {"runs_failed": JobLock.runs_failed + 1}  # fmt: skip
    session.execute(update(JobLock).where(JobLock.job == job).values(last_outcome=outcome, **tally)
                    .execution_options(synchronize_session=False))  # fmt: skip


def recent_runs(session: Session, *, job: str | None = None, limit: int = 50) -> list[JobRun]:
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job:
        query = query.where(JobRun.job == job)
    return list(session.scalars(query))


def prune_runs(session: Session, *, before: datetime) -> int:
    """Forget finished runs started before `before`; each job's latest run stays (it decides when it is due)."""
    latest = select(func.max(JobRun.id)).group_by(JobRun.job)
    result = session.execute(
        delete(JobRun).where(JobRun.started_at < before, JobRun.outcome != "running", JobRun.id.not_in(latest))
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
