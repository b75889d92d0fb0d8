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
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.factories import inspections as inspections_factory
from tests.factories import lists as lists_factory
from tests.factories.records import company_code
from tests.fixtures.keys import keyed_sessionmaker
from tests.fixtures.own_app import PASSWORD, TOKEN, app_with_admin
from tests.fixtures.subject_accounts import verified_account

from xinyong import db
from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.models import UserSession
from xinyong.auth.rules import Role
from xinyong.clock import today as china_today
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.finance import service as finance_service
from xinyong.finance.models import Demand, DemandStatus, Institution
from xinyong.inspections import service as inspections_service
from xinyong.inspections.models import InspectionAssignment, InspectionPlan, PlanInspector
from xinyong.measures.models import Measure, MeasureStatus
from xinyong.records.models import Record
from xinyong.web.deps import get_today

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
    do, until stopped; `longest` is the longest it waited for the write lock."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.commits = 0
        self.longest = 0.0
        self.stop = threading.Event()
        setup = sqlite3.connect(path, isolation_level=None)
        setup.execute("CREATE TABLE IF NOT EXISTS scratch_writes (n INTEGER)")
        setup.close()
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        try:
            while not self.stop.is_set():
                asked = time.monotonic()
                connection.execute("BEGIN IMMEDIATE")
                self.longest = max(self.longest, time.monotonic() - asked)
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


@contextmanager
def own_sqlite_session(database_url: str) -> Iterator[tuple[Session, str]]:
    """A session of the test's own on a database of its own, and the database file's path, for a test beside an
    Importer; skipped on PostgreSQL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    engine = db.make_engine(database_url)
    with keyed_sessionmaker(engine)() as own:
        yield own, str(url.database)
    engine.dispose()


def _sign_in(client: TestClient, *, username: str = "admin", page: str = "/admin/departments") -> str:
    token = TOKEN.search(client.get("/admin/login").text).group(1)  # type: ignore[union-attr]
    assert client.post("/admin/login", data={"csrf_token": token, "username": username,
                                             "password": PASSWORD}).status_code == 303  # fmt: skip
    return TOKEN.search(client.get(page).text).group(1)  # type: ignore[union-attr]


def test_console_posts_wait_for_other_writers_instead_of_failing(sqlite_app) -> None:  # type: ignore[no-untyped-def]
    client, reader, path = sqlite_app
    token = _sign_in(client)
    answers = []
    with Importer(path) as importer:
        started = _running(importer)
        for n in range(POSTS):
            answer = client.post("/admin/departments", data={"csrf_token": token, "code": company_code(900 + n),
                                                             "name": f"测试部门{n}"})  # fmt: skip
            answers.append((answer.status_code, answer.headers.get("location", answer.text[:200])))

    assert [status for status, _ in answers] == [303] * POSTS, answers
    assert "已登记部门" in client.get(answers[-1][1]).text
    reader.rollback()
    assert reader.scalar(select(func.count()).select_from(Department)) == POSTS
    assert importer.commits > started  # the other connection wrote while the forms were submitted


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
        started = _running(importer)
        for n in range(POSTS):
            answer = client.post(path, data={"csrf_token": token, **ASYNC_FORMS[path](n)}, follow_redirects=True)
            answers.append((answer.status_code, re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', answer.text)))
    assert all(status == 200 and flashes and flashes[0].startswith("已") for status, flashes in answers), answers
    assert importer.commits > started


# The other handlers marked `writes_first`, each posted beside the Importer: a form that can be posted again (a
# key, a measure, a revision, a plan) POSTS times; a one-time change (a take, an outcome, a result) once for
# each of several objects made first.
SYSTEM = Actor.system("test")


def _flashes(page: Response) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)', page.text)


def _running(importer: Importer) -> int:
    """The Importer's commits once it has committed at least once: the posts that follow meet it writing."""
    deadline = time.monotonic() + 10
    while importer.commits == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert importer.commits > 0
    return importer.commits


def _setup(reader: Session) -> Session:
    """A session of the test's own that signs its audit entries as the app's are signed, to make what the
    forms act on."""
    return keyed_sessionmaker(reader.get_bind())()  # type: ignore[arg-type]


def _institution(setup: Session) -> Institution:
    institution = finance_service.register_institution(setup, code=company_code(800), name="德清农村商业银行",
                                                       purposes=["流动资金"], min_amount="1", max_amount="5000",
                                                       actor=SYSTEM)  # fmt: skip
    setup.commit()
    return institution


