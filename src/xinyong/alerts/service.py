"""Raising, delivering, acknowledging and resolving warnings (see the package's doc)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor, Permission
from xinyong.alerts.models import Alert, AlertStatus
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.models import User
from xinyong.auth.rules import Role
from xinyong.codes import mask_id_numbers
from xinyong.db import utcnow
from xinyong.errors import InvalidTransition, NotFound, PermissionDenied
from xinyong.notify import service as notify
from xinyong.regions import service as regions_service

NOTE_MAX = 500


def _ref(alert: Alert) -> str:
    return f"alert:{alert.id}"


def recipients(session: Session, department_id: int | None) -> list[User]:
    """The active users a department's warnings go to; the 信用办's administrators when no department."""
    query = select(User).where(User.is_active.is_(True)).order_by(User.id)
    if department_id is None:
        # The city's 信用办 (not a county's: a warning without a department is about the whole platform).
        root = regions_service.tree(session).root
        city = User.region_code.is_(None) if root is None else or_(User.region_code.is_(None), User.region_code == root.code)
        query = query.where(User.role == Role.PLATFORM_ADMIN, city)
    else:
        query = query.where(User.department_id == department_id)
    return list(session.scalars(query))


def raise_alert(
    session: Session,
    *,
    rule: str,
    key: str,
    department_id: int | None,
    title: str,
    body: str,
    link: str | None = None,
    month: str | None = None,
    actor: Actor | str,
) -> Alert | None:
    """Raise the warning of (rule, key) unless it was raised before (open or not): None then."""
    existing = session.scalar(select(Alert.id).where(Alert.rule == rule, Alert.key == key))
    if existing is not None:
        return None
    alert = Alert(rule=rule, key=key[:120], department_id=department_id, month=month, title=title[:200], body=body,
                  link=link, status=AlertStatus.OPEN)  # fmt: skip
    session.add(alert)
    session.flush()  # the inbox messages and the audit entry name it
    users = recipients(session, department_id)
    for user in users:
        notify.inbox(session, user_id=user.id, title=alert.title, body=body, link=link, ref=_ref(alert))
        notify.message(session, address=user.email, title=f"【信用平台预警】{alert.title}",
                       body=f"{body}\n\n请登录管理控制台查看并确认：{link or '/admin/inbox'}")  # fmt: skip
    audit.record(session, AuditAction.ALERT_RAISED, actor=actor, department_id=department_id,
                 target=f"alert:{alert.id}", details={"rule": rule, "key": key, "recipients": len(users)})  # fmt: skip
    return alert


def get_alert(session: Session, alert_id: int, *, actor: Actor) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or not _can_see(actor, alert):
        raise NotFound(what="该预警")
    return alert


def _can_see(actor: Actor, alert: Alert) -> bool:
    """A department's users see its warnings; a county's 信用办 its county's departments' (not the city's own,
    which name no department); the city's 信用办 every warning."""
    if actor.is_scoped:
        return actor.can_reach(alert.department_id, alert.created_at)
    return actor.can(Permission.MONITORING_READ)


def list_alerts(session: Session, actor: Actor, *, status: AlertStatus | None = None, limit: int = 300) -> list[Alert]:
    query = select(Alert).order_by(Alert.id.desc()).limit(limit)
    clause = actor.reach(Alert.department_id, Alert.created_at)
    if clause is not None:
        query = query.where(clause)
    if status is not None:
        query = query.where(Alert.status == status)
    return list(session.scalars(query))


def list_alerts_of_rule(session: Session, rule: str, *, month: str | None = None) -> list[Alert]:
    """The unresolved warnings of a rule (of one month, for monthly rules)."""
    query = select(Alert).where(Alert.rule == rule, Alert.status != AlertStatus.RESOLVED)
    if month is not None:
        query = query.where(Alert.month == month)
    return list(session.scalars(query))


def acknowledge(session: Session, alert_id: int, *, actor: Actor, note: str | None = None) -> Alert:
    """确认: a user of the department the warning was sent to (or the 信用办) has taken it in hand."""
    alert = get_alert(session, alert_id, actor=actor)
    if not actor.can(Permission.ALERTS_ACKNOWLEDGE):
        raise PermissionDenied()
    if alert.status is not AlertStatus.OPEN:
        raise InvalidTransition(state=alert.status.label, action="确认")
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = utcnow()
    alert.acknowledged_by = actor.label[:100]
    if note and note.strip():
        alert.note = mask_id_numbers(note.strip())[:NOTE_MAX]
    notify.close_inbox(session, _ref(alert))
    audit.record(session, AuditAction.ALERT_ACKNOWLEDGED, actor=actor, department_id=alert.department_id,
                 target=f"alert:{alert.id}", reason=note, details={"rule": alert.rule})  # fmt: skip
    return alert


def resolve(session: Session, alert_id: int, *, actor: Actor, note: str | None = None) -> Alert:
    """The 信用办 closes a warning (the condition was dealt with outside the platform, say)."""
    alert = get_alert(session, alert_id, actor=actor)
    if not actor.can(Permission.MONITORING_WRITE):
        raise PermissionDenied()
    if alert.status is AlertStatus.RESOLVED:
        raise InvalidTransition(state=alert.status.label, action="解除")
    _resolve(session, alert, actor=actor, note=note)
    return alert


def _resolve(session: Session, alert: Alert, *, actor: Actor | str, note: str | None) -> None:
    alert.status = AlertStatus.RESOLVED
    alert.resolved_at = utcnow()
    alert.resolved_by = (actor.label if isinstance(actor, Actor) else actor)[:100]
    if note and note.strip():
        alert.note = mask_id_numbers(note.strip())[:NOTE_MAX]
    notify.close_inbox(session, _ref(alert))
    audit.record(session, AuditAction.ALERT_RESOLVED, actor=actor, department_id=alert.department_id,
                 target=f"alert:{alert.id}", reason=note, details={"rule": alert.rule})  # fmt: skip


def resolve_ended(session: Session, *, rule: str, still_true: Iterable[str], actor: Actor | str,
                  key_prefix: str = "") -> int:  # fmt: skip
    """Resolve the unresolved warnings of `rule` (with keys starting `key_prefix`) whose condition no longer
    holds: their key is not among `still_true`."""
    keep = set(still_true)
    alerts = session.scalars(select(Alert).where(Alert.rule == rule, Alert.status != AlertStatus.RESOLVED))
    ended = 0
    for alert in alerts:
        if alert.key.startswith(key_prefix) and alert.key not in keep:
            _resolve(session, alert, actor=actor, note="条件已消除，系统自动解除")
            ended += 1
    return ended


def resolve_key(session: Session, *, rule: str, key: str, actor: Actor | str, note: str) -> bool:
    """Resolve the warning of (rule, key) if it is still unresolved."""
    alert = session.scalar(select(Alert).where(Alert.rule == rule, Alert.key == key))
    if alert is None or alert.status is AlertStatus.RESOLVED:
        return False
    _resolve(session, alert, actor=actor, note=note)
    return True
