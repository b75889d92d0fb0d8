"""Operations benchmark: what counting requests for /metrics costs each request, and what a scrape costs.

    python benchmarks/operations.py                      # SQLite
    python benchmarks/operations.py --pg postgresql://…  # the scrape on a PostgreSQL database (emptied first)

1. The metrics middleware around an ASGI app that answers at once, against the same app without it (the
   middleware's own cost per request), and the whole app's `/healthz` for scale; medians of rounds of 20,000.
2. `GET /metrics` on a database holding 90 days of job runs (notify-deliver every minute and five daily jobs:
   130,000 runs) and 2,000 import batches, through the ASGI app; median of 30 scrapes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import text  # noqa: E402

from xinyong import migrate  # noqa: E402
from xinyong.app import create_app  # noqa: E402
from xinyong.audit import keys as audit_keys  # noqa: E402
from xinyong.codes import make_uscc  # noqa: E402
from xinyong.config import Settings  # noqa: E402
from xinyong.db import bulk_insert, make_engine, make_sessionmaker  # noqa: E402
from xinyong.departments import service as departments_service  # noqa: E402
from xinyong.jobs.models import JobLock, JobRun  # noqa: E402
from xinyong.records.models import Batch  # noqa: E402
from xinyong.web.metrics import Metrics, RequestMetrics  # noqa: E402

KEY = "benchmark-master-key-0123456789abcdef0123"
REQUESTS = 20_000


def scope(path: str) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": [],
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}  # fmt: skip


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message: dict[str, Any]) -> None:
    return None


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def per_request(app: Any, path: str, n: int) -> float:
    """Seconds per request, n requests in one event loop."""

    async def run() -> float:
        started = time.perf_counter()
        for _ in range(n):
            await app(scope(path), _receive, _send)
        return (time.perf_counter() - started) / n

    return asyncio.run(run())


def fill(url: str) -> None:
    engine = make_engine(url)
    settings = Settings(database_url=url, secret_key=KEY)
    session = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings).without_checkpoints())()
    department_id = departments_service.add_department(session, code=make_uscc("1", "1", "330521", "00000001"),
                                                       name="基准测试局").id  # fmt: skip
    now = datetime.now(UTC)
    bulk_insert(session, Batch.__table__, [
        {"department_id": department_id, "record_type": "penalty", "source": "cli", "actor": "benchmark",
         "status": "completed", "reported_on": now.date(), "rows_read": 5000, "created": 5000, "updated": 0,
         "unchanged": 0, "rejected": 0, "late": 0, "warnings": 0, "started_at": now, "heartbeat_at": now}
        for _ in range(2000)])  # fmt: skip
    runs = []
    for minute in range(90 * 1440):
        started = now - timedelta(minutes=minute)
        runs.append(("notify-deliver", "w1", started, started + timedelta(seconds=1), "ok", "已发送 0 条"))
        if minute % 1440 == 0:
            for job in ("disclosure-sweep", "lists-expire", "monitoring-warnings", "repair-overdue", "jobs-prune"):
                runs.append((job, "w1", started, started + timedelta(seconds=5), "ok", "完成"))
    bulk_insert(session, JobRun.__table__, runs,
                columns=["job", "worker", "started_at", "finished_at", "outcome", "message"])  # fmt: skip
    bulk_insert(session, JobLock.__table__, [
        {"job": job, "runs_ok": count, "runs_failed": 0, "last_outcome": "ok", "last_success_at": now}
        for job, count in (("notify-deliver", 90 * 1440), ("disclosure-sweep", 90), ("lists-expire", 90),
                           ("monitoring-warnings", 90), ("repair-overdue", 90), ("jobs-prune", 90))])  # fmt: skip
    session.commit()
    session.close()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="a PostgreSQL database to use (emptied first)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite:///{tmp}/ops.db"
        if args.pg:
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        migrate.upgrade(url)
        fill(url)
        app = create_app(Settings(database_url=url, secret_key=KEY, secret_key_file=Path(tmp) / "k"))
        counted = RequestMetrics(bare, metrics=Metrics())
        without, with_metrics, health = [], [], []
        for _ in range(args.rounds):
            without.append(per_request(bare, "/x", REQUESTS))
            with_metrics.append(per_request(counted, "/x", REQUESTS))
            health.append(per_request(app, "/healthz", REQUESTS // 4))
        scrapes = []
        for _ in range(30):
            started = time.perf_counter()
            per_request(app, "/metrics", 1)
            scrapes.append(time.perf_counter() - started)
        app.state.engine.dispose()
    bare_us, metered_us, health_us = (statistics.median(v) * 1e6 for v in (without, with_metrics, health))
    kind = "PostgreSQL" if args.pg else "SQLite"
    print("| measure | median |")
    print("|---|---|")
    print(f"| bare ASGI app, per request | {bare_us:.1f} µs |")
    print(f"| same app inside the metrics middleware | {metered_us:.1f} µs |")
    print(f"| → the middleware's cost per request | {metered_us - bare_us:.1f} µs |")
    print(f"| the platform's `/healthz` (every middleware, metrics included) | {health_us:.1f} µs |")
    print(f"| → share of `/healthz` spent counting it | {(metered_us - bare_us) / health_us:.1%} |")
    print(f"| `GET /metrics`, 130,000 job runs, 2,000 batches ({kind}) | {statistics.median(scrapes) * 1e3:.1f} ms |")


if __name__ == "__main__":
    main()
