"""The jobs the worker knows. Built-in jobs are in `xinyong.jobs.builtin`; a domain adds its own without
touching this package:

    # e.g. in xinyong/commitments/jobs.py, imported by xinyong/commitments/__init__.py
    from xinyong.jobs import registry
    from xinyong.jobs.rules import Schedule

    def remind(ctx: registry.JobContext) -> str:
        with ctx.session() as session:
            count = service.remind_due(session, today=ctx.today)
        return f"提醒 {count} 条"

    registry.register("commitments-remind", "信用承诺到期提醒", remind, Schedule(daily_at=time(9, 0)))

A job function gets a `JobContext`, opens the sessions it needs (each `ctx.session()` is one transaction,
committed when the block ends), and returns a short Chinese summary recorded with the run. It raises to fail;
the run is recorded as failed and the worker goes on with the other jobs. Operators change the schedule in
the jobs configuration file (docs/operations.md)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from xinyong.clock import CHINA
from xinyong.config import Settings
from xinyong.db import session_scope
from xinyong.jobs.rules import Schedule
from xinyong.writequeue import writing_scope


@dataclass(frozen=True)
class JobContext:
    settings: Settings
    session_factory: sessionmaker[Session]
    now: datetime  # when the run started (aware)

    @property
    def today(self) -> date:
        return self.now.astimezone(CHINA).date()

    def session(self, *, writing: bool = False) -> AbstractContextManager[Session]:
        """The run's session and its commit; `writing` for work that reads and then writes (see
        `writequeue.writing_scope`)."""
        return writing_scope(self.session_factory) if writing else session_scope(self.session_factory)


JobFunction = Callable[[JobContext], str]


@dataclass(frozen=True)
class Job:
    name: str
    title: str
    run: JobFunction
    schedule: Schedule


_jobs: dict[str, Job] = {}


def register(name: str, title: str, run: JobFunction, schedule: Schedule) -> Job:
    """Add (or replace) a job under `name`, with its default schedule."""
    job = Job(name=name, title=title, run=run, schedule=schedule)
    _jobs[name] = job
    return job


def registered() -> dict[str, Job]:
    return dict(_jobs)
