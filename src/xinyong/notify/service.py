"""The outbox: write in the caller's transaction, deliver after commit."""

from __future__ import annotations

import json
import logging
import smtplib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from xinyong import writequeue
from xinyong.codes import mask_id_numbers
from xinyong.codes.idtext import mask_id_numbers_in
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.notify.models import InboxItem, OutboxItem
from xinyong.regions import service as regions_service

log = logging.getLogger("xinyong.notify")
MESSAGE = "message"
INBOX = "inbox"
MAX_ATTEMPTS = 10
_PENDING = "xinyong.outbox_pending"  # in Session.info: the outbox items this transaction wrote


class Notifier(Protocol):
    def send(self, *, address: str, title: str, body: str) -> None: ...


class ConsoleNotifier:
    """Writes each message to the server log and keeps the last ones in memory (development, tests)."""

    def __init__(self) -> None:
        self.sent: deque[dict[str, str]] = deque(maxlen=200)

    def send(self, *, address: str, title: str, body: str) -> None:
        self.sent.append({"address": address, "title": title, "body": body})
        log.info("notification to %s: %s\n%s", address, title, body)


class EmailNotifier:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host, self.port, self.sender = host, port, sender

    def send(self, *, address: str, title: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, address, title
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)


def notifier_for(settings: Settings) -> Notifier:
    if settings.notifier == "email":
        return EmailNotifier(settings.smtp_host, settings.smtp_port, settings.smtp_sender)
    return ConsoleNotifier()


# ------------------------------------------------------------------------------------------ writing


def message(session: Session, *, address: str | None, title: str, body: str, portal_path: str | None = None,
            region: str | None = None) -> OutboxItem | None:  # fmt: skip
    """A message to a person, sent after the caller's transaction commits. No address, no message. Mail
    leaves the platform: ID numbers in the title or body are masked.

    `portal_path` (a page of the public portal, e.g. `/objections/YY2025…`) ends the message with a link to that
    page on the portal of `region` (the county the object belongs to; None: the platform's own): its host name, or
    the platform's address with the county's prefix (`regions.service.portal_url`). The address is worked out when
    the message is sent, from the settings of the process that sends it."""
    if not address:
        return None
    payload: dict[str, Any] = {"address": address, "title": mask_id_numbers(title), "body": mask_id_numbers(body)}
    if portal_path is not None:
        payload.update(portal_path=portal_path, region=region)
    item = OutboxItem(topic=MESSAGE, payload=payload, attempts=0)
    session.add(item)
    _written(session, item)
    return item


def inbox(session: Session, *, user_id: int, title: str, body: str, link: str | None = None,
          ref: str | None = None) -> OutboxItem:
    """A message for a console user's inbox, put there after the caller's transaction commits; ID numbers in the
    title or body masked, as in mail."""
    item = OutboxItem(topic=INBOX, payload={"user_id": user_id, "title": mask_id_numbers(title),
                                            "body": mask_id_numbers(body), "link": link, "ref": ref}, attempts=0)  # fmt: skip
    session.add(item)
    _written(session, item)
    return item


def close_inbox(session: Session, ref: str) -> int:
    """Close the inbox messages about `ref` (the thing they report was acknowledged or resolved), and drop
    those not delivered yet: nobody needs to be told of a warning that is already over."""
    pending = session.scalars(select(OutboxItem).where(OutboxItem.topic == INBOX, OutboxItem.delivered_at.is_(None)))
    for item in pending:
        if item.payload.get("ref") == ref:
            item.delivered_at = utcnow()
            item.last_error = "closed before delivery"
    closed = session.scalars(update(InboxItem).where(InboxItem.ref == ref, InboxItem.closed_at.is_(None))
                             .values(closed_at=utcnow()).returning(InboxItem.id)).all()  # fmt: skip
    return len(closed)


def inbox_items(session: Session, user_id: int, *, open_only: bool = True, limit: int = 200) -> list[InboxItem]:
    query = select(InboxItem).where(InboxItem.user_id == user_id).order_by(InboxItem.id.desc()).limit(limit)
    if open_only:
        query = query.where(InboxItem.closed_at.is_(None))
    return list(session.scalars(query))


def open_inbox_count(session: Session, user_id: int) -> int:
    query = select(func.count()).select_from(InboxItem).where(InboxItem.user_id == user_id,
                                                              InboxItem.closed_at.is_(None))  # fmt: skip
    return session.scalar(query) or 0


def change_event(session: Session, kind: str, **payload: Any) -> OutboxItem:
    """A change event for the systems the platform shares with (``change.<kind>``), ID numbers masked."""
    item = OutboxItem(topic=f"change.{kind}", payload=mask_id_numbers_in(payload), attempts=0)
    session.add(item)
    _written(session, item)
    return item


