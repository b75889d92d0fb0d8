"""Personal credit points: opting in and out, the person's own score. Nothing here lists or ranks members; the
only reader outside this package is the 信易+ eligibility check (`band_of`), which answers yes or no."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import SubjectAccount
from xinyong.accounts.service import require_identity
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.errors import InvalidInput, PermissionDenied
from xinyong.lists import service as lists_service
from xinyong.points import rules
from xinyong.points.models import PointsHistory, PointsMember
from xinyong.records.models import Record, RecordStatus
from xinyong.repair.models import RepairApplication, RepairStatus
from xinyong.subjects.models import Subject


class NotOptedIn(PermissionDenied):
    code = "points-not-opted-in"
    message_template = "本人尚未开通个人信用积分：积分只为本人自愿开通后计算，他人无法查询"


def model() -> rules.PointsModel:
    return rules.load_model()


def _label(account: SubjectAccount) -> str:
    return f"subject-account:{account.id}"


def member_of(session: Session, account: SubjectAccount) -> PointsMember | None:
    return session.scalar(select(PointsMember).where(PointsMember.account_id == account.id))


def opt_in(session: Session, account: SubjectAccount) -> PointsMember:
    require_identity(account)
    subject = session.get(Subject, account.subject_id)
    assert subject is not None
    if subject.kind.value != "person":
        raise InvalidInput(reason="个人信用积分只面向自然人开通")
    member = member_of(session, account)
    if member is None:
        member = PointsMember(account_id=account.id, subject_id=subject.id)
        session.add(member)
        session.flush()
        audit.record(session, AuditAction.POINTS_OPTED_IN, actor=_label(account), subject_id=subject.id)
    return member


def opt_out(session: Session, account: SubjectAccount) -> int:
    """Deletes the membership and the whole points history; returns how many history rows went."""
    require_identity(account)
    member = member_of(session, account)
    if member is None:
        raise NotOptedIn()
    gone = session.execute(delete(PointsHistory).where(PointsHistory.member_id == member.id)).rowcount  # type: ignore[attr-defined]
    session.delete(member)
    session.flush()
    audit.record(session, AuditAction.POINTS_OPTED_OUT, actor=_label(account), subject_id=account.subject_id,
                 details={"history_deleted": gone})  # fmt: skip
    return int(gone or 0)


def _evidence(session: Session, subject_id: int, points_model: rules.PointsModel, today: date
              ) -> dict[str, list[rules.Evidence]]:  # fmt: skip
    found: dict[str, list[rules.Evidence]] = {}
    memberships = lists_service.memberships(session, [subject_id], today=today).get(subject_id, [])
    for item in points_model.items:
        kind, _, key = item.source.partition(":")
        if kind == "list":
            found[item.source] = [rules.Evidence(f"{m.type_name}（{m.decision_no or m.department}）",
                                                 m.valid_from.isoformat() if m.valid_from else "")
                                  for m in memberships if m.type_key == key and m.nature == "honor"]  # fmt: skip
        elif kind == "repair":
            found[item.source] = [rules.Evidence(f"信用修复 {a.number}", a.decided_on.isoformat() if a.decided_on else "")
                                  for a in session.scalars(select(RepairApplication).where(
                                      RepairApplication.subject_id == subject_id,
                                      RepairApplication.status == RepairStatus.APPROVED.value).limit(100))]  # fmt: skip
        else:
            found[item.source] = [rules.Evidence(r.doc_no, r.decision_date.isoformat()) for r in session.scalars(
                select(Record).where(Record.subject_id == subject_id, Record.record_type == key,
                                     Record.status == RecordStatus.ACTIVE).order_by(Record.decision_date).limit(100))]  # fmt: skip
    return found


def _score(session: Session, subject_id: int, today: date) -> rules.Score:
    points_model = model()
    return rules.score(points_model, _evidence(session, subject_id, points_model, today))


def own_score(session: Session, account: SubjectAccount, *, today: date) -> tuple[rules.Score, list[PointsHistory]]:
    """The person's own score (kept in the history, one row a day) and the history; only after opting in."""
    require_identity(account)
    member = member_of(session, account)
    if member is None:
        raise NotOptedIn()
    result = _score(session, member.subject_id, today)
    row = session.scalar(select(PointsHistory).where(PointsHistory.member_id == member.id,
                                                     PointsHistory.computed_on == today))  # fmt: skip
    if row is None:
        session.add(PointsHistory(member_id=member.id, computed_on=today, score=result.score, band=result.band.key))
    else:
        row.score, row.band = result.score, result.band.key
    session.flush()
    history = list(session.scalars(select(PointsHistory).where(PointsHistory.member_id == member.id)
                                   .order_by(PointsHistory.computed_on.desc()).limit(60)))  # fmt: skip
    return result, history


def history_count(session: Session, account: SubjectAccount) -> int:
    member = member_of(session, account)
    if member is None:
        return 0
    return len(list(session.scalars(select(PointsHistory.id).where(PointsHistory.member_id == member.id))))


def band_of(session: Session, subject_id: int, *, today: date) -> rules.Band | None:
    """The person's band, for a 信易+ eligibility answer only; None when the person has not opted in."""
    if session.scalar(select(PointsMember.id).where(PointsMember.subject_id == subject_id)) is None:
        return None
    return _score(session, subject_id, today).band
