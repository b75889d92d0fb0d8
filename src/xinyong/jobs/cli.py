"""`xinyong worker` (runs the scheduled jobs) and `xinyong jobs` (what they did)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from typing import Any

import typer
from rich.table import Table

from xinyong.clock import CHINA
from xinyong.commandline import console, fail, session_factory, settings
from xinyong.db import session_scope, utcnow
from xinyong.errors import DomainError
from xinyong.jobs import service
from xinyong.jobs.worker import Worker, configured_jobs
from xinyong.logs import MaskIdNumbers

OUTCOMES = {"ok": "成功", "failed": "失败", "running": "运行中", "skipped": "跳过"}


def _logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(MaskIdNumbers())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings().log_level.upper())


def worker(
    once: bool = typer.Option(False, "--once", help="只运行当前到期的任务，然后退出（供测试与 cron 使用）"),
    job: list[str] = typer.Option(None, "--job", help="只考虑这些任务（可重复）"),
    force: bool = typer.Option(False, "--force", help="与 --once、--job 同用：不论是否到期都运行一次"),
) -> None:
    try:
        jobs = configured_jobs(settings())
    except DomainError as exc:
        raise fail(exc) from None
    if job:
        unknown = sorted(set(job) - set(jobs))
        if unknown:
            raise fail(f"未知的定时任务：{'、'.join(unknown)}（已有：{'、'.join(sorted(jobs))}）")
        jobs = {name: jobs[name] for name in job}
    if force and not (once and job):
        raise fail("--force 须与 --once 和 --job 一起使用")
    with session_scope(session_factory()) as session:
        service.recent_runs(session, limit=1)  # a database not there or not migrated: one clear line, at once
    runner = Worker(session_factory(), settings(), jobs)
    if once:
        results = [runner.run(j, force=True) for j in jobs.values()] if force else runner.run_due()
        for result in results:
            console.print(f"{result.job}：{OUTCOMES.get(result.outcome, result.outcome)}"
                          f"{f'（{result.message}）' if result.message else ''}", highlight=False)  # fmt: skip
        if not results:
            console.print("没有到期的任务", highlight=False)
        if any(r.outcome == "failed" for r in results):
            raise typer.Exit(1)
        return
    _logging()
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    for item in jobs.values():
        console.print(f"{item.name}（{item.title}）：{item.schedule.describe()}", highlight=False)
    runner.serve(stop, poll_seconds=settings().worker_poll_seconds)


def jobs(
    job: str = typer.Option(None, "--job", help="只看这个任务"),
    limit: int = typer.Option(30, "--limit", min=1, max=10_000, help="最多列出条数"),
    schedule: bool = typer.Option(False, "--schedule", help="列出各任务的时间表、上次运行与下次到期时间"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    if schedule:
        _schedule(as_json)
        return
    with session_scope(session_factory()) as session:
        runs = service.recent_runs(session, job=job, limit=limit)
    if as_json:
        typer.echo(json.dumps([{"id": r.id, "job": r.job, "worker": r.worker, "started_at": r.started_at.isoformat(),
                                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                                "outcome": r.outcome, "message": r.message} for r in runs], ensure_ascii=False))  # fmt: skip
        return
    if not runs:
        console.print("还没有定时任务的运行记录", highlight=False)
        return
    table = Table("任务", "开始（北京时间）", "结束", "结果", "说明")
    for r in runs:
        table.add_row(r.job, f"{r.started_at.astimezone(CHINA):%Y-%m-%d %H:%M:%S}",
                      f"{r.finished_at.astimezone(CHINA):%H:%M:%S}" if r.finished_at else "—",
                      OUTCOMES.get(r.outcome, r.outcome), r.message or "")  # fmt: skip
    console.print(table)


def _schedule(as_json: bool) -> None:
    try:
        configured = configured_jobs(settings())
    except DomainError as exc:
        raise fail(exc) from None
    now = utcnow()
    rows = []
    with session_scope(session_factory()) as session:
        for item in configured.values():
            last = service.last_run(session, item.name)
            due = item.schedule.next_due(last_start=last.started_at if last else None,
                                         last_ok=last is None or last.outcome == "ok", now=now)  # fmt: skip
            rows.append((item, last, due))
    if as_json:
        typer.echo(json.dumps([{"job": item.name, "title": item.title, "schedule": item.schedule.describe(),
                                "enabled": item.schedule.enabled,
                                "last_started_at": last.started_at.isoformat() if last else None,
                                "last_outcome": last.outcome if last else None,
                                "next_due": due.isoformat() if item.schedule.enabled else None}
                               for item, last, due in rows], ensure_ascii=False))  # fmt: skip
        return
    table = Table("任务", "名称", "时间表", "上次运行（北京时间）", "结果", "下次到期")
    for item, last, due in rows:
        table.add_row(item.name, item.title, item.schedule.describe(),
                      f"{last.started_at.astimezone(CHINA):%Y-%m-%d %H:%M}" if last else "—",
                      OUTCOMES.get(last.outcome, last.outcome) if last else "—",
                      ("现在" if due <= now else f"{due.astimezone(CHINA):%Y-%m-%d %H:%M}")
                      if item.schedule.enabled else "—")  # fmt: skip
    console.print(table)
