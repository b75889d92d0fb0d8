"""SQLite: webhook pages delivered beside another connection that keeps committing (an import). The pages were
read, posted and marked in one plain transaction: once the first page's marks were written, the transaction held
the write lock while the next pages were posted (the import waited for every partner's answer), and when the
import had committed before the first mark, the marks failed with "database is locked" after the pages had gone,
so that they were posted again at the next run. Now each page is read and posted in a plain transaction that
writes nothing, then marked in a short writer's transaction of its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import catalog as cf
from tests.factories import records as rf
from tests.functional.web.test_console_beside_writers import Importer, _running, own_sqlite_session

from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.exchange import webhooks
from xinyong.exchange.models import Webhook
from xinyong.notify.models import OutboxItem
from xinyong.protect import Protector
from xinyong.records import service as records_service

TODAY = date(2025, 10, 20)
HOOKS = 4
ANSWER = 0.3  # seconds each partner takes to answer


class SlowPartner:
    """A partner's endpoint on the loopback that answers 204 after ANSWER seconds, counting each delivery id."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(ANSWER)
                owner.deliveries.append(self.headers["X-Xinyong-Delivery"])
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def partner() -> Iterator[SlowPartner]:
    server = SlowPartner()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def database(fresh_database_url: str) -> Iterator[tuple[Session, str]]:
    with own_sqlite_session(fresh_database_url) as own:
        yield own


def test_pages_are_posted_holding_no_lock_and_marked_once_beside_another_writer(
    database: tuple[Session, str], feed_settings: Settings, protector: Protector, partner: SlowPartner,
) -> None:  # fmt: skip
    session, path = database
    settings = feed_settings.model_copy(update={"webhook_timeout_seconds": 5})
    dept = rf.department(session)
    result = records_service.import_rows(session, [cf.enforcement_row() for _ in range(3)], settings=settings,
                                         protector=protector, record_type="enforcement", department=dept,
                                         actor="test", today=TODAY, reported_on=TODAY)  # fmt: skip
    assert result.rejected == 0
    key, _ = departments_service.issue_api_key(session, department=dept, name="合作银行系统", scopes=["api:changes:read"])
    for _ in range(HOOKS):
        webhooks.add(session, key_prefix=key.prefix, url=partner.url, types=None, settings=settings,
                     protector=protector, actor="test")  # fmt: skip
    assert webhooks.enqueue(session, settings=settings, today=TODAY) == HOOKS
    session.commit()

    with Importer(path) as importer:
        started = _running(importer)
        delivered = webhooks.deliver(session, settings=settings, protector=protector)
        assert importer.commits > started
    assert delivered == HOOKS
    session.rollback()
    items = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
    assert sorted(partner.deliveries) == sorted(str(i.id) for i in items)  # each page posted once
    assert [(i.attempts, i.last_error, i.delivered_at is not None) for i in items] == [(1, None, True)] * HOOKS
    assert [(h.failures, h.last_error) for h in session.scalars(select(Webhook))] == [(0, None)] * HOOKS
    assert importer.longest < ANSWER / 2, f"the other connection waited {importer.longest:.2f} s for the write lock"

    # Nothing is posted again at the next run.
    assert webhooks.deliver(session, settings=settings, protector=protector) == 0
    assert len(partner.deliveries) == HOOKS