def test_keys_issued_beside_another_writer_are_shown_and_kept(sqlite_app) -> None:  # type: ignore[no-untyped-def]
    """`key_issue` renders the secret page (no redirect) each time, and every key shown works."""
    client, reader, path = sqlite_app
    token = _sign_in(client)
    with _setup(reader) as setup:
        institution_id = _institution(setup).id
    pages = []
    with Importer(path) as importer:
        started = _running(importer)
        for n in range(POSTS):
            pages.append(client.post(f"/admin/finance/institutions/{institution_id}/keys",
                                     data={"csrf_token": token, "name": f"信贷系统{n}"}))  # fmt: skip
        during = importer.commits - started
    assert [page.status_code for page in pages] == [200] * POSTS, [page.text[:300] for page in pages]
    assert all("金融机构访问密钥" in page.text and f"信贷系统{n}" in page.text for n, page in enumerate(pages))
    secrets = [re.search(r'data-testid="secret">([^<]+)<', page.text).group(1) for page in pages]  # type: ignore[union-attr]
    assert len(set(secrets)) == POSTS
    reader.rollback()
    assert len(finance_service.keys_of(reader, institution_id)) == POSTS
    assert sorted(finance_service.verify_key(reader, secret).name for secret in secrets) == sorted(
        f"信贷系统{n}" for n in range(POSTS))  # fmt: skip
    assert during > 0  # the other connection committed while the keys were issued


