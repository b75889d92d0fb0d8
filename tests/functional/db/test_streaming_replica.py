"""A PostgreSQL primary and a streaming replica of it (pg_basebackup -R), both on loopback, with the platform set to
read public pages from the replica (`XINYONG_READ_DATABASE_URL`):

- with the replica's replay paused, a record revoked on the primary is still shown by the portal: it reads the
  replica, not the primary;
- once replay runs, a revoked record leaves the portal within LAG_BOUND_SECONDS of the revoking commit (the lags
  measured are written to test-artifacts/replica-lag.json; docs/operations.md states the bound);
- `/metrics` says how far behind the replica is (WAL bytes and the replay delay), and `/readyz` whether it answers;
- with the replica stopped, the public API and pages answer 503 (a database outage, not a defect) while the routes
  of department keys and the subjects' own pages, on the primary, still answer and the server stays ready.

The pair is started by scripts/pg-test-server.sh (start, start-replica) in directories of its own, whatever database
the rest of the suite runs on; the test is skipped only when PostgreSQL's server programs are not installed."""

from __future__ import annotations

import glob
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from tests.factories import records as f
from tests.fixtures.keys import TEST_KEY, audit_keys_for_tests

from xinyong import migrate, refcache
from xinyong.app import create_app
from xinyong.audit import keys as audit_keys
from xinyong.config import Settings
from xinyong.db import make_engine, make_sessionmaker
from xinyong.departments.models import Department
from xinyong.protect import protector as make_protector
from xinyong.records import revocation
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.web.deps import get_today

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "pg-test-server.sh"
TODAY = date(2025, 10, 20)
RECORDS = 12
LAG_BOUND_SECONDS = 1.0
METRICS_TOKEN = "replica-metrics-token-0123456789"

pytestmark = pytest.mark.skipif(not glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"),
                                reason="PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) are not installed")  # fmt: skip


@dataclass
class Pair:
    primary_url: str
    replica_url: str
    replica_dir: str


def _script(*args: str) -> str:
    return subprocess.run([str(SCRIPT), *args], check=True, capture_output=True, text=True, timeout=60).stdout.strip()


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    # Directories straight under the temporary directory: the server runs as another user when tests run as root.
    primary_dir, replica_dir = tempfile.mkdtemp(prefix="xinyong-primary."), tempfile.mkdtemp(prefix="xinyong-replica.")
    try:
        primary_url = _script("start", primary_dir)
        replica_url = _script("start-replica", primary_dir, replica_dir)
        yield Pair(primary_url, replica_url, replica_dir)
    finally:
        _script("stop", replica_dir)
        _script("stop", primary_dir)
        shutil.rmtree(primary_dir, ignore_errors=True)
        shutil.rmtree(replica_dir, ignore_errors=True)