def track_pending(session: Session) -> None:
    """Remember the outbox items this session writes, for `take_pending` (a web request, which delivers its own
    after its commit). Other sessions (a job, a command: thousands of change events in one sweep) keep nothing:
    what they write waits for the next delivery."""
    session.info[_PENDING] = []


def _written(session: Session, item: OutboxItem) -> None:
    pending = session.info.get(_PENDING)
    if pending is not None:
        pending.append(item)


def take_pending(session: Session) -> list[int]:
    """The ids of the outbox items that the transaction just committed wrote (in a session that `track_pending`),
    forgotten here."""
    pending = session.info.get(_PENDING)
    if not pending:
        return []
    session.info[_PENDING] = []
    return [item.id for item in pending if item.id is not None]


def forget_pending(session: Session) -> None:
    """The transaction was rolled back: what it wrote to the outbox is gone."""
    if session.info.get(_PENDING):
        session.info[_PENDING] = []


# ----------------------------------------------------------------------------------------- delivery


class Deferred(Exception):  # not an error: the item waits, and the wait is no attempt
    """Raised by a topic's handler when its item must wait (an earlier item of the same receiver is pending)."""


@dataclass(frozen=True)
class TopicHandler:
    """How a higher domain delivers the items of its topic (say, webhooks): `deliver` reads and sends, and raises
    on failure (`Deferred` to leave the item for later untouched); it writes nothing, since it runs in a plain
    transaction while a partner's system answers. `record` then writes what the outcome changes in the domain's
    own rows (the error, or None), in a short writer's transaction with the item's marks. After `max_attempts`
    failures the item is parked (and `on_parked` told, in that transaction), before that it waits `backoff(n)`
    after its n-th failure."""

    deliver: Callable[[Session, OutboxItem], None]
    max_attempts: int
    backoff: Callable[[int], timedelta]
    on_parked: Callable[[Session, OutboxItem], None] | None = None
    record: Callable[[Session, OutboxItem, Exception | None], None] | None = None


_HANDLERS: dict[str, TopicHandler] = {}


def register_topic(prefix: str, handler: TopicHandler) -> None:
    """A hook for the domains above: the outbox delivers the topics ``<prefix>:…`` through `handler`. Such topics
    wait in the outbox in a process where no handler is registered (say, a web server: webhooks are sent by
    `xinyong exchange push`)."""
    _HANDLERS[prefix] = handler


# How long a message being sent stays claimed: no other delivery takes it meanwhile; if its mark is lost (the
# process died between sending and marking), it is sent again after this.
SENDING_LEASE = timedelta(minutes=10)


def deliver_pending(session: Session, *, settings: Settings, notifier: Notifier, limit: int = 100,
                    now: datetime | None = None, topic_prefix: str | None = None,
                    ids: Sequence[int] | None = None) -> int:  # fmt: skip
    """Deliver what is waiting and due, oldest first (of `ids` only, when given); failures stay for the next
    run. Call only after the transaction that wrote them committed; it commits as it goes.

    In writer's transactions taken in the writers' turn: on SQLite a plain transaction that read the items and
    then marked them failed whenever another connection (an import) committed in between, and every message it
    had sent went out again at the next run. Mail is sent outside any transaction: the messages are first claimed
    (their attempt counted, kept from other deliveries for SENDING_LEASE) and committed, then sent, then marked in
    a second short transaction, so that a slow or unreachable mail server never holds the write lock. Inbox
    messages and change events are delivered within the first transaction. Handled topics (webhook pages, sent
    over the network with their own retries and idempotent delivery ids) are delivered after it, one by one: read
    and sent in a plain transaction (no write lock is held while a partner's system answers), then marked in a
    short writer's transaction of their own."""
    now = now or utcnow()
    topic = OutboxItem.topic
    query = select(OutboxItem).where(
        OutboxItem.delivered_at.is_(None), OutboxItem.attempts < MAX_ATTEMPTS, OutboxItem.parked_at.is_(None),
        or_(OutboxItem.not_before.is_(None), OutboxItem.not_before <= now),
        or_(~topic.contains(":"), *(topic.startswith(f"{prefix}:") for prefix in _HANDLERS)),
    )  # fmt: skip
    if topic_prefix is not None:
        query = query.where(topic.startswith(f"{topic_prefix}:"))
    if ids is not None:
        query = query.where(OutboxItem.id.in_(ids))
    delivered = 0
    mail: list[tuple[int, str, str, str]] = []  # (item id, address, title, body), claimed
    handled: list[int] = []
    session.commit()
    with writequeue.writing(session):
        # On PostgreSQL items another delivery is claiming are skipped, not waited for (SQLite has one writer).
        claimed = query.order_by(OutboxItem.id).limit(limit).with_for_update(skip_locked=True)
        for item in session.scalars(claimed).all():
            handler = _HANDLERS.get(item.topic.split(":", 1)[0]) if ":" in item.topic else None
            if handler is not None:
                handled.append(item.id)
                continue
            item.attempts += 1
            if item.topic == MESSAGE:
                item.not_before = now + SENDING_LEASE
                mail.append((item.id, item.payload["address"], item.payload["title"],
                             _with_link(session, settings, item.payload)))  # fmt: skip
                continue
            try:
                if item.topic == INBOX:
                    _put_in_inbox(session, item)
                else:
                    _append_event(settings.events_file, item)
            except Exception as exc:
                item.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("outbox item %s not delivered: %s", item.id, item.last_error)
                continue
            item.delivered_at = utcnow()
            item.last_error = None
            delivered += 1
    for item_id in handled:
        delivered += _deliver_handled(session, item_id, now)
    if not mail:
        return delivered
    errors: dict[int, str | None] = {}
    for item_id, address, title, body in mail:
        try:
            notifier.send(address=address, title=title, body=body)
            errors[item_id] = None
        except Exception as exc:
            errors[item_id] = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("outbox item %s not delivered: %s", item_id, errors[item_id])
    with writequeue.writing(session):
        for item in session.scalars(select(OutboxItem).where(OutboxItem.id.in_(errors))):
            item.last_error, item.not_before = errors[item.id], None  # a failure is tried at the next run
            if errors[item.id] is None:
                item.delivered_at = utcnow()
                delivered += 1
    return delivered


