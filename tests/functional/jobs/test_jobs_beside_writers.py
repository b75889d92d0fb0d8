"""SQLite: the worker and its jobs beside another connection that keeps writing (an import's chunks, a web
request). A job's transaction that read and then wrote failed with "database is locked" whenever the other
connection had committed in between: the worker skipped its jobs ("无法访问数据库"), the sweep and list expiry
failed, and the delivery job sent every waiting message again at each run. Each job now reads and writes in a
writer's transaction taken in the writers' turn (`writequeue.writing_scope`), and mail is sent outside any
transaction (`notify.service.deliver_pending`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import lists as lf
from tests.factories import records as rf
from tests.fixtures.keys import keyed_sessionmaker
from tests.functional.web.test_console_beside_writers import Importer, _running

from xinyong import refcache
from xinyong.actors import Actor
from xinyong.codes import make_uscc
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.departments.models import Department
from xinyong.integrity.models import IntegrityCase
from xinyong.jobs import builtin
from xinyong.jobs.registry import Job, JobContext
from xinyong.jobs.rules import Schedule
from xinyong.jobs.worker import Worker
from xinyong.lists import imports as list_imports
from xinyong.lists.models import ListEntry
from xinyong.notify import service as notify_service
from xinyong.notify.models import OutboxItem
from xinyong.protect import Protector

ROUNDS = 6


@dataclass
class Database:
    path: str
    factory: sessionmaker[Session]
    settings: Settings


@pytest.fixture
def database(fresh_database_url: str, settings: Settings) -> Iterator[Database]:
    url = make_url(fresh_database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("PostgreSQL locks rows: another writer does not hold the whole database")
    engine = make_engine(fresh_database_url)
    yield Database(str(url.database), keyed_sessionmaker(engine),
                   settings.model_copy(update={"database_url": fresh_database_url}))  # fmt: skip
    engine.dispose()


def _department(db: Database) -> int:
    with db.factory() as session:
        dept = rf.department(session)
        lf.load_types(session, dept)
        session.commit()
        return dept.id


def _writes_on(importer: Importer, started: int) -> None:
    """The other connection wrote before the job and goes on writing after it: the job, which holds the write
    lock from its first statement, ran between two of its commits (a job whose read met one of them failed)."""
    deadline = time.monotonic() + 10
    while importer.commits <= started and time.monotonic() < deadline:
        time.sleep(0.005)
    assert importer.commits > started


class Recording:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, *, address: str, title: str, body: str) -> None:
        self.sent.append(address)


def test_the_worker_takes_its_lease_beside_another_writer(database: Database) -> None:
    job = Job(name="noop", title="noop", run=lambda ctx: "完成", schedule=Schedule(every=timedelta(minutes=15)))
    worker = Worker(database.factory, database.settings, {"noop": job})
    worker.run(job, force=True)  # the lock row exists from now on, as in production
    with Importer(database.path) as importer:
        started = _running(importer)
        results = [worker.run(job, force=True) for _ in range(2 * ROUNDS)]
    assert [(r.outcome, r.message) for r in results] == [("ok", "完成")] * 2 * ROUNDS
    assert importer.commits > started


def test_the_delivery_job_sends_each_message_once_beside_another_writer(database: Database,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    notifier = Recording()
    monkeypatch.setattr(notify_service, "notifier_for", lambda settings: notifier)
    with database.factory() as session:
        for n in range(5):
            notify_service.message(session, address=f"user{n}@example.cn", title="通知", body="正文")
        session.commit()
    ctx = JobContext(settings=database.settings, session_factory=database.factory, now=datetime.now(UTC))
    with Importer(database.path) as importer:
        started = _running(importer)
        answers = [builtin.notify_deliver(ctx) for _ in range(ROUNDS)]
    assert answers == ["已发送 5 条"] + ["已发送 0 条"] * (ROUNDS - 1)
    assert sorted(notifier.sent) == [f"user{n}@example.cn" for n in range(5)]  # once each
    with database.factory() as session:
        items = session.scalars(select(OutboxItem)).all()
    assert [(i.attempts, i.last_error, i.not_before, i.delivered_at is not None) for i in items] == [
        (1, None, None, True)] * 5  # fmt: skip
    assert importer.commits > started


def test_the_sweep_and_list_expiry_beside_another_writer(database: Database, protector: Protector) -> None:
    dept_id = _department(database)
    ctx = JobContext(settings=database.settings, session_factory=database.factory,
                     now=datetime(2045, 1, 2, 2, tzinfo=UTC))  # fmt: skip
    answers = []
    for n in range(ROUNDS):
        with database.factory() as session:  # an entry due to leave the list, written while nobody else writes
            dept = session.get(Department, dept_id)
            assert dept is not None
            lf.subject(session, protector, n)
            lf.listed(session, database.settings, protector, dept, rf.company_code(90_000 + n), today=date(2025, 1, 6))
            session.commit()
        with Importer(database.path) as importer:
            started = _running(importer)
            refcache.clear()  # once a day in the worker: the reference cache is always cold
            answers.append((builtin.disclosure_sweep(ctx)[:5], builtin.lists_expire(ctx)))
            _writes_on(importer, started)
    assert answers == [("新停止公示", "期满移出 1 条名单记录")] * ROUNDS
    with database.factory() as session:
        published = session.scalar(select(func.count()).select_from(ListEntry).where(ListEntry.state == "published"))
    assert published == 0


def test_the_warnings_job_beside_another_writer(database: Database, protector: Protector) -> None:
    dept_id = _department(database)
    today = date(2025, 10, 20)
    ctx = JobContext(settings=database.settings, session_factory=database.factory,
                     now=datetime(2025, 10, 20, 2, tzinfo=UTC))  # fmt: skip
    for n in range(ROUNDS):
        with database.factory() as session:  # a government body newly on the court's list: the job opens a case
            dept = session.get(Department, dept_id)
            assert dept is not None
            outcome = list_imports.import_list_rows(session, [
                {"name": f"安吉县某某管理局{n}", "code": make_uscc("1", "1", "330521", f"{77 + n:08d}"),
                 "doc_no": f"（2025）浙0523执{n}号", "listed_on": "2025-10-10", "reasons": "拒不履行"}],
                type_key="court-dishonest-debtors", department=dept, actor=Actor.system("test"), protector=protector,
                today=today)  # fmt: skip
            assert outcome.created == 1, outcome
            session.commit()
        with Importer(database.path) as importer:
            started = _running(importer)
            answer = builtin.monitoring_warnings(ctx)
            _writes_on(importer, started)
        assert answer.startswith("新发出预警")
    with database.factory() as session:
        assert session.scalar(select(func.count()).select_from(IntegrityCase)) == ROUNDS


def test_a_message_being_sent_is_claimed_and_a_failed_one_is_tried_again(database: Database) -> None:
    """A message is claimed before it is sent: a second delivery started while the first is sending takes none of
    its messages. A message whose sending failed keeps its error and is sent at the next delivery."""
    settings = database.settings
    with database.factory() as session:
        for n in range(3):
            notify_service.message(session, address=f"user{n}@example.cn", title="通知", body="正文")
        session.commit()
    second = Recording()
    meanwhile: list[int] = []

    class Sending(Recording):
        def send(self, *, address: str, title: str, body: str) -> None:
            if not meanwhile:  # while the first message is being sent, another delivery runs
                with database.factory() as other:
                    meanwhile.append(notify_service.deliver_pending(other, settings=settings, notifier=second))
            if address == "user1@example.cn":
                raise ConnectionRefusedError("邮件服务器拒绝连接")
            super().send(address=address, title=title, body=body)

    first = Sending()
    with database.factory() as session:
        assert notify_service.deliver_pending(session, settings=settings, notifier=first) == 2
    assert (meanwhile, second.sent) == ([0], [])
    assert sorted(first.sent) == ["user0@example.cn", "user2@example.cn"]
    with database.factory() as session:
        failed = session.scalars(select(OutboxItem).where(OutboxItem.delivered_at.is_(None))).one()
        assert (failed.payload["address"], failed.attempts, failed.not_before) == ("user1@example.cn", 1, None)
        assert failed.last_error == "ConnectionRefusedError: 邮件服务器拒绝连接"
        again = Recording()
        assert notify_service.deliver_pending(session, settings=settings, notifier=again) == 1
    assert again.sent == ["user1@example.cn"]
