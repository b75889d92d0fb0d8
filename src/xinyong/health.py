"""What monitoring systems read: `/healthz` (the process answers), `/readyz` (it can serve: the database answers
and is migrated to this version) and `/metrics` (Prometheus' text format, for the configured monitoring
networks or a token only).

Beside the requests the web shell counts (`xinyong.web.metrics`), the figures below are read from the database
at each scrape, so that they cover every process (the command line's imports, the worker's jobs, every server
process) and survive restarts: imports by status and rows, credit checks recorded, job runs and each job's last
success. Each is one cheap query: small tables (batches, the jobs' tallies), the highest id of a large one."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from xinyong import migrate
from xinyong.checks.models import CreditCheck
from xinyong.jobs.models import JobLock
from xinyong.records.models import Batch
from xinyong.web.metrics import ensure_may_scrape
from xinyong.web.uow import router as make_router

router = make_router()


@router.get("/healthz", name="health", include_in_schema=False)
async def health() -> dict[str, str]:
    """Liveness: the process answers (no database: a database outage must not get every server restarted)."""
    return {"status": "ok"}


@cache
def _code_heads(database_url: str) -> frozenset[str]:
    return frozenset(migrate.current_heads(database_url))


@router.get("/readyz", name="ready", include_in_schema=False)
def ready(request: Request) -> JSONResponse:
    """Readiness: the database answers and is at this version's migrations (200), or why not (503)."""
    engine: Engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            revisions = frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception as exc:  # unreachable, refused, not migrated at all: not ready, whatever the reason
        detail = "数据库未创建或未迁移" if "alembic_version" in str(exc) else "无法访问数据库"
        return JSONResponse({"status": "unavailable", "database": "error", "detail": detail,
                             "error": type(exc).__name__}, status_code=503)  # fmt: skip
    expected = _code_heads(request.app.state.settings.database_url)
    if revisions != expected:
        return JSONResponse({"status": "unavailable", "database": "outdated",
                             "detail": "数据库版本与程序不一致，请运行 xinyong db upgrade",
                             "revision": sorted(revisions), "expected": sorted(expected)}, status_code=503)  # fmt: skip
    answer: dict[str, Any] = {"status": "ready", "database": "ok", "revision": sorted(revisions)}
    read_engine: Engine = request.app.state.read_engine
    if read_engine is not engine:
        # The replica serves the public pages only: the console, the APIs of keys and every write carry on
        # without it, so its outage is reported here and in /metrics but does not take the server out of service.
        answer["replica"] = "ok" if _answers(read_engine) else "error"
    return JSONResponse(answer)


def _answers(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # whatever the reason, it does not answer
        return False
    return True


@router.get("/metrics", name="metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    ensure_may_scrape(request, networks=request.app.state.metrics_networks, token=settings.metrics_token)
    # Prometheus' text format 0.0.4 by default; OpenMetrics when the scraper asks for it.
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(request.app.state.metrics.registry), headers={"Content-Type": content_type})


class DatabaseFigures(Collector):
    """Figures of the platform read from the database when scraped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("xinyong_database_up", "Whether the database answered the metrics' queries")
        try:
            families = list(self._figures())
        except Exception:  # the scrape still answers, with the database down
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _figures(self) -> Iterator[Metric]:
        with self.engine.connect() as connection:
            batches = connection.execute(
                select(Batch.status, func.count(), func.coalesce(func.sum(Batch.rows_read), 0),
                       func.coalesce(func.sum(Batch.created), 0)).group_by(Batch.status)
            ).all()  # fmt: skip
            checks = connection.execute(select(func.max(CreditCheck.id))).scalar() or 0
            tallies = connection.execute(
                select(JobLock.job, JobLock.runs_ok, JobLock.runs_failed, JobLock.last_outcome, JobLock.last_success_at)
            ).all()  # fmt: skip
        imports = GaugeMetricFamily("xinyong_import_batches", "Import batches by status", labels=["status"])
        rows = CounterMetricFamily("xinyong_import_rows", "Rows read by all import batches")
        stored = CounterMetricFamily("xinyong_import_records_created", "Records created by all import batches")
        for status, count, _, _ in batches:
            imports.add_metric([_text(status)], count)
        rows.add_metric([], sum(int(r[2]) for r in batches))
        stored.add_metric([], sum(int(r[3]) for r in batches))
        yield from (imports, rows, stored)
        checked = CounterMetricFamily("xinyong_credit_checks", "Credit checks recorded (the highest check number "
                                      "issued; PostgreSQL's sequence may skip a few after rollbacks)")  # fmt: skip
        checked.add_metric([], checks)
        yield checked
        job_runs = CounterMetricFamily("xinyong_job_runs", "Runs of each scheduled job that ended, by outcome",
                                       labels=["job", "outcome"])  # fmt: skip
        last_ok = GaugeMetricFamily("xinyong_job_last_success_timestamp_seconds",
                                    "When each job's last successful run ended (Unix time)", labels=["job"])  # fmt: skip
        failing = GaugeMetricFamily("xinyong_job_last_run_failed", "1 when a job's latest run failed",
                                    labels=["job"])  # fmt: skip
        for job, ok, failed, outcome, succeeded in tallies:
            job_runs.add_metric([job, "ok"], ok)
            job_runs.add_metric([job, "failed"], failed)
            if succeeded is not None:
                last_ok.add_metric([job], _timestamp(succeeded))
            failing.add_metric([job], 1 if outcome == "failed" else 0)
        yield from (job_runs, last_ok, failing)


class ReplicaFigures(Collector):
    """How far the read replica that serves the public pages is behind the primary, read at each scrape.

    `xinyong_read_replica_lag_bytes` is the primary's current WAL position less the replica's replayed one: 0
    when the replica has applied everything. `xinyong_read_replica_replay_delay_seconds` is the age of the last
    transaction the replica replayed while it is behind, 0 once it has caught up (an idle primary sends nothing
    to replay, so the bare age would grow for ever). PostgreSQL only; with the replica unreachable only
    `xinyong_read_replica_up 0` is given."""

    def __init__(self, primary: Engine, replica: Engine) -> None:
        self.primary = primary
        self.replica = replica

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("xinyong_read_replica_up", "Whether the read replica answered the metrics' queries")
        try:
            with self.primary.connect() as connection:
                position = connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
            with self.replica.connect() as connection:
                behind, age = connection.execute(
                    text("SELECT pg_wal_lsn_diff(CAST(:position AS pg_lsn), pg_last_wal_replay_lsn()), "
                         "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"),
                    {"position": position},
                ).one()  # fmt: skip
        except Exception:  # the scrape still answers, with the replica (or the primary) down
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        lag = max(0.0, float(behind or 0))
        bytes_behind = GaugeMetricFamily("xinyong_read_replica_lag_bytes",
                                         "WAL bytes the read replica has yet to replay")  # fmt: skip
        bytes_behind.add_metric([], lag)
        delay = GaugeMetricFamily("xinyong_read_replica_replay_delay_seconds",
                                  "Age of the last replayed transaction while the replica is behind; 0 caught up")  # fmt: skip
        delay.add_metric([], float(age or 0) if lag > 0 else 0.0)
        yield from (bytes_behind, delay)


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


def _timestamp(value: Any) -> float:
    from datetime import UTC, datetime

    if isinstance(value, str):  # SQLite through a plain select of an aggregate: text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())
