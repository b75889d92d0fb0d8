"""SQLite: a console action while another connection keeps writing (an import storing its chunks, a job).

A console POST reads (its signed-in session, the form's objects) before it writes. Begun as a plain
(deferred) transaction, its first write failed at once with "database is locked" whenever another connection
had committed since that read, and the officer saw "数据库暂时无法访问". A page view failed the same way when it
recorded the session's last use at its end. A submitting request's transactions now begin as writers' and wait
their turn, and the last use is written in a transaction of its own after the page's."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.factories.records import company_code
from tests.fixtures.own_app import PASSWORD, TOKEN, app_with_admin

from xinyong import db
from xinyong.auth.models import UserSession
from xinyong.config import Settings
from xinyong.departments.models import Department

POSTS = 15


@pytest.fixture
def sqlite_app(own_app: tuple[TestClient, Session, str]) -> tuple[TestClient, Session, str]:
    if own_app[1].get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    return own_app


@pytest.fixture
def own_app(fresh_database_url: str, settings: Settings) -> Iterator[tuple[TestClient, Session, str]]:
    with app_with_admin(fresh_database_url, settings) as (client, reader):
        yield client, reader, str(make_url(fresh_database_url).database or "")


class Importer:
    """Another connection that commits a short write every few milliseconds, as an import's chunks and the jobs
    do, until stopped."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.commits = 0
        self.stop = threading.Event()
        setup = sqlite3.connect(path, isolation_level=None)
        setup.execute("CREATE TABLE IF NOT EXISTS scratch_writes (n INTEGER)")
        setup.close()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            while not self.stop.is_set():
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO scratch_writes VALUES (1)")
                time.sleep(0.01)
                connection.execute("COMMIT")
                self.commits += 1
                time.sleep(0.005)
        finally:
            connection.close()

    def __enter__(self) -> Importer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def _sign_in(client: TestClient) -> str:
    token = TOKEN.search(client.get("/admin/login").text).group(1)  # type: ignore[union-attr]
    assert client.post("/admin/login", data={"csrf_token": token, "username": "admin",
                                             "password": PASSWORD}).status_code == 303  # fmt: skip
    return TOKEN.search(client.get("/admin/departments").text).group(1)  # type: ignore[union-attr]


def test_console_posts_wait_for_other_writers_instead_of_failing(sqlite_app) -> None:  # type: ignore[no-untyped-def]
    client, reader, path = sqlite_app
    token = _sign_in(client)
    answers = []
    with Importer(path) as importer:
        for n in range(POSTS):
            answer = client.post("/admin/departments", data={"csrf_token": token, "code": company_code(900 + n),
                                                             "name": f"测试部门{n}"})  # fmt: skip
            answers.append((answer.status_code, answer.headers.get("location", answer.text[:200])))

    assert [status for status, _ in answers] == [303] * POSTS, answers
    assert "已登记部门" in client.get(answers[-1][1]).text
    reader.rollback()
    assert reader.scalar(select(func.count()).select_from(Department)) == POSTS
    assert importer.commits > POSTS  # the other connection did write throughout


# Asynchronous handlers marked `writes_first` (their statements run on the event loop, in a transaction their
# first dependency began as a writer's in a worker thread): without the mark the first of these failed at once.
ASYNC_FORMS = {
    "/admin/finance/institutions": lambda n: {"code": company_code(700 + n), "name": f"某某银行{n}",
                                              "purposes": "流动资金"},
    "/admin/scenarios": lambda n: {"key": f"xinyi-pi-{n}", "name": f"信易批{n}", "provider": "德清县行政审批服务中心",
                                   "provider_kind": "department", "benefit": "容缺受理", "grades": ["A"],
                                   "basis": "《德清县信易批实施办法》"},
}  # fmt: skip


@pytest.mark.parametrize("path", sorted(ASYNC_FORMS))
def test_asynchronous_console_posts_wait_for_other_writers_too(sqlite_app, path: str) -> None:  # type: ignore[no-untyped-def]
    client, _, path_of_database = sqlite_app
    token = _sign_in(client)
    answers = []
    with Importer(path_of_database) as importer:
        for n in range(POSTS):
            answer = client.post(path, data={"csrf_token": token, **ASYNC_FORMS[path](n)}, follow_redirects=True)
            answers.append((answer.status_code, re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', answer.text)))
    assert all(status == 200 and flashes and flashes[0].startswith("已") for status, flashes in answers), answers
    assert importer.commits > POSTS


def _age_sign_ins(reader: Session) -> None:
    reader.execute(update(UserSession).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=2)))
    reader.commit()


