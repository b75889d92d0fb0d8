"""What a request puts in the outbox (a verification code by mail, a console inbox message) is delivered once
its change is committed: in a worker thread, never on the event loop (mail leaves over the network), claimed and
marked in writer's transactions, so that the marks cannot fail on SQLite because another connection committed
between reading the items and marking them (which sent the message again at the next delivery)."""

from __future__ import annotations

import gc
import logging
import threading
import time
import weakref
from collections import Counter

import pytest
from sqlalchemy import select
from tests.factories import lists as lf
from tests.factories import records as rf
from tests.fixtures.subject_accounts import SUBJECT_PASSWORD, anonymous_form
from tests.functional.web.test_console_beside_writers import Importer, _running, _setup
from tests.functional.web.test_event_loop_beside_writers import RESPONSIVE, Checking, checking_app

from xinyong.notify import service as notify_service
from xinyong.notify.models import OutboxItem
from xinyong.protect import Protector

__all__ = ["checking_app"]  # the fixture, used by name

SIGN_UPS = 12


class Recording:
    """A notifier that remembers what it sent, taking `seconds` a message (a slow mail server)."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()

    def send(self, *, address: str, title: str, body: str) -> None:
        time.sleep(self.seconds)
        with self.lock:
            self.sent[address] += 1


def _registered(app: Checking, protector: Protector, numbers: range) -> None:
    """Subjects in the register, which sign-up needs (code and name as registered); committed."""
    with _setup(app.reader) as setup:
        for n in numbers:
            lf.subject(setup, protector, 700 + n, name=_name(n))
        setup.commit()


def _name(n: int) -> str:
    return f"安吉县送达测试{n}号有限公司"


def _sign_up(app: Checking, n: int) -> int:
    token = anonymous_form(app.client)
    answer = app.client.post("/account/signup", data={
        "csrf_token": token, "code": rf.company_code(90_700 + n), "name": _name(n),
        "contact": f"signup{n}@example.cn", "password": SUBJECT_PASSWORD})  # fmt: skip
    assert (answer.status_code, answer.headers.get("location")) == (303, "/account/verify"), answer.text[:300]
    return answer.status_code


def test_each_message_is_sent_once_beside_another_writer(checking_app: Checking, protector: Protector,
                                                         caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    """Sign-ups beside another connection committing every few milliseconds: each verification code is sent
    once and marked delivered at its first attempt (in a plain transaction some were sent twice)."""
    app = checking_app
    _registered(app, protector, range(SIGN_UPS))
    notifier = app.client.app.state.notifier = Recording()  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING), Importer(app.path) as importer:
        started = _running(importer)
        for n in range(SIGN_UPS):
            _sign_up(app, n)
    assert importer.commits > started
    assert [r.getMessage() for r in caplog.records if "outbox" in r.getMessage()] == []
    assert notifier.sent == Counter({f"signup{n}@example.cn": 1 for n in range(SIGN_UPS)})
    app.reader.rollback()
    items = [item for item in app.reader.scalars(select(OutboxItem).where(OutboxItem.topic == "message"))
             if item.payload["address"].startswith("signup")]  # fmt: skip
    assert len(items) == SIGN_UPS
    assert all((item.attempts, item.last_error) == (1, None) and item.delivered_at is not None for item in items)


def test_a_slow_mail_server_does_not_stop_the_event_loop(checking_app: Checking, protector: Protector) -> None:
    """A sign-up's code is mailed after its commit, in a worker thread: a mail server that takes 1.5 s keeps the
    sign-up waiting, not the other requests of the process (on the event loop it stopped them all)."""
    app = checking_app
    _registered(app, protector, range(99, 100))
    notifier = app.client.app.state.notifier = Recording(seconds=1.5)  # type: ignore[attr-defined]
    signing_up = threading.Thread(target=_sign_up, args=(app, 99))
    signing_up.start()
    time.sleep(0.3)  # the sign-up is committed and its mail being sent by now
    pings = []
    while signing_up.is_alive() and len(pings) < 8:
        began = time.perf_counter()
        assert app.client.get("/healthz").status_code == 200
        pings.append(time.perf_counter() - began)
        time.sleep(0.05)
    signing_up.join(30)
    assert pings
    assert max(pings) < RESPONSIVE, pings
    assert notifier.sent == Counter({"signup99@example.cn": 1})  # what the request wrote: the job sends the rest


def test_only_a_request_keeps_what_it_wrote_to_the_outbox(db_session) -> None:  # type: ignore[no-untyped-def]
    """A request delivers the items it wrote after its commit, so its session remembers them. A job's or a
    command's session remembers nothing: a sweep writes a change event for every record that leaves publication,
    millions at scale, and the list kept every item (payload included) alive for the session's life."""
    items = [notify_service.message(db_session, address=f"user{n}@example.cn", title="通知", body="正文")
             for n in range(3)]  # fmt: skip
    db_session.commit()
    held = [weakref.ref(item) for item in items]
    del items
    gc.collect()
    assert [ref() for ref in held] == [None] * 3  # not kept alive by the session
    assert notify_service.take_pending(db_session) == []

    notify_service.track_pending(db_session)  # as the web request's unit of work does
    item = notify_service.message(db_session, address="user9@example.cn", title="通知", body="正文")
    db_session.commit()
    assert notify_service.take_pending(db_session) == [item.id]
    assert notify_service.take_pending(db_session) == []  # taken once
    notify_service.message(db_session, address="user10@example.cn", title="通知", body="正文")
    db_session.rollback()
    notify_service.forget_pending(db_session)
    assert notify_service.take_pending(db_session) == []