def _officer(client: TestClient, setup: Session, institution: Institution) -> str:
    """An officer of the institution (its password already its own), signed in on the client: its form token."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    user = auth_service.create_user(setup, username="officer", password=PASSWORD, role=Role.INSTITUTION_OFFICER,
                                    department=None, display_name="信贷员", actor=SYSTEM, settings=settings)  # fmt: skip
    finance_service.add_officer(setup, institution, user_id=user.id, actor=SYSTEM)
    setup.commit()
    client.cookies.clear()
    return _sign_in(client, username="officer", page="/admin/bank")


def _demands(client: TestClient, setup: Session, count: int) -> list[int]:
    """`count` open demands of one company, posted through its verified account."""
    settings = client.app.state.settings  # type: ignore[attr-defined]
    protector = client.app.state.protector  # type: ignore[attr-defined]
    account = verified_account(setup, lists_factory.subject(setup, protector, 1), settings, protector)
    demands = [finance_service.post_demand(setup, account, amount=str(10 + n), term_months="6", purpose="流动资金",
                                           collateral="无", today=china_today()) for n in range(count)]  # fmt: skip
    setup.commit()
    return [demand.id for demand in demands]


OUTCOMES = [
    ({"outcome": "credited", "credit_amount": "50"}, DemandStatus.CREDITED),
    ({"outcome": "loaned", "loan_amount": "30"}, DemandStatus.LOANED),  # its date: today's, filled in below
    ({"outcome": "refused", "reason": "经营流水不足"}, DemandStatus.REFUSED),
]


def test_an_officer_takes_and_answers_demands_beside_another_writer(sqlite_app) -> None:  # type: ignore[no-untyped-def]
    """`take` and `outcome` (a bank officer's): each demand is taken once, then answered once, every post
    beside the Importer."""
    client, reader, path = sqlite_app
    with _setup(reader) as setup:
        institution = _institution(setup)
        institution_id, institution_name = institution.id, institution.name
        token = _officer(client, setup, institution)
        demand_ids = _demands(client, setup, POSTS)
    today = china_today().isoformat()
    taken, answered = [], []
    with Importer(path) as importer:
        started = _running(importer)
        for demand_id in demand_ids:
            taken.append(client.post(f"/admin/bank/demands/{demand_id}/take", data={"csrf_token": token},
                                     follow_redirects=True))  # fmt: skip
        between = importer.commits
        for n, demand_id in enumerate(demand_ids):
            form, _ = OUTCOMES[n % len(OUTCOMES)]
            answered.append(client.post(f"/admin/bank/demands/{demand_id}/outcome",
                                        data={"csrf_token": token, "loan_date": today, **form},
                                        follow_redirects=True))  # fmt: skip
        ended = importer.commits
    flashes = [(page.status_code, page.url.path, _flashes(page)) for page in taken]
    assert all(status == 200 and where == "/admin/bank" and shown and shown[0].startswith("已受理 ")
               and shown[0].endswith("的融资需求") for status, where, shown in flashes), flashes  # fmt: skip
    assert institution_name in taken[-1].text
    flashes = [(page.status_code, page.url.path, _flashes(page)) for page in answered]
    expected = [f"已反馈结果：{OUTCOMES[n % len(OUTCOMES)][1].label}" for n in range(POSTS)]
    assert [(status, where) for status, where, _ in flashes] == [(200, "/admin/bank")] * POSTS, flashes
    assert [shown[0] if shown else None for _, _, shown in flashes] == expected, flashes
    reader.rollback()
    rows = {d.id: d for d in reader.scalars(select(Demand).where(Demand.id.in_(demand_ids)))}
    assert [rows[i].institution_id for i in demand_ids] == [institution_id] * POSTS
    assert [rows[i].taken_on for i in demand_ids] == [china_today()] * POSTS
    assert [rows[i].status for i in demand_ids] == [OUTCOMES[n % len(OUTCOMES)][1] for n in range(POSTS)]
    assert all(rows[i].answered_on == china_today() for i in demand_ids)
    assert between > started  # the other connection committed during both rounds
    assert ended > between


MEASURE = {"matter": "政府采购", "list_types": ["serious-dishonesty"], "level": "国家", "kind": "sanction",
           "effect": "block", "basis": "《中华人民共和国政府采购法》第二十二条"}  # fmt: skip


def test_measures_created_and_revised_beside_another_writer(sqlite_app) -> None:  # type: ignore[no-untyped-def]
    """`create` (POSTS new measures) then `revise` (POSTS versions of one of them), beside the Importer."""
    client, reader, path = sqlite_app
    token = _sign_in(client)
    with _setup(reader) as setup:
        lists_factory.load_types(setup)
        setup.commit()
    created, revised = [], []
    with Importer(path) as importer:
        started = _running(importer)
        for n in range(POSTS):
            created.append(client.post("/admin/measures", data={"csrf_token": token, **MEASURE,
                                                               "content": f"依法限制参加政府采购活动（第 {n} 项）"},
                                       follow_redirects=True))  # fmt: skip
        between = importer.commits
        for n in range(POSTS):
            revised.append(client.post("/admin/measures/M0001", data={"csrf_token": token, **MEASURE,
                                                                     "content": f"依法限制参加政府采购活动（修订 {n}）"},
                                       follow_redirects=True))  # fmt: skip
        ended = importer.commits
    answers = [(page.status_code, page.url.path, _flashes(page)) for page in created]
    assert answers == [(200, f"/admin/measures/M{n + 1:04d}", [f"已新增措施 M{n + 1:04d}"]) for n in range(POSTS)], answers
    answers = [(page.status_code, page.url.path, _flashes(page)) for page in revised]
    assert answers == [(200, "/admin/measures/M0001", [f"已保存为第 {n + 2} 版"]) for n in range(POSTS)], answers
    assert "依法限制参加政府采购活动（修订 14）" in revised[-1].text
    reader.rollback()
    current = reader.scalars(select(Measure).where(Measure.status == MeasureStatus.CURRENT.value)
                             .order_by(Measure.code)).all()  # fmt: skip
    assert [(m.code, m.version) for m in current] == [("M0001", POSTS + 1)] + [
        (f"M{n + 1:04d}", 1) for n in range(1, POSTS)]  # fmt: skip
    assert current[0].content == f"依法限制参加政府采购活动（修订 {POSTS - 1}）"
    assert reader.scalar(select(func.count()).select_from(Measure).where(Measure.code == "M0001")) == POSTS + 1
    assert between > started
    assert ended > between


PLAN = {"matter": "食品经营许可事项监督检查", "period_start": "2025-10-01", "period_end": "2025-12-31",
        "kind": ["organisation", "individual_business"], "ratio_A": "100", "ratio_B": "100", "ratio_C": "100",
        "ratio_D": "100"}  # fmt: skip


@pytest.fixture
def graded_app(sqlite_app):  # type: ignore[no-untyped-def]
    """The app pinned to the inspections' day, with a graded population (tests/factories/inspections.py),
    its department's inspectors, and the platform administrator signed in: (client, reader, path, token,
    population)."""
    client, reader, path = sqlite_app
    client.app.dependency_overrides[get_today] = lambda: inspections_factory.TODAY
    with _setup(reader) as setup:
        graded = inspections_factory.build(setup, client.app.state.settings, client.app.state.protector,
                                           a=10, b=3, c=1, d=1)  # fmt: skip
        setup.expunge_all()
    return client, reader, path, _sign_in(client), graded


def test_inspection_plans_made_beside_another_writer(graded_app) -> None:  # type: ignore[no-untyped-def]
    """`create` (inspections): POSTS plans, each with its roster, beside the Importer."""
    client, reader, path, token, graded = graded_app
    answers = []
    with Importer(path) as importer:
        started = _running(importer)
        for n in range(POSTS):
            answers.append(client.post("/admin/inspections", data={"csrf_token": token, **PLAN,
                                                                  "matter": f"食品经营许可事项监督检查{n}",
                                                                  "department": str(graded.dept.id)},
                                       follow_redirects=True))  # fmt: skip
        during = importer.commits - started
    shown = [(page.status_code, page.url.path, _flashes(page)) for page in answers]
    assert all(status == 200 and re.fullmatch(r"/admin/inspections/\d+", where)
               and flashes == ["已制定抽查计划，请随机抽取检查对象"] for status, where, flashes in shown), shown  # fmt: skip
    assert all(f"食品经营许可事项监督检查{n}" in page.text for n, page in enumerate(answers))
    reader.rollback()
    plans = reader.scalars(select(InspectionPlan).order_by(InspectionPlan.id)).all()
    assert [p.matter for p in plans] == [f"食品经营许可事项监督检查{n}" for n in range(POSTS)]
    assert {p.department_id for p in plans} == {graded.dept.id}
    assert sorted({f"/admin/inspections/{p.id}" for p in plans}) == sorted(where for _, where, _ in shown)
    rosters = reader.execute(select(PlanInspector.plan_id, func.count()).group_by(PlanInspector.plan_id)).all()
    assert dict(rosters) == {p.id: len(graded.inspectors) for p in plans}
    assert during > 0


def test_inspection_results_recorded_beside_another_writer(graded_app) -> None:  # type: ignore[no-untyped-def]
    """`result` (inspections): one result for each drawn subject of a published plan, beside the Importer;
    each becomes a credit record through the import pipeline (which commits its batch within the request)."""
    client, reader, path, token, graded = graded_app
    settings = client.app.state.settings
    with _setup(reader) as setup:
        department = setup.get(Department, graded.dept.id)
        assert department is not None
        draft = inspections_service.PlanDraft(PLAN["matter"], date(2025, 10, 1), date(2025, 12, 31), [], [], None, [],
                                              dict.fromkeys("ABCD", "100"), [])  # fmt: skip
        plan = inspections_service.create_plan(setup, draft, department=department, actor=SYSTEM, settings=settings,
                                               today=inspections_factory.TODAY)  # fmt: skip
        setup.flush()
        inspections_service.draw_plan(setup, plan.id, seed=20251020, actor=SYSTEM, settings=settings,
                                      today=inspections_factory.TODAY)  # fmt: skip
        inspections_service.publish_plan(setup, plan.id, actor=SYSTEM, settings=settings,
                                         today=inspections_factory.TODAY)  # fmt: skip
        setup.commit()
        plan_id = plan.id
        assignments = setup.scalars(select(InspectionAssignment.id).where(InspectionAssignment.plan_id == plan_id)
                                    .order_by(InspectionAssignment.position)).all()[:POSTS]  # fmt: skip
    outcome = inspections_service.outcomes(settings)[0]
    assert len(assignments) >= 10
    answers = []
    with Importer(path) as importer:
        started = _running(importer)
        for n, assignment_id in enumerate(assignments):
            answers.append(client.post(f"/admin/inspections/{plan_id}/results",
                                       data={"csrf_token": token, "assignment": str(assignment_id), "outcome": outcome,
                                             "inspected_on": "2025-10-15", "note": f"台账第 {n} 页",
                                             "department": str(graded.dept.id)}, follow_redirects=True))  # fmt: skip
        during = importer.commits - started
    shown = [(page.status_code, page.url.path, _flashes(page)) for page in answers]
    assert shown == [(200, f"/admin/inspections/{plan_id}", [f"已录入检查结果：{outcome}"])] * len(assignments), shown
    reader.rollback()
    rows = reader.scalars(select(InspectionAssignment).where(InspectionAssignment.id.in_(assignments))).all()
    assert {row.id: (row.outcome, row.note) for row in rows} == {
        assignment_id: (outcome, f"台账第 {n} 页") for n, assignment_id in enumerate(assignments)}  # fmt: skip
    record_ids = [row.record_id for row in rows]
    assert None not in record_ids
    assert reader.scalar(select(func.count()).select_from(Record).where(Record.id.in_(record_ids))) == len(assignments)
    assert during > 0


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
        started = _running(importer)
        for n in range(POSTS):
            _age_sign_ins(reader)
            page = client.get(pages[n % len(pages)])
            answers.append((page.status_code, page.url.path))
    assert [status for status, _ in answers] == [200] * POSTS, answers
    assert importer.commits > started
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
