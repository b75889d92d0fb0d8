"""The unit of work of a request, on a database of its own with the app's own sessions (no test session
shared behind its back): a handler's changes are committed when it returns, rolled back when it is refused,
kept when the refusal is itself a fact to record; the outbox is delivered only after the commit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.factories.records import DEPT_CODE
from tests.fixtures.own_app import PASSWORD, TOKEN, app_with_admin

from xinyong.auth.models import User
from xinyong.config import Settings
from xinyong.departments.models import Department


@pytest.fixture
def own_app(fresh_database_url: str, settings: Settings) -> Iterator[tuple[TestClient, Session]]:
    with app_with_admin(fresh_database_url, settings) as pair:
        yield pair


def _sign_in(client: TestClient, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = TOKEN.search(client.get("/admin/login").text).group(1)  # type: ignore[union-attr]
    return client.post("/admin/login", data={"csrf_token": token, "username": "admin", "password": password})


def _count(reader: Session) -> int:
    reader.rollback()  # a fresh snapshot
    return reader.scalar(select(func.count()).select_from(Department)) or 0


def test_a_handlers_changes_are_committed_when_it_returns(own_app):
    client, reader = own_app
    assert _sign_in(client).status_code == 303
    page = client.get("/admin/departments")
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]

    created = client.post("/admin/departments", data={"csrf_token": token, "code": DEPT_CODE,
                                                      "name": "某县市场监督管理局"})  # fmt: skip

    assert created.status_code == 303
    assert "已登记部门" in client.get(created.headers["location"]).text
    assert _count(reader) == 1  # seen from another connection: committed


def test_a_refused_handler_changes_nothing(own_app):
    client, reader = own_app
    _sign_in(client)
    token = TOKEN.search(client.get("/admin/departments").text).group(1)  # type: ignore[union-attr]

    refused = client.post("/admin/departments", data={"csrf_token": token, "code": "not-a-code", "name": "某局"})

    assert refused.status_code == 303
    assert "统一社会信用代码" in client.get(refused.headers["location"]).text
    assert _count(reader) == 0


def test_a_refusal_that_is_a_fact_is_kept(own_app):
    client, reader = own_app

    failed = _sign_in(client, password="wrong-password-1")

    assert failed.status_code == 401
    assert "用户名或密码错误" in failed.text
    reader.rollback()
    assert reader.scalar(select(User.failed_logins).where(User.username == "admin")) == 1
