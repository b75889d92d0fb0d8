"""Webhooks: the change feed pushed to a partner's endpoint, signed, through the outbox.

`enqueue` reads each webhook's feed after its position (what its key may see) and writes a page of changes
to the outbox (topic ``webhook:<id>``) in the same transaction that moves its position: a page is queued once.
Delivery (`xinyong exchange push`) POSTs each page as JSON with

    X-Xinyong-Webhook: <id>          X-Xinyong-Delivery: <outbox item id>   (the same on every retry)
    X-Xinyong-Timestamp: <unix seconds>
    X-Xinyong-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the webhook's secret>

A 2xx answer delivers it; anything else (an error status, a timeout, a refused connection) is retried after
a wait that doubles (settings: webhook_backoff_seconds up to webhook_backoff_max_seconds); after
webhook_max_attempts failures the page is parked and so is the webhook (no more pages, none overtaking the
parked one) until an operator resumes it. Pages of one webhook are delivered in order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xinyong import writequeue
from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.catalog import load_catalog
from xinyong.changelog.service import Position
from xinyong.config import Settings
from xinyong.db import session_scope, utcnow
from xinyong.departments.models import ApiKey
from xinyong.departments.service import key_permissions
from xinyong.errors import InvalidInput, NotFound, PermissionDenied
from xinyong.exchange import cursors, feed
from xinyong.exchange.models import Webhook
from xinyong.exchange.service import cursor_key
from xinyong.notify import service as notify
from xinyong.notify.models import OutboxItem
from xinyong.protect import Protector

if TYPE_CHECKING:
    import httpx

PREFIX = "webhook"
PAGE = 100
MAX_PAGES_PER_RUN = 50


class WebhookFailed(Exception):
    pass


def topic_of(webhook_id: int) -> str:
    return f"{PREFIX}:{webhook_id}"


def check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if len(url) > 500 or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(reason="推送地址须为 http:// 或 https:// 开头的完整网址（至多 500 个字符）")
    return url


def _key(session: Session, prefix: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(what=f"前缀为“{prefix[:16]}”的访问密钥")
    return key


def add(session: Session, *, key_prefix: str, url: str, types: str | None, settings: Settings,
        protector: Protector, actor: Actor | str) -> tuple[Webhook, str]:  # fmt: skip
    """A webhook for a feed key; returns it with its secret (shown once, kept sealed)."""
    key = _key(session, key_prefix)
    classes = feed.visible_classes(key_permissions(key))
    if not classes or key.revoked_at is not None:
        raise PermissionDenied("该访问密钥没有订阅权限（api:changes:read）或已吊销")
    chosen = feed.chosen_types(load_catalog(settings.catalog_dirs), classes, types) if types else None
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook(api_key_id=key.id, url=check_url(url), secret_sealed=protector.seal(secret), types=chosen,
                      is_active=True, cursor_seq=0, cursor_id=0, failures=0)  # fmt: skip
    session.add(webhook)
    session.flush()
    audit.record(session, AuditAction.WEBHOOK_SAVED, actor=actor, department_id=key.department_id,
                 target=f"webhook:{webhook.id}", details={"key": key.prefix, "url": webhook.url, "types": chosen})  # fmt: skip
    return webhook, secret


def resume(session: Session, webhook_id: int, *, actor: Actor | str) -> int:
    """Take a parked webhook up again: its parked pages are tried afresh. Returns how many."""
    webhook = session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(what=f"推送地址 {webhook_id}")
    webhook.parked_at, webhook.failures, webhook.last_error = None, 0, None
    items = session.scalars(select(OutboxItem).where(OutboxItem.topic == topic_of(webhook.id),
                                                     OutboxItem.parked_at.is_not(None)))  # fmt: skip
    count = 0
    for item in items:
        item.parked_at, item.attempts, item.not_before = None, 0, None
        count += 1
    audit.record(session, AuditAction.WEBHOOK_SAVED, actor=actor, target=f"webhook:{webhook.id}",
                 details={"resumed": count})  # fmt: skip
    return count


def enqueue(session: Session, *, settings: Settings, today: date) -> int:
    """Queue the changes each active, unparked webhook has not been sent yet; returns the pages queued."""
    secret = cursor_key(settings)
    queued = 0
    for webhook in session.scalars(select(Webhook).where(Webhook.is_active.is_(True), Webhook.parked_at.is_(None))):
        key = session.get(ApiKey, webhook.api_key_id)
        if key is None or key.revoked_at is not None:
            continue
        scope = feed.key_scope(key.prefix)
        for _ in range(MAX_PAGES_PER_RUN):
            after = cursors.encode(Position(webhook.cursor_seq, webhook.cursor_id), scope, secret)
            page = feed.read(session, settings=settings, key_prefix=key.prefix, permissions=key_permissions(key),
                             after=after, types=",".join(webhook.types) if webhook.types else None, limit=PAGE,
                             today=today)  # fmt: skip
            end = cursors.decode(page.cursor, scope, secret)
            if page.changes:
                body = {"webhook": webhook.id, "changes": page.changes, "cursor": page.cursor}
                session.add(OutboxItem(topic=topic_of(webhook.id), attempts=0,
                                       payload={"webhook_id": webhook.id, "body": body}))  # fmt: skip
                queued += 1
            webhook.cursor_seq, webhook.cursor_id = end.seq, end.id
            if not page.has_more:
                break
    session.flush()
    return queued


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def handler(settings: Settings, protector: Protector, *, transport: httpx.BaseTransport | None = None,
            clock: Callable[[], float] = time.time) -> notify.TopicHandler:  # fmt: skip
    """The outbox's handler of webhook pages under these settings."""
    import httpx  # the HTTP client (20 MB) loads where pages are sent, not with every command that imports this

    base, cap = settings.webhook_backoff_seconds, settings.webhook_backoff_max_seconds

    def backoff(failures: int) -> timedelta:
        return timedelta(seconds=min(base * 2 ** min(failures - 1, 30), cap))

    def deliver(session: Session, item: OutboxItem) -> None:
        webhook = session.get(Webhook, item.payload["webhook_id"])
        if webhook is None or not webhook.is_active:
            return  # removed since: nothing to send
        if webhook.parked_at is not None:
            raise notify.Deferred()
        earlier = session.scalar(select(OutboxItem.id).where(
            OutboxItem.topic == item.topic, OutboxItem.delivered_at.is_(None), OutboxItem.id < item.id,
        ).limit(1))  # fmt: skip
        if earlier is not None:
            raise notify.Deferred()  # pages of one webhook go in order
        body = json.dumps(item.payload["body"], ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(clock())
        headers = {
            "Content-Type": "application/json; charset=utf-8", "X-Xinyong-Webhook": str(webhook.id),
            "X-Xinyong-Delivery": str(item.id), "X-Xinyong-Timestamp": str(timestamp),
            "X-Xinyong-Signature": sign(protector.unseal(webhook.secret_sealed), timestamp, body),
        }  # fmt: skip
        with httpx.Client(timeout=settings.webhook_timeout_seconds, transport=transport,
                          follow_redirects=False) as client:  # fmt: skip
            response = client.post(webhook.url, content=body, headers=headers)
        if not 200 <= response.status_code < 300:
            raise WebhookFailed(f"HTTP {response.status_code}")

    def record(session: Session, item: OutboxItem, error: Exception | None) -> None:
        webhook = session.get(Webhook, item.payload["webhook_id"])
        if webhook is None:
            return
        if error is None:
            webhook.failures, webhook.last_error = 0, None
        elif isinstance(error, (httpx.HTTPError, WebhookFailed)):
            webhook.failures += 1
            webhook.last_error = f"{type(error).__name__}: {error}"[:300]

    def on_parked(session: Session, item: OutboxItem) -> None:
        webhook = session.get(Webhook, item.payload["webhook_id"])
        if webhook is not None:
            webhook.parked_at = utcnow()

    return notify.TopicHandler(deliver=deliver, max_attempts=settings.webhook_max_attempts, backoff=backoff,
                               on_parked=on_parked, record=record)  # fmt: skip


def deliver(session: Session, *, settings: Settings, protector: Protector, limit: int = 1000,
            transport: httpx.BaseTransport | None = None, now: datetime | None = None) -> int:  # fmt: skip
    """Deliver the webhook pages that are due (call after the transaction that queued them committed); returns
    how many were delivered. Each page's marks are committed as it goes (`notify.deliver_pending`)."""
    notify.register_topic(PREFIX, handler(settings, protector, transport=transport))
    return notify.deliver_pending(session, settings=settings, notifier=notify.notifier_for(settings),
                                  limit=limit, now=now, topic_prefix=PREFIX)  # fmt: skip


def push(factory: sessionmaker[Session], *, settings: Settings, protector: Protector, today: date,
         limit: int = 1000) -> tuple[int, int]:  # fmt: skip
    """`xinyong exchange push` and the worker's job: queue the new pages, commit, then deliver what is due (a page
    is never sent before the transaction that queued it committed). Returns (pages queued, pages delivered)."""
    with writequeue.writing_scope(factory) as session:  # it reads the feed, then queues and moves the cursors
        queued = enqueue(session, settings=settings, today=today)
    with session_scope(factory) as session:
        delivered = deliver(session, settings=settings, protector=protector, limit=limit)
    return queued, delivered
