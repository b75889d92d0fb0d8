"""Request bodies over the cap are refused with 413 before they are read in full."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from xinyong.app import create_app
from xinyong.web.deps import get_session


@pytest.fixture
def client(settings, db_session):
    app = create_app(settings.model_copy(update={"api_max_body_bytes": 1000, "upload_max_bytes": 5000}))
    app.dependency_overrides[get_session] = lambda: db_session
    with TestClient(app) as test_client:
        yield test_client


def test_declared_length_over_the_api_cap(client) -> None:
    response = client.post("/api/v1/records/penalty/batch", content=b"{" + b" " * 2000 + b"}",
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request-too-large"


def test_chunked_body_over_the_api_cap(client) -> None:
    def chunks():
        for _ in range(20):
            yield b" " * 200

    response = client.post("/api/v1/records/penalty/batch", content=chunks(),
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 413


def test_small_bodies_pass_through(client) -> None:
    response = client.post("/api/v1/records/penalty/batch", json={"rows": []})
    assert response.status_code == 401  # reached the handler's authentication, not the size check


def test_console_bodies_have_the_upload_cap(client) -> None:
    response = client.post("/admin/login", content=b"x" * (5000 + 1024 * 1024 + 1),
                           headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert response.status_code == 413


def test_chunked_body_under_the_cap_reaches_the_handler(client) -> None:
    def chunks():
        yield b'{"rows": '
        yield b"[]}"

    response = client.post("/api/v1/records/penalty/batch", content=chunks(),
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 401  # the body was replayed intact; authentication comes next
