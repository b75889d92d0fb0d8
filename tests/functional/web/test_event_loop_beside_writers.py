"""SQLite: the event loop keeps answering while another connection holds the write lock (an import storing a
chunk, a job, a console action).

Every request of a server process is answered on one event loop. Work that waits for SQLite's write lock, or
that hashes a password for a tenth of a second, must do so in a worker thread: on the loop it stops every other
request of the process (the portal, the API, the credit checks) for as long. These tests hold the lock from a
connection of their own and time a page of no work (`/healthz`) meanwhile."""

from __future__ import annotations

import contextlib
import gc
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.factories import lists as lf
from tests.factories import records as rf
from tests.factories.checks import TODAY, make_world
from tests.fixtures.keys import keyed_sessionmaker
from tests.fixtures.own_app import app_with_admin
from tests.fixtures.subject_accounts import PDF, SUBJECT_PASSWORD, anonymous_form, last_code, verified_account
from tests.functional.web.test_console_beside_writers import ASYNC_FORMS, Importer, _running, _sign_in

from xinyong import db
from xinyong.accounts.models import SubjectAccount, SubjectSession
from xinyong.checks.models import CreditCheck
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.departments import service as departments_service
from xinyong.evidence.models import Evidence
from xinyong.lists.models import ListEntry
from xinyong.objections.models import Objection, ObjectionStatus
from xinyong.protect import Protector
from xinyong.records.models import Record
from xinyong.scenarios.models import Scenario
from xinyong.subjects.models import Subject
from xinyong.subjects.refs import record_ref
from xinyong.web.deps import get_today

HELD = 1.5  # seconds the other connection keeps the write lock
RESPONSIVE = 0.5  # the slowest `/healthz` allowed meanwhile: a third of the hold


@pytest.fixture
def checking_app(fresh_database_url: str, settings: Settings, protector: Protector, tmp_path: Path
                 ) -> Iterator[Checking]:  # fmt: skip
    if make_url(fresh_database_url).get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    settings = settings.model_copy(update={"upload_dir": tmp_path / "uploads", "events_file": tmp_path / "events.jsonl"})
    engine = make_engine(fresh_database_url)
    with keyed_sessionmaker(engine)() as setup:
        world = make_world(setup, settings, protector, rf.department(setup))
        _, token = departments_service.issue_api_key(setup, department=world.dept, name="审批系统",
                                                     scopes=["api:checks:write"])  # fmt: skip
        listed = setup.scalars(select(Subject).where(Subject.uscc == world.listed_code)).one()
        verified_account(setup, listed.id, settings, protector)
        clean = setup.scalars(select(Subject).where(Subject.uscc == world.clean_code)).one()
        setup.commit()
        names = {"listed": listed.name, "clean": clean.name}
    engine.dispose()
    with app_with_admin(fresh_database_url, settings) as (client, reader):
        client.app.dependency_overrides[get_today] = lambda: TODAY  # type: ignore[attr-defined]
        yield Checking(client, reader, str(make_url(fresh_database_url).database),
                       {"Authorization": f"Bearer {token}"}, world, names)  # fmt: skip


@dataclass
class Checking:
    client: TestClient
    reader: Session
    path: str
    headers: dict[str, str]
    world: Any
    names: dict[str, str]


def _while_locked(path: str, request: Callable[[], Any], client: TestClient) -> tuple[Any, list[float]]:
    """`request()` sent while another connection holds the write lock for HELD seconds; the durations of the
    `/healthz` pages asked meanwhile, on the same event loop."""
    # The test process's heap is far larger than a server's, and a full garbage-collector pass over it would stop
    # the loop too: kept out of the window, which measures waits for the lock only.
    gc.collect()
    gc.disable()
    try:
        return _measured_while_locked(path, request, client)
    finally:
        gc.enable()


def _measured_while_locked(path: str, request: Callable[[], Any], client: TestClient) -> tuple[Any, list[float]]:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    def release() -> None:
        time.sleep(HELD)
        holder.execute("ROLLBACK")
        holder.close()

    releaser = threading.Thread(target=release)
    answer: list[Any] = []
    sender = threading.Thread(target=lambda: answer.append(request()))
    releaser.start()
    sender.start()
    time.sleep(0.2)  # the request is waiting for the lock by now
    pings = []
    while len(pings) < 6:
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        pings.append(time.perf_counter() - started)
        time.sleep(0.05)
    releaser.join(30)
    sender.join(30)
    assert answer, "the request raised (see the thread's exception above)"
    return answer[0], pings


