"""The worker: runs each job when it is due, under the job's lease, and records every run.

Any number of workers may run against one database (on several hosts): a job's run needs its lease
(`service.try_acquire`), and whether it is due is read from the recorded runs, so one run of a job happens at
a time and a daily job runs once a day however many workers there are. A job that fails is recorded as failed
and tried again after its retry delay; it never stops the worker."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from xinyong.config import Settings
from xinyong.db import session_scope, utcnow
from xinyong.errors import DomainError, InvalidInput
from xinyong.jobs import service
from xinyong.jobs.registry import Job, JobContext, registered
from xinyong.jobs.rules import load_schedules
from xinyong.logs import mask_ids
from xinyong.writequeue import writing_scope

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def configured_jobs(settings: Settings) -> dict[str, Job]:
    """The registered jobs with the schedules of the jobs configuration file."""
    import xinyong.jobs.builtin  # noqa: F401  (registers the platform's own jobs)

    jobs = registered()
    schedules = load_schedules(settings.jobs_config)
    unknown = sorted(set(schedules) - set(jobs))
    if unknown:
        raise InvalidInput(reason=f"定时任务配置中有未知的任务：{'、'.join(unknown)}（已有：{'、'.join(sorted(jobs))}）")
    return {name: replace(job, schedule=schedules.get(name, job.schedule)) for name, job in jobs.items()}


@dataclass(frozen=True)
class RunResult:
    job: str
    outcome: str  # ok, failed; or skipped (held by another worker, or no longer due)
    message: str | None = None


def default_holder() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    def __init__(self, session_factory: sessionmaker[Session], settings: Settings, jobs: dict[str, Job], *,
                 clock: Clock = utcnow, holder: str | None = None) -> None:  # fmt: skip
        self.session_factory = session_factory
        self.settings = settings
        self.jobs = jobs
        self.clock = clock
        self.holder = holder or default_holder()

    def due(self) -> list[Job]:
        """The jobs due now, by their recorded runs."""
        now = self.clock()
        due = []
        with session_scope(self.session_factory) as session:
            for job in self.jobs.values():
                last = service.last_run(session, job.name)
                if job.schedule.is_due(last_start=last.started_at if last else None,
                                       last_ok=last is None or last.outcome == "ok", now=now):  # fmt: skip
                    due.append(job)
        return due

    def run_due(self) -> list[RunResult]:
        """Run each due job once (one after another); what another worker holds is skipped."""
        try:
            due = self.due()
        except SQLAlchemyError as exc:
            log.warning("cannot read the job runs: %s", exc)
            return []
        return [self.run(job) for job in due]

    def run(self, job: Job, *, force: bool = False) -> RunResult:
        """One run of `job` if its lease is free and it is still due (or `force`); recorded either way it ends."""
        now = self.clock()
        try:
            # The lease is read and then taken: a writer's transaction (see writequeue.writing_scope).
            with writing_scope(self.session_factory) as session:
                if not service.try_acquire(session, job.name, holder=self.holder, now=now, lease=job.schedule.lease):
                    return RunResult(job.name, "skipped", "另一个实例正在运行")
                last = service.last_run(session, job.name)
                if not force and not job.schedule.is_due(last_start=last.started_at if last else None,
                                                         last_ok=last is None or last.outcome == "ok", now=now):  # fmt: skip
                    service.release(session, job.name, holder=self.holder)
                    return RunResult(job.name, "skipped", "其他实例已运行")
                run_id = service.start_run(session, job.name, holder=self.holder, now=now).id
        except SQLAlchemyError as exc:  # the database is busy or away: try at the next poll
            log.warning("cannot take the lease of job %s: %s", job.name, exc)
            return RunResult(job.name, "skipped", "无法访问数据库")
        log.info("job %s started (run %s)", job.name, run_id)
        done = threading.Event()
        heartbeat = threading.Thread(target=self._keep_lease, args=(job, done), name=f"lease-{job.name}", daemon=True)
        heartbeat.start()
        try:
            message = job.run(JobContext(settings=self.settings, session_factory=self.session_factory, now=now))
            outcome = "ok"
        except Exception as exc:
            log.exception("job %s failed (run %s)", job.name, run_id)
            outcome = "failed"
            message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        finally:
            done.set()
            heartbeat.join()
        message = mask_ids(message) if message else message  # an error may quote the data it failed on
        finished = self.clock()
        try:
            with session_scope(self.session_factory) as session:
                service.finish_run(session, job.name, run_id, outcome=outcome, message=message, now=finished)
                service.release(session, job.name, holder=self.holder)
        except SQLAlchemyError as exc:  # the lease runs out by itself
            log.warning("cannot record the end of job %s (run %s): %s", job.name, run_id, exc)
        log.info("job %s %s: %s", job.name, outcome, message)
        return RunResult(job.name, outcome, message)

    def _keep_lease(self, job: Job, done: threading.Event) -> None:
        """While the job runs, extend its lease every third of it: a run longer than its lease keeps the job
        (only a worker that died lets it go). A failed extension is tried again at the next beat."""
        interval = max(job.schedule.lease.total_seconds() / 3, 0.1)
        while not done.wait(interval):
            try:
                with session_scope(self.session_factory) as session:
                    if not service.extend(session, job.name, holder=self.holder, now=self.clock(),
                                          lease=job.schedule.lease):  # fmt: skip
                        log.warning("job %s: the lease was taken over by another worker", job.name)
            except SQLAlchemyError as exc:
                log.warning("job %s: cannot extend the lease: %s", job.name, exc)

    def serve(self, stop: threading.Event, *, poll_seconds: float) -> None:
        """Run what is due, wait, again, until `stop` is set (SIGTERM, Ctrl-C)."""
        log.info("worker %s: %d jobs, polling every %ss", self.holder, len(self.jobs), poll_seconds)
        while not stop.is_set():
            try:
                self.run_due()
            except Exception:  # nothing a job or the database does stops the worker
                log.exception("worker round failed")
            stop.wait(poll_seconds)