def _deliver_handled(session: Session, item_id: int, now: datetime) -> int:
    """One item of a handled topic: read and sent in a plain transaction, which writes nothing (on SQLite it
    could not start writing once an import committed after its first read, and once writing it would hold the
    lock through the next items' sending), then marked in a writer's transaction of its own."""
    item = session.get(OutboxItem, item_id)
    if item is None:
        return 0
    handler = _HANDLERS[item.topic.split(":", 1)[0]]
    error: Exception | None = None
    try:
        handler.deliver(session, item)
    except Deferred:
        session.rollback()
        return 0
    except Exception as exc:
        error = exc
    session.rollback()  # nothing was written: the read ends here
    with writequeue.writing(session):
        item = session.get(OutboxItem, item_id, populate_existing=True)
        if item is None or item.delivered_at is not None:  # another delivery marked it meanwhile
            return 0
        if handler.record is not None:
            handler.record(session, item, error)
        return _mark_handled(session, handler, item, error, now)


def _mark_handled(session: Session, handler: TopicHandler, item: OutboxItem, error: Exception | None,
                  now: datetime) -> int:  # fmt: skip
    if error is not None:
        item.attempts += 1
        item.last_error = f"{type(error).__name__}: {error}"[:300]
        if item.attempts >= handler.max_attempts:
            item.parked_at, item.not_before = now, None
            log.warning("outbox item %s parked after %s attempts: %s", item.id, item.attempts, item.last_error)
            if handler.on_parked is not None:
                handler.on_parked(session, item)
        else:
            item.not_before = now + handler.backoff(item.attempts)
            log.warning("outbox item %s not delivered (attempt %s): %s", item.id, item.attempts, item.last_error)
        return 0
    item.attempts += 1
    item.delivered_at, item.last_error, item.not_before = now, None, None
    return 1


def _with_link(session: Session, settings: Settings, payload: dict[str, Any]) -> str:
    body = str(payload["body"])
    path = payload.get("portal_path")
    if not path:
        return body
    base = regions_service.portal_url(session, settings, payload.get("region"))
    return body if base is None else f"{body}\n查看详情：{base}{path}"


def _put_in_inbox(session: Session, item: OutboxItem) -> None:
    if session.scalar(select(InboxItem.id).where(InboxItem.outbox_id == item.id)) is not None:
        return  # delivered before, its mark lost: at-least-once delivery, one message
    payload = item.payload
    session.add(InboxItem(user_id=payload["user_id"], title=payload["title"][:200], body=payload["body"],
                          link=payload.get("link"), ref=payload.get("ref"), outbox_id=item.id))  # fmt: skip


def _append_event(path: Path, item: OutboxItem) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"id": item.id, "topic": item.topic, "created_at": item.created_at.isoformat(),
                       **item.payload}, ensure_ascii=False, sort_keys=True)  # fmt: skip
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def deliver_after_commit(session: Session, app_state: Any, ids: Sequence[int]) -> None:
    """For request handlers, once their change is committed, in a worker thread (mail leaves over the network):
    deliver the outbox items the request wrote (`ids`; the `notify-deliver` job delivers the rest and retries),
    in writer's transactions (see `deliver_pending`). A failure here never undoes the request's change."""
    try:
        deliver_pending(session, settings=app_state.settings, notifier=app_notifier(app_state), ids=ids)
    except Exception:
        session.rollback()
        log.exception("outbox delivery failed; `xinyong notify deliver` will retry")


def app_notifier(app_state: Any) -> Notifier:
    notifier = getattr(app_state, "notifier", None)
    if notifier is None:
        notifier = app_state.notifier = notifier_for(app_state.settings)
    return notifier
