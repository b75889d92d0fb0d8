"""Property-based requests against the OpenAPI description: whatever a client sends, within the described
shapes or outside them, the API answers without a server error, with a status it describes, in the content
type and the schema it describes for that status.

Each operation gets a bounded number of generated requests, derived from a fixed seed (Hypothesis's
derandomize) so that a run can be repeated; the app runs in this process on the test's rolled-back
database. Requests carry a department key that holds every API permission, or no credentials at all: then
every operation that needs them must answer 401.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session
from tests.factories import lists as list_factories
from tests.factories.records import ON_TIME, department, penalty_row
from tests.fixtures.keys import TEST_KEY
from tests.fixtures.sessions import serve_from

from xinyong.actors import API_PERMISSIONS
from xinyong.app import create_app
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.protect import Protector
from xinyong.records import service as records_service

# Every operation of the JSON API; test_openapi checks that this is the whole description.
OPERATIONS = [
    ("POST", "/api/v1/checks"),
    ("POST", "/api/v1/checks/batch"),
    ("POST", "/api/v1/checks/batch/file"),
    ("GET", "/api/v1/checks/stats"),
    ("GET", "/api/v1/checks/{number}"),
    ("POST", "/api/v1/checks/{number}/feedback"),
    ("POST", "/api/v1/lists/{type_key}/entries"),
    ("GET", "/api/v1/lists/imports/{import_id}/problems.csv"),
    ("POST", "/api/v1/records/{record_type}/batch"),
    ("GET", "/api/v1/batches/{batch_id}"),
    ("GET", "/api/v1/batches/{batch_id}/problems.csv"),
    ("POST", "/api/v1/records/{record_type}/revoke"),
    ("GET", "/api/v1/subjects"),
    ("GET", "/api/v1/subjects/{code}"),
    ("GET", "/api/v1/subjects/{code}/records"),
    ("POST", "/api/v1/reports"),
    ("GET", "/api/v1/changes"),
    ("GET", "/api/v1/extracts/{record_type}"),
    ("GET", "/api/v1/finance/subjects/{code}"),
    ("GET", "/api/v1/finance/demands"),
    ("POST", "/api/v1/finance/demands/{demand_id}/take"),
    ("POST", "/api/v1/finance/demands/{demand_id}/outcome"),
    ("GET", "/api/v1/finance/whitelist"),
    ("GET", "/api/v1/finance/whitelist.csv"),
    ("GET", "/api/v1/scenarios"),
    ("POST", "/api/v1/scenarios/{key}/check"),
]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Bounded: about ten seconds of CPU per database for the whole module.
EXAMPLES = {"with-key": 12, "with-key-invalid": 5, "without-credentials": 2}


# No rate limit, so that generated requests reach the handlers; small batch limits, so that they are reached.
LIMITS = {"portal_rate_limit_requests": 0, "api_batch_max_rows": 20, "checks_batch_max_rows": 20}


@pytest.fixture(scope="module")
def described(database_url, tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The description of an app with these settings, built once: FastAPI takes most of a second to build it,
    and each test's app (the same code, the same settings) serves this copy."""
    app = create_app(Settings(database_url=database_url, secret_key=TEST_KEY,
                              secret_key_file=tmp_path_factory.mktemp("key") / "unused.key", **LIMITS))  # fmt: skip
    spec = app.openapi()
    app.state.engine.dispose()
    return spec


@pytest.fixture
def fuzzed_app(db_session: Session, settings: Settings, protector: Protector, described, monkeypatch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from xinyong import clock

    monkeypatch.setattr(clock, "today", lambda: ON_TIME)
    app = create_app(settings.model_copy(update=LIMITS))
    app.openapi_schema = copy.deepcopy(described)
    serve_from(app, db_session)
    dept = department(db_session)
    list_factories.load_types(db_session)
    records_service.import_rows(db_session, [penalty_row() for _ in range(3)], settings=settings, protector=protector,
                                record_type="penalty", department=dept, actor="test", today=ON_TIME)  # fmt: skip
    _, token = departments_service.issue_api_key(db_session, department=dept, name="测试系统",
                                                 scopes=sorted(p.value for p in API_PERMISSIONS))  # fmt: skip
    db_session.commit()
    app.state.fuzz_key = token
    with TestClient(app):
        yield app
    app.state.engine.dispose()


# A path parameter of any text cannot be made invalid: that operation has no invalid requests to generate.
NOTHING_INVALID = {("GET", "/api/v1/subjects/{code}"), ("GET", "/api/v1/finance/demands"), ("GET", "/api/v1/scenarios")}


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_generated_requests_get_described_answers(fuzzed_app, method, path):  # type: ignore[no-untyped-def]
    operation = schemathesis.openapi.from_asgi("/api/openapi.json", fuzzed_app)[path][method]
    client = asgi.get_client(fuzzed_app)  # one client for every request (the app's lifespan is the fixture's)
    key = {"Authorization": f"Bearer {fuzzed_app.state.fuzz_key}"}
    _fuzz(operation, client, GenerationMode.POSITIVE, key, EXAMPLES["with-key"])
    _fuzz(operation, client, GenerationMode.POSITIVE, {}, EXAMPLES["without-credentials"])
    if (method, path) not in NOTHING_INVALID:
        _fuzz(operation, client, GenerationMode.NEGATIVE, key, EXAMPLES["with-key-invalid"])


def _fuzz(operation, client, mode: GenerationMode, headers: dict[str, str], examples: int) -> None:  # type: ignore[no-untyped-def]
    needs_credentials = bool(operation.definition.raw.get("security"))

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case):  # type: ignore[no-untyped-def]
        response = case.call_and_validate(session=client, headers=headers, checks=CHECKS)
        if needs_credentials and not headers:
            assert response.status_code == 401, response.text

    run()