def replica_figures(client: TestClient) -> dict[str, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200, response.text
    return {sample.name: sample.value for family in text_string_to_metric_families(response.text)
            for sample in family.samples if sample.name.startswith("xinyong_read_replica")}  # fmt: skip


def _wait_for(engine: Engine, sql: str, expected: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            try:
                if conn.execute(text(sql)).scalar() == expected:
                    return
            except DBAPIError:  # the table may not have reached the replica yet
                pass
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not catch up: {sql}")
        time.sleep(0.05)


def test_the_portal_reads_the_replica_and_revocations_reach_it(pair: Pair, tmp_path: Path,
                                                               artifacts_dir: Path) -> None:  # fmt: skip
    migrate.upgrade(pair.primary_url)
    settings = Settings(database_url=pair.primary_url, read_database_url=pair.replica_url, secret_key=TEST_KEY,
                        secret_key_file=tmp_path / "unused.key", portal_rate_limit_requests=0,
                        audit_checkpoint_file=tmp_path / "checkpoints.jsonl", metrics_token=METRICS_TOKEN)  # fmt: skip
    protector = make_protector(settings)
    primary = make_engine(pair.primary_url)
    factory = audit_keys.attach(make_sessionmaker(primary), audit_keys_for_tests())
    rows = [f.penalty_row(CF_XDR_SHXYM=f.company_code(700 + n), CF_CFLB="罚款") for n in range(RECORDS)]
    with factory() as session:
        department = f.department(session)
        result = records_service.import_rows(session, rows, settings=settings, protector=protector,
                                             record_type="penalty", department=department, actor="test",
                                             today=TODAY, reported_on=TODAY)  # fmt: skip
        assert result.rejected == 0, result
        session.commit()
        department_id = department.id
    codes = [row["CF_XDR_SHXYM"] for row in rows]
    replica = make_engine(pair.replica_url)
    _wait_for(replica, "SELECT count(*) FROM records WHERE status = 'active'", RECORDS)

    app = create_app(settings)
    app.dependency_overrides[get_today] = lambda: TODAY
    read_engine: Engine = app.state.read_engine
    with read_engine.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is True  # the portal's engine: the replica
    with app.state.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar() is False

    def published(client: TestClient, code: str) -> int:
        response = client.get(f"/api/v1/subjects/{code}/records")
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    def revoke(row: dict[str, str]) -> None:
        with factory() as session:
            # The platform's default: the commit returns once the primary has flushed its WAL (the test server
            # runs with synchronous_commit off for speed, which would add up to a WAL writer's delay).
            session.execute(text("SET LOCAL synchronous_commit = on"))
            dept = session.get(Department, department_id)
            assert dept is not None
            revocation.revoke_record(session, department=dept, record_type="penalty", doc_no=row["CF_WSH"],
                                     reason="测试：撤销后须从公示页面撤下", actor="test")  # fmt: skip
            session.commit()

    with TestClient(app, raise_server_exceptions=False) as client:
        assert all(published(client, code) == 1 for code in codes)

        # Replay paused: the primary has the revocation, the portal (on the replica) does not yet.
        with replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
        revoke(rows[0])
        with factory() as session:
            record = session.scalars(select(Record).where(Record.doc_no == rows[0]["CF_WSH"])).one()
            assert record.status.value == "revoked"
        time.sleep(0.3)
        assert published(client, codes[0]) == 1
        behind = replica_figures(client)
        assert behind["xinyong_read_replica_up"] == 1
        assert behind["xinyong_read_replica_lag_bytes"] > 0  # the revocation waits in the WAL
        assert behind["xinyong_read_replica_replay_delay_seconds"] > 0
        with replica.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
        deadline = time.monotonic() + 10
        while published(client, codes[0]) != 0:
            assert time.monotonic() < deadline, "the revocation never reached the replica"
            time.sleep(0.01)
        deadline = time.monotonic() + 10
        while (caught_up := replica_figures(client))["xinyong_read_replica_lag_bytes"] != 0:
            assert time.monotonic() < deadline, caught_up
            time.sleep(0.05)
        assert caught_up["xinyong_read_replica_replay_delay_seconds"] == 0
        assert client.get("/readyz").json()["replica"] == "ok"

        # Replay running: how long after the revoking commit the record is gone from the portal.
        lags = []
        for row, code in zip(rows[1:], codes[1:], strict=True):
            revoke(row)
            committed = time.monotonic()
            while published(client, code) != 0:
                assert time.monotonic() - committed < 10, "the revocation never reached the replica"
                time.sleep(0.002)
            lags.append(time.monotonic() - committed)
        figures = {"revocations": len(lags), "median_s": statistics.median(lags), "max_s": max(lags),
                   "bound_s": LAG_BOUND_SECONDS, "lags_s": [round(x, 4) for x in lags]}  # fmt: skip
        (artifacts_dir / "replica-lag.json").write_text(json.dumps(figures, indent=2))
        assert max(lags) < LAG_BOUND_SECONDS, figures

        # Replica stopped: the public API cannot answer, a department key's route (on the primary) still does.
        _script("stop", pair.replica_dir)
        read_engine.dispose()
        unavailable = client.get(f"/api/v1/subjects/{codes[0]}")
        assert unavailable.status_code == 503
        assert unavailable.json()["error"] == {"code": "database-unavailable", "message": "数据库暂时无法访问，请稍后再试"}
        assert unavailable.headers["Retry-After"] == "30"
        page = client.get(f"/subjects/{codes[0]}")
        assert page.status_code == 503
        assert "数据库暂时无法访问，请稍后再试" in page.text
        refused = client.get("/api/v1/batches/1", headers={"Authorization": "Bearer xy_abcdefgh_not-a-secret"})
        assert refused.status_code == 401
        # The subjects' own pages are on the primary, their region too (they answered 503 here before).
        refcache.clear()
        for path in ("/account/login", "/inspections", "/repair/progress"):
            own = client.get(path)
            assert own.status_code == 200, (path, own.status_code, own.text[:300])
        ready = client.get("/readyz")
        assert ready.status_code == 200  # the console and the keys' APIs still serve
        assert ready.json()["replica"] == "error"
        assert replica_figures(client) == {"xinyong_read_replica_up": 0}
    app.state.engine.dispose()
    read_engine.dispose()
    replica.dispose()
    primary.dispose()
