"""撤销 of a record, and moving records when two subjects are merged."""


from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.changelog import service as changelog
from xinyong.changelog.models import ChangeKind
from xinyong.codes import mask_id_numbers
from xinyong.db import utcnow
from xinyong.departments.models import Department
from xinyong.errors import InvalidInput, InvalidTransition, NotFound
from xinyong.protect import Protector
from xinyong.records import rules
from xinyong.records.models import (
    Record,
    RecordStatus,
    RecordVersion,
)
from xinyong.subjects.models import Subject


def revoke_record(
    session: Session,
    *,
    department: Department,
    record_type: str,
    doc_no: str,
    reason: str,
    actor: str,
) -> Record:
    """撤销: the record leaves publication for good; its content stays in history."""
    reason = mask_id_numbers(reason.strip())
    if len(reason) < rules.REVOKE_REASON_MIN_LENGTH:
        raise InvalidInput(reason=f"撤销理由至少 {rules.REVOKE_REASON_MIN_LENGTH} 个字")
    # Stored 文书号 have their ID numbers masked (see validation); the department names it as it knows it.
    doc_no = mask_id_numbers(doc_no.strip())
    record = session.scalar(
        select(Record).where(Record.department_id == department.id, Record.record_type == record_type,
                             Record.doc_no == doc_no)
    )  # fmt: skip
    if record is None:
        raise NotFound(what=f"本部门文书号为“{doc_no}”的记录")
    if record.status == RecordStatus.REVOKED:
        raise InvalidTransition(state="已撤销", action="撤销")
    session.add(RecordVersion(
        record_id=record.id, version=record.version, status=record.status, subject_id=record.subject_id,
        payload=record.payload, sealed=record.sealed, content_hash=record.content_hash, batch_id=record.batch_id,
        superseded_by="revoke",
    ))  # fmt: skip
    record.status = RecordStatus.REVOKED
    record.revoked_at = utcnow()
    record.revoke_reason = f"{reason[:450]}（{actor[:40]}）"
    record.version += 1
    record.updated_at = utcnow()
    changelog.log(session, [(record.id, record.record_type)], ChangeKind.REVOKED)
    audit.record(session, AuditAction.RECORD_REVOKED, actor=actor, department_id=department.id,
                 subject_id=record.subject_id, target=f"record:{record.id}", reason=reason,
                 details={"record_type": record_type, "doc_no": record.doc_no})  # fmt: skip
    return record


def move_subject_records(session: Session, *, from_subject_id: int, to_subject_id: int, protector: Protector) -> int:
    """Part of merging two subjects: every record and earlier version of `from` now belongs to `to`. The content
    hash names the subject, so it is worked out again (a re-sent row must still read as unchanged)."""
    moved = 0
    kind = session.scalar(select(Subject.kind).where(Subject.id == to_subject_id))
    for record in session.scalars(select(Record).where(Record.subject_id == from_subject_id)):
        sealed_text = protector.unseal(record.sealed) if record.sealed else None
        record.subject_id = to_subject_id
        if kind is not None:
            record.subject_kind = kind  # records.subject_kind follows subjects.kind
        record.content_hash = rules.content_hash(record.payload, sealed_text, to_subject_id)
        record.updated_at = utcnow()
        changelog.log(session, [(record.id, record.record_type)], ChangeKind.UPDATED)
        moved += 1
    session.execute(update(RecordVersion).where(RecordVersion.subject_id == from_subject_id)
                    .values(subject_id=to_subject_id))  # fmt: skip
    return moved