def test_a_credit_check_waits_for_the_lock_in_a_worker_thread(checking_app: Checking) -> None:
    """A check's write runs on the event loop when the writers' turn is free (cheaper than a thread hop); the
    turn does not know of an import's chunk, so it tries the lock without waiting there, and waits in a thread."""
    app = checking_app
    answer, pings = _while_locked(app.path, lambda: app.client.post(
        "/api/v1/checks", json={"code": app.world.listed_code, "matter": "政府采购"}, headers=app.headers), app.client)
    assert max(pings) < RESPONSIVE, pings
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["number"]
    app.reader.rollback()
    assert app.reader.scalar(select(func.count()).select_from(CreditCheck)) == 1


def _portal_login(app: Checking) -> Any:
    token = anonymous_form(app.client)
    return app.client.post("/account/login", data={"csrf_token": token, "code": app.world.listed_code,
                                                   "password": SUBJECT_PASSWORD})  # fmt: skip


def test_a_portal_sign_in_hashes_and_waits_for_the_lock_off_the_event_loop(checking_app: Checking) -> None:
    """Signing in verifies an Argon2 hash (about a tenth of a second) and then writes its session: both ran on
    the event loop, so every sign-in stopped the process's other requests, and one that met another writer
    stopped them until that writer was done."""
    app = checking_app
    answer, pings = _while_locked(app.path, lambda: _portal_login(app), app.client)
    assert max(pings) < RESPONSIVE, pings
    assert answer.status_code == 303, answer.text[:300]
    assert answer.headers["location"] == "/account"
    app.reader.rollback()
    assert app.reader.scalar(select(func.count()).select_from(SubjectSession)) == 1


def test_portal_account_forms_beside_another_writer(checking_app: Checking) -> None:
    """Sign up, confirm, sign in and out while another connection commits every few milliseconds (an import's
    chunks): each form reads, hashes or checks, then writes; begun as plain transactions they failed with
    "数据库暂时无法访问" whenever a commit fell between their first read and their first write."""
    app = checking_app
    client = app.client
    answers = []
    with Importer(app.path) as importer:
        started = _running(importer)
        token = anonymous_form(client)
        answers.append(client.post("/account/signup", data={
            "csrf_token": token, "code": app.world.clean_code, "name": app.names["clean"],
            "contact": "clean@example.cn", "password": SUBJECT_PASSWORD}))  # fmt: skip
        app.reader.rollback()
        answers.append(client.post("/account/verify", data={"csrf_token": token, "code": last_code(app.reader)}))
        for _ in range(4):
            answers.append(_portal_login(app))
            page = client.get("/account")
            assert page.status_code == 200, page.text[:300]
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf is not None
            answers.append(client.post("/account/logout", data={"csrf_token": csrf.group(1)}))
    statuses = [(answer.status_code, answer.headers.get("location")) for answer in answers]
    assert statuses == [(303, "/account/verify"), (303, "/account/login")] + [(303, "/account"),
                                                                             (303, "/account/login")] * 4, statuses
    assert importer.commits > started
    app.reader.rollback()
    confirmed = app.reader.scalars(select(SubjectAccount).where(SubjectAccount.contact == "clean@example.cn")).one()
    assert confirmed.contact_confirmed
    sessions = app.reader.scalars(select(SubjectSession)).all()
    assert len(sessions) == 4
    assert all(row.ended_at is not None for row in sessions)


