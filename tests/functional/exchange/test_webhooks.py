"""Webhooks: signed pages of the feed from the outbox; an endpoint that times out and one that answers 500 are
retried with growing waits, then parked (with their webhook) until resumed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from tests.factories import catalog as cf

from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.errors import InvalidInput, PermissionDenied
from xinyong.exchange import webhooks
from xinyong.exchange.feed import TypeOutsideClass
from xinyong.exchange.models import Webhook
from xinyong.notify.models import OutboxItem


class Endpoint:
    """Three endpoints on the loopback: /ok answers 204, /slow answers after the client gave up, /boom 500."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.hits: dict[str, int] = {"/ok": 0, "/slow": 0, "/boom": 0}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                if self.path == "/slow":
                    time.sleep(0.6)
                    status = 200
                elif self.path == "/boom":
                    status = 500
                else:
                    owner.received.append({"headers": dict(self.headers), "body": body})
                    status = 204
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    yield server
    server.close()


@pytest.fixture
def hook_settings(feed_settings: Settings) -> Settings:
    return feed_settings.model_copy(update={"webhook_timeout_seconds": 0.2, "webhook_max_attempts": 3,
                                            "webhook_backoff_seconds": 60, "webhook_backoff_max_seconds": 3600})  # fmt: skip


def _prefix(headers: dict[str, str]) -> str:
    return headers["Authorization"].split("_")[1]


def test_signed_pages_retries_with_backoff_then_parked(db_session, load, feed_key, endpoint, hook_settings,
                                                        protector) -> None:  # fmt: skip
    from datetime import date

    today = date(2025, 10, 20)
    rows = [cf.enforcement_row() for _ in range(3)]
    load(rows, "enforcement")
    prefix = _prefix(feed_key("api:changes:read"))
    hooks = {}
    for path in ("/ok", "/slow", "/boom"):
        hook, secret = webhooks.add(db_session, key_prefix=prefix, url=endpoint.url(path), types=None,
                                    settings=hook_settings, protector=protector, actor="test")  # fmt: skip
        hooks[path] = (hook, secret)
    assert webhooks.enqueue(db_session, settings=hook_settings, today=today) == 3
    db_session.commit()
    assert webhooks.enqueue(db_session, settings=hook_settings, today=today) == 0  # queued once

    t0 = utcnow()
    assert webhooks.deliver(db_session, settings=hook_settings, protector=protector, now=t0) == 1
    db_session.commit()
    (got,) = endpoint.received
    body = json.loads(got["body"])
    assert [c["record"]["doc_no"] for c in body["changes"]] == [r["QZ_JDSH"] for r in rows]
    secret = hooks["/ok"][1]
    headers = {k.lower(): v for k, v in got["headers"].items()}
    assert headers["x-xinyong-signature"] == webhooks.sign(secret, int(headers["x-xinyong-timestamp"]), got["body"])
    assert webhooks.sign("another-secret", int(headers["x-xinyong-timestamp"]), got["body"]) != headers["x-xinyong-signature"]
    for row in rows:  # no ID number leaves by webhook either
        assert row["QZ_FZRZJHM"].encode() not in got["body"]

    def item(path: str) -> OutboxItem:
        return db_session.scalars(select(OutboxItem).where(OutboxItem.topic == webhooks.topic_of(hooks[path][0].id))).one()

    assert item("/slow").attempts == 1
    assert "Timeout" in item("/slow").last_error
    assert item("/boom").last_error == "WebhookFailed: HTTP 500"
    assert item("/boom").not_before == t0 + timedelta(seconds=60)
    # within the wait: nothing is tried
    hits = dict(endpoint.hits)
    assert webhooks.deliver(db_session, settings=hook_settings, protector=protector, now=t0 + timedelta(seconds=30)) == 0
    assert endpoint.hits == hits
    # second failure: the wait doubles
    t1 = t0 + timedelta(seconds=61)
    webhooks.deliver(db_session, settings=hook_settings, protector=protector, now=t1)
    assert item("/boom").attempts == 2
    assert item("/boom").not_before == t1 + timedelta(seconds=120)
    # third failure: parked, and the webhook with it
    t2 = t1 + timedelta(seconds=121)
    webhooks.deliver(db_session, settings=hook_settings, protector=protector, now=t2)
    db_session.commit()
    for path in ("/slow", "/boom"):
        assert item(path).parked_at is not None
        assert db_session.get(Webhook, hooks[path][0].id).parked_at is not None
    assert endpoint.hits["/boom"] == 3
    assert endpoint.hits["/slow"] == 3
    hits = dict(endpoint.hits)
    assert webhooks.deliver(db_session, settings=hook_settings, protector=protector, now=t2 + timedelta(days=1)) == 0
    assert endpoint.hits == hits

    # new changes reach the healthy webhook only
    load([cf.enforcement_row()], "enforcement")
    assert webhooks.enqueue(db_session, settings=hook_settings, today=today) == 1
    db_session.commit()
    assert webhooks.deliver(db_session, settings=hook_settings, protector=protector) == 1
    # an operator resumes the 500 one: its parked page is tried again, then its next page follows in order
    assert webhooks.resume(db_session, hooks["/boom"][0].id, actor="test") == 1
    assert webhooks.enqueue(db_session, settings=hook_settings, today=today) == 1
    db_session.commit()
    webhooks.deliver(db_session, settings=hook_settings, protector=protector)
    assert endpoint.hits["/boom"] == 4  # the older page only: the newer waits behind it


def test_bad_webhooks_are_refused(db_session, feed_key, hook_settings, protector) -> None:
    prefix = _prefix(feed_key("api:changes:read"))
    with pytest.raises(InvalidInput, match="推送地址"):
        webhooks.add(db_session, key_prefix=prefix, url="ftp://127.0.0.1/x", types=None, settings=hook_settings,
                     protector=protector, actor="test")  # fmt: skip
    with pytest.raises(TypeOutsideClass):
        webhooks.add(db_session, key_prefix=prefix, url="http://127.0.0.1/x", types="arrears",
                     settings=hook_settings, protector=protector, actor="test")  # fmt: skip
    other = _prefix(feed_key("api:records:read"))
    with pytest.raises(PermissionDenied):
        webhooks.add(db_session, key_prefix=other, url="http://127.0.0.1/x", types=None, settings=hook_settings,
                     protector=protector, actor="test")  # fmt: skip
