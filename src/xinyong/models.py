"""Imports every domain's models so that the metadata is complete (for Alembic and tests)."""

from xinyong.audit.models import AuditChainHead, AuditEntry
from xinyong.auth.models import User, UserSession
from xinyong.calendar.models import CalendarOverride
from xinyong.departments.models import ApiKey, Department
from xinyong.disclosure.models import Withdrawal
from xinyong.portal.models import SubjectGram
from xinyong.records.models import Batch, BatchProblem, Record, RecordVersion
from xinyong.subjects.models import Subject

__all__ = [
    "ApiKey",
    "AuditChainHead",
    "AuditEntry",
    "Batch",
    "BatchProblem",
    "CalendarOverride",
    "Department",
    "Record",
    "RecordVersion",
    "Subject",
    "SubjectGram",
    "User",
    "UserSession",
    "Withdrawal",
]