def test_objections_filed_with_evidence_and_withdrawn_beside_another_writer(checking_app: Checking,
                                                                           protector: Protector) -> None:  # fmt: skip
    """Filing an objection reads the record and the account, stores the evidence and then writes; withdrawing
    reads and writes. Beside another connection committing every few milliseconds, each answers as usual."""
    app = checking_app
    client = app.client
    app.reader.rollback()
    record = app.reader.scalars(select(Record).join(Subject, Subject.id == Record.subject_id)
                                .where(Subject.uscc == app.world.listed_code)).first()  # fmt: skip
    assert record is not None
    ref = record_ref(record.id, protector)
    assert _portal_login(app).status_code == 303
    page = client.get("/account")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    answers = []
    with Importer(app.path) as importer:
        started = _running(importer)
        for n in range(3):
            filed = client.post(f"/objections/file/{ref}", data={
                "csrf_token": csrf.group(1), "ground": "wrong-data", "reason": f"罚款金额记载有误，第{n}次提出，附决定书复印件。",
                "contact_name": "李经理", "contact_phone": "13800000000"},
                files=[("evidence", ("决定书.pdf", PDF, "application/pdf"))])  # fmt: skip
            answers.append((filed.status_code, filed.headers.get("location", filed.text[:300])))
            number = str(answers[-1][1]).rsplit("/", 1)[-1]
            withdrawn = client.post(f"/objections/{number}/withdraw", data={"csrf_token": csrf.group(1)})
            answers.append((withdrawn.status_code, withdrawn.headers.get("location", withdrawn.text[:300])))
    assert [status for status, _ in answers] == [303] * 6, answers
    assert all(str(target).startswith("/objections/") for _, target in answers), answers
    assert importer.commits > started
    app.reader.rollback()
    objections = app.reader.scalars(select(Objection)).all()
    assert [o.status for o in objections] == [ObjectionStatus.WITHDRAWN] * 3
    assert app.reader.scalar(select(func.count()).select_from(Evidence)) == 3


def test_a_marked_console_form_is_committed_where_its_transaction_began(fresh_database_url: str,
                                                                       settings: Settings) -> None:  # fmt: skip
    """A handler marked `writes_first` begins its transaction in a worker thread; its commit goes there too,
    as a synchronous handler's does, rather than on the event loop (on both databases)."""
    with app_with_admin(fresh_database_url, settings) as (client, reader):
        token = _sign_in(client)
        on_the_loop: list[bool] = []
        engine = client.app.state.engine  # type: ignore[attr-defined]
        event.listen(engine, "commit", lambda connection: on_the_loop.append(db._on_event_loop()))
        answer = client.post("/admin/scenarios", data={"csrf_token": token, **ASYNC_FORMS["/admin/scenarios"](0)},
                             follow_redirects=True)  # fmt: skip
        assert answer.status_code == 200
        assert "已" in answer.text
        assert on_the_loop
        assert not any(on_the_loop), on_the_loop
        reader.rollback()
        assert reader.scalar(select(func.count()).select_from(Scenario)) == 1


LIST_HEADER = "被执行人姓名/名称,统一社会信用代码,案号,列入日期,失信情形,执行法院,状态\n"


def test_a_list_file_uploaded_in_the_console_beside_another_writer(fresh_database_url: str,
                                                                   settings: Settings) -> None:  # fmt: skip
    """The console's list import (one transaction: lists are small) reads its department and list type before it
    writes; beside a records import committing chunk after chunk it waits for the lock instead of answering 503.
    On PostgreSQL the same uploads, without the other writer."""
    engine = make_engine(fresh_database_url)
    with keyed_sessionmaker(engine)() as setup:
        department = rf.department(setup)
        lf.load_types(setup, department)
        setup.commit()
        department_id = department.id
    engine.dispose()
    is_sqlite = make_url(fresh_database_url).get_backend_name() == "sqlite"
    with app_with_admin(fresh_database_url, settings) as (client, reader):
        token = _sign_in(client)
        beside = Importer(str(make_url(fresh_database_url).database)) if is_sqlite else contextlib.nullcontext()
        answers = []
        with beside:
            started = _running(beside) if is_sqlite else 0  # type: ignore[arg-type]
            for n in range(5):
                rows = "".join(f"德清县被执行{n}-{k}号有限公司,{rf.company_code(7000 + 10 * n + k)},（2026）浙0521执{n}-{k}号,"
                               f"2026-11-0{k + 1},拒不履行,德清县人民法院,\n" for k in range(2))  # fmt: skip
                answers.append(client.post("/admin/list-imports", data={
                    "csrf_token": token, "type_key": "court-dishonest-debtors", "department": str(department_id)},
                    files={"file": (f"名单{n}.csv", (LIST_HEADER + rows).encode("gb18030"), "text/csv")},
                    follow_redirects=True))  # fmt: skip
        flashes = [(answer.status_code, re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', answer.text)) for answer in answers]
        assert all(status == 200 and flash and flash[0].startswith("已导入 2 行：新增 2") for status, flash in flashes), \
            flashes
        if is_sqlite:
            assert beside.commits > started  # type: ignore[union-attr]
        reader.rollback()
        assert reader.scalar(select(func.count()).select_from(ListEntry)) == 10