def _last_use(reader: Session) -> datetime:
    reader.rollback()
    seen = reader.scalar(select(func.max(UserSession.last_seen_at)))
    assert seen is not None
    return seen


def test_console_pages_whose_sign_in_is_touched_do_not_fail(sqlite_app) -> None:  # type: ignore[no-untyped-def]
    """A page view writes too: the signed-in session's last use, at most once a minute."""
    client, reader, path = sqlite_app
    _sign_in(client)
    pages = ["/admin", "/admin/departments", "/admin/audit", "/admin/batches"]
    answers = []
    with Importer(path) as importer:
        for n in range(POSTS):
            _age_sign_ins(reader)
            page = client.get(pages[n % len(pages)])
            answers.append((page.status_code, page.url.path))
    assert [status for status, _ in answers] == [200] * POSTS, answers
    assert importer.commits > POSTS
    assert datetime.now(UTC) - _last_use(reader) < timedelta(minutes=1)  # recorded after a page view


def test_a_page_view_records_the_sessions_last_use_at_most_once_a_minute(own_app) -> None:  # type: ignore[no-untyped-def]
    """What the idle timeout counts from, on both databases: a page view more than a minute after the last one
    records it (after the page's own transaction); one within the minute writes nothing."""
    client, reader, _ = own_app
    _sign_in(client)
    recorded = _last_use(reader)
    assert client.get("/admin/departments").status_code == 200
    assert _last_use(reader) == recorded  # within the minute: not written again
    _age_sign_ins(reader)
    aged = _last_use(reader)
    assert client.get("/admin/departments").status_code == 200
    assert _last_use(reader) - aged > timedelta(minutes=1)
    assert client.get("/admin/audit").status_code == 200  # an audited page: its own entry and the use, both kept


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 300)  # read when the app's connections open


def test_a_post_that_waits_out_the_busy_timeout_is_told_to_retry(short_wait, sqlite_app) -> None:  # type: ignore[no-untyped-def]
    """Another connection keeps the write lock past the timeout: the form answers 503 with the reason and
    Retry-After (not a defect's 500), nothing is written, and the page views around it still work."""
    signed_in, reader, path = sqlite_app
    token = _sign_in(signed_in)
    # The 503 is the last-resort handler's answer, which the test client would raise as the server's error.
    client = TestClient(signed_in.app, raise_server_exceptions=False, follow_redirects=False,
                        cookies=dict(signed_in.cookies))  # fmt: skip
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        answer = client.post("/admin/departments", data={"csrf_token": token, "code": company_code(990),
                                                         "name": "测试部门"})  # fmt: skip
        _age_sign_ins_raw(holder)
        page = client.get("/admin/departments")  # its last use cannot be written now: dropped, the page shown
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answer.status_code == 503, answer.text[:300]
    assert "数据库暂时无法访问" in answer.text
    assert answer.headers["retry-after"] == "30"
    assert page.status_code == 200
    assert "部门" in page.text
    reader.rollback()
    assert reader.scalar(select(func.count()).select_from(Department)) == 0


def _age_sign_ins_raw(connection: sqlite3.Connection) -> None:
    connection.execute("UPDATE user_sessions SET last_seen_at = ?",
                       ((datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M:%S.%f"),))  # fmt: skip


@pytest.mark.parametrize(("content_type", "is_form"), [
    ("application/x-www-form-urlencoded", True), ("Application/X-WWW-FORM-urlencoded", True),
    ("MULTIPART/form-data; boundary=x", True), (" multipart/form-data ;boundary=x", True),
    ("application/json", False), ("text/plain; note=form", False), ("", False),
])  # fmt: skip
def test_a_form_is_read_before_the_lock_whatever_the_case_of_its_media_type(content_type: str, is_form: bool) -> None:
    """Starlette parses a body as a form whatever the case of its media type; the read before the write lock
    must recognise it the same way, or a slow client would be read from while the lock is held."""
    from starlette.requests import Request

    from xinyong.web.deps import _is_form

    headers = [(b"content-type", content_type.encode())] if content_type else []
    assert _is_form(Request({"type": "http", "method": "POST", "headers": headers})) is is_form
