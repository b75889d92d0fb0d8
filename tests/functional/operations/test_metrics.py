"""/metrics in Prometheus' text format (requests by route template, latency, imports, checks, job runs), open
to the monitoring networks or a token only; /readyz answers 503 with the reason when the database cannot serve;
/healthz answers while the process lives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from tests.factories.records import ON_TIME, department, penalty_row
from tests.fixtures.keys import keyed_sessionmaker

from xinyong import migrate
from xinyong.app import create_app
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.jobs.registry import Job
from xinyong.jobs.rules import Schedule
from xinyong.jobs.worker import Worker
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service

LOCAL = ("127.0.0.1", 50000)
TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
def ops_settings(settings: Settings, fresh_database_url: str) -> Settings:
    return settings.model_copy(update={"database_url": fresh_database_url, "metrics_token": TOKEN,
                                       "trusted_proxies": ("10.0.0.0/8",), "portal_rate_limit_requests": 0})  # fmt: skip


def client_for(settings: Settings, address: tuple[str, int] = LOCAL) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app, client=address, follow_redirects=False) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def local(ops_settings: Settings) -> Iterator[TestClient]:
    yield from client_for(ops_settings)


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_requests_imports_checks_and_job_runs(local: TestClient, ops_settings: Settings) -> None:
    engine = make_engine(ops_settings.database_url)
    factory = keyed_sessionmaker(engine)
    with factory() as session:
        dept = department(session)
        records_service.import_rows(session, [penalty_row()], settings=ops_settings,
                                    protector=make_protector(ops_settings), record_type="penalty", department=dept,
                                    actor="test", today=ON_TIME)  # fmt: skip
        session.commit()
    ok = Job("metrics-ok", "测试", lambda ctx: "完成", Schedule(every=timedelta(minutes=5)))
    Worker(factory, ops_settings, {ok.name: ok}, holder="w1").run_due()
    engine.dispose()

    assert local.get("/healthz").json() == {"status": "ok"}
    assert local.get("/healthz").status_code == 200
    assert local.get("/subjects/110101199003070011").status_code == 404
    assert local.get("/no/such/page/110101199003070011").status_code == 404
    local.request("BREW", "/healthz")
    response = local.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    body = response.text
    assert "# TYPE xinyong_http_requests_total counter" in body
    assert "# TYPE xinyong_http_request_duration_seconds histogram" in body
    assert "110101199003070011" not in body  # routes are labelled by template, never by what a client typed
    found = samples(body)
    get = (("method", "GET"),)
    assert found[("xinyong_http_requests_total", (*get, ("route", "/healthz"), ("status", "200")))] == 2
    assert found[("xinyong_http_requests_total", (*get, ("route", "/subjects/{ref}"), ("status", "404")))] == 1
    assert found[("xinyong_http_requests_total", (*get, ("route", "unmatched"), ("status", "404")))] == 1
    assert found[("xinyong_http_request_duration_seconds_count", (*get, ("route", "/healthz")))] == 2
    assert found[("xinyong_http_request_duration_seconds_bucket", (("le", "+Inf"), *get, ("route", "/healthz")))] == 2
    assert found[("xinyong_database_up", ())] == 1
    assert ("xinyong_http_requests_total", (("method", "OTHER"), ("route", "/healthz"), ("status", "405"))) in found
    assert found[("xinyong_import_batches", (("status", "completed"),))] == 1
    assert found[("xinyong_import_rows_total", ())] == 1
    assert found[("xinyong_import_records_created_total", ())] == 1
    assert found[("xinyong_credit_checks_total", ())] == 0
    assert found[("xinyong_job_runs_total", (("job", "metrics-ok"), ("outcome", "ok")))] == 1
    assert found[("xinyong_job_runs_total", (("job", "metrics-ok"), ("outcome", "failed")))] == 0
    assert found[("xinyong_job_last_success_timestamp_seconds", (("job", "metrics-ok"),))] > 1.7e9
    assert found[("xinyong_job_last_run_failed", (("job", "metrics-ok"),))] == 0
    # The scrape itself is counted from the next one on.
    assert ("xinyong_http_requests_total", (*get, ("route", "/metrics"), ("status", "200"))) in samples(
        local.get("/metrics").text)


def test_metrics_closed_to_other_networks_unless_the_token(ops_settings: Settings) -> None:
    for client in client_for(ops_settings, ("203.0.113.5", 40000)):
        refused = client.get("/metrics")
        assert refused.status_code == 403
        assert "监控指标仅对配置的监控网段（XINYONG_METRICS_NETWORKS）或持有令牌的请求开放" in refused.json()["error"]["message"]
        assert "xinyong_http" not in refused.text
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 403
        assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 403
        allowed = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert allowed.status_code == 200
        assert "xinyong_http_requests_total" in allowed.text
    # Behind the trusted proxy, the client is the address it forwarded: a spoofed 127.0.0.1 on the left is not it.
    for client in client_for(ops_settings, ("10.0.0.2", 40000)):
        assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}).status_code == 403
        assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200
    # The test client's own address is no address at all: refused.
    for client in client_for(ops_settings, ("testclient", 50000)):
        assert client.get("/metrics").status_code == 403
    wide = ops_settings.model_copy(update={"metrics_networks": ("192.0.2.0/24",), "metrics_token": None})
    for client in client_for(wide, ("192.0.2.77", 40000)):
        assert client.get("/metrics").status_code == 200
    for client in client_for(wide, LOCAL):
        assert client.get("/metrics").status_code == 403


def test_readyz_ready_and_outdated(local: TestClient, ops_settings: Settings) -> None:
    ready = local.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok",
                            "revision": migrate.database_revisions(ops_settings.database_url)}  # fmt: skip
    # No replica configured: nothing said of one (tests/functional/db/test_streaming_replica.py has one).
    assert not any(name.startswith("xinyong_read_replica") for name, _ in samples(local.get("/metrics").text))
    engine = make_engine(ops_settings.database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001_platform_spine'"))
    engine.dispose()
    outdated = local.get("/readyz")
    assert outdated.status_code == 503
    assert outdated.json()["database"] == "outdated"
    assert "请运行 xinyong db upgrade" in outdated.json()["detail"]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_readyz_503_when_the_database_is_unreachable(settings: Settings, tmp_path: Path, kind: str) -> None:
    if kind == "sqlite":
        (tmp_path / "a-directory.db").mkdir()
        url = f"sqlite:///{tmp_path / 'a-directory.db'}"
    else:
        url = "postgresql://xinyong@127.0.0.1:1/nothing"  # nobody listens on port 1
    for client in client_for(settings.model_copy(update={"database_url": url})):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert response.json()["detail"] == "无法访问数据库"
        assert client.get("/healthz").status_code == 200  # alive all the same
        metrics = client.get("/metrics")
        assert metrics.status_code == 200  # the scrape answers, and says the database is down
        assert samples(metrics.text)[("xinyong_database_up", ())] == 0
        # The pages say the service is unavailable for a while: 503, not a defect's 500 (the server's log still
        # gets the traceback, which this client would raise).
        browser = TestClient(client.app, raise_server_exceptions=False)
        page = browser.get("/search?q=测试科技")
        assert page.status_code == 503
        assert "数据库暂时无法访问，请稍后再试" in page.text
        api = browser.get("/api/v1/subjects?q=测试科技")
        assert api.status_code == 503
        assert api.json()["error"]["code"] == "database-unavailable"
        assert api.headers["Retry-After"] == "30"


def test_readyz_503_on_a_database_never_migrated(settings: Settings, tmp_path: Path) -> None:
    for client in client_for(settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})):
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["detail"] == "数据库未创建或未迁移"
