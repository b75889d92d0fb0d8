"""Console fixtures: an app bound to the test's rolled-back session, two departments, one account per role."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories.records import OTHER_DEPT_CODE, department

from xinyong.actors import Actor
from xinyong.app import create_app
from xinyong.auth import service as auth_service
from xinyong.auth.models import User
from xinyong.auth.rules import Role
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.web.csrf import FIELD as CSRF_FIELD
from xinyong.web.deps import SESSION_COOKIE, get_read_session, get_session

PASSWORD = "Correct-horse-42"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Accounts:
    dept_a: Department
    dept_b: Department
    users: dict[str, User]  # "platform_admin", "operator", "reviewer", "auditor", "operator_b", "reviewer_b",
    # "integrity_keeper"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with the smallest parameters: the same code path, a fraction of the time."""
    from argon2 import PasswordHasher

    from xinyong.auth import passwords

    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: fast)
    passwords._DUMMY.clear()


@pytest.fixture
def console_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"portal_rate_limit_requests": 0, "upload_max_bytes": 256 * 1024,
                                       "login_rate_limit_attempts": 1000})  # fmt: skip


@pytest.fixture
def app(db_session: Session, console_settings: Settings) -> Iterator[object]:
    application = create_app(console_settings)

    def session_for_tests():  # type: ignore[no-untyped-def]
        yield db_session

    application.dependency_overrides[get_session] = session_for_tests
    application.dependency_overrides[get_read_session] = session_for_tests
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def accounts(db_session: Session, console_settings: Settings) -> Accounts:
    dept_a = department(db_session)
    dept_b = department(db_session, code=OTHER_DEPT_CODE, name="安吉县交通运输局")
    system = Actor.system("test")
    users: dict[str, User] = {}
    for key, role, dept in (
        ("platform_admin", Role.PLATFORM_ADMIN, None), ("auditor", Role.AUDITOR, None),
        ("integrity_keeper", Role.INTEGRITY_KEEPER, None),
        ("operator", Role.OPERATOR, dept_a), ("reviewer", Role.REVIEWER, dept_a),
        ("operator_b", Role.OPERATOR, dept_b), ("reviewer_b", Role.REVIEWER, dept_b),
    ):  # fmt: skip
        users[key] = auth_service.create_user(
            db_session, username=key.replace("_", "-"), password=PASSWORD, role=role, department=dept,
            display_name=f"测试{key}", actor=system, settings=console_settings,
        )  # fmt: skip
    db_session.commit()
    return Accounts(dept_a, dept_b, users)


@dataclass
class Browser:
    """A TestClient signed in as one user, with that session's CSRF token at hand."""

    client: TestClient
    csrf: str

    def get(self, url: str, **kwargs):  # type: ignore[no-untyped-def]
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):  # type: ignore[no-untyped-def]
        form = {CSRF_FIELD: self.csrf, **(data or {})}
        return self.client.post(url, data=form, **kwargs)


@pytest.fixture
def sign_in(client: TestClient, db_session: Session, console_settings: Settings) -> Callable[[User], Browser]:
    """Signs in without the password round trip (that is tested on its own): a session row and its cookie."""

    def run(user: User) -> Browser:
        row, token = auth_service.start_session(db_session, user, settings=console_settings, client="testclient")
        db_session.commit()  # a savepoint release: a request's rollback must not take the session with it
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, token)
        return Browser(client, row.csrf_token)

    return run


def login_form_token(client: TestClient) -> str:
    page = client.get("/admin/login")
    match = CSRF_RE.search(page.text)
    assert match, page.text
    return match.group(1)
