"""进度查询: an application or objection by its number and the subject's code, without signing in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.errors import NotFound
from xinyong.objections.models import Objection
from xinyong.protect import Protector
from xinyong.repair.models import RepairApplication
from xinyong.subjects import service as subjects_service


def lookup(session: Session, *, number: str, code: str, protector: Protector) -> RepairApplication | Objection:
    """The same answer for an unknown number and a code that does not match, so neither can be probed."""
    number = (number or "").strip().upper()[:24]
    subject = subjects_service.find_by_code(session, (code or "").strip()[:40], protector)
    found: RepairApplication | Objection | None = None
    if subject is not None and number.startswith("XF"):
        found = session.scalar(select(RepairApplication).where(RepairApplication.number == number))
    elif subject is not None and number.startswith("YY"):
        found = session.scalar(select(Objection).where(Objection.number == number))
    if found is None or subject is None or found.subject_id != subject.id:
        raise NotFound(what="与该编号和代码相符的申请")
    return found
