"""Imports every domain's models so that the metadata is complete (for Alembic and tests)."""

from xinyong.accounts.models import ActivationCode, SubjectAccount, SubjectSession, SubjectVerification
from xinyong.alerts.models import Alert
from xinyong.audit.models import AuditChainHead, AuditEntry
from xinyong.auth.models import LoginThrottle, User, UserSession
from xinyong.calendar.models import CalendarOverride
from xinyong.changelog.models import Change, ChangeSequence
from xinyong.checks.models import CheckFeedback, CreditCheck
from xinyong.commitments.models import OnlineCommitment, VerificationTask
from xinyong.db import Base
from xinyong.departments.models import ApiKey, Department, DepartmentMove
from xinyong.disclosure.models import PublicationStop, Withdrawal
from xinyong.evaluation.models import (
    EvaluationPoints,
    EvaluationRun,
    EvaluationScore,
    GradeChange,
    ScoringModel,
)
from xinyong.evidence.models import Evidence
from xinyong.exchange.models import Destination, ListEdition, ListReview, Webhook
from xinyong.finance.models import (
    Consent,
    ConsentAccess,
    Demand,
    Institution,
    InstitutionKey,
    InstitutionUser,
    WhitelistFeed,
)
from xinyong.inspections.models import (
    InspectionAssignment,
    InspectionDraw,
    InspectionPlan,
    Inspector,
    InspectorExclusion,
    PlanInspector,
    PlanSectorMember,
)
from xinyong.intake.models import DepartmentDuty, PullState
from xinyong.integrity.models import CivilServantRecord, IntegrityCase, PrelistingNotice
from xinyong.jobs.models import JobLock, JobRun
from xinyong.lists.models import ListEntry, ListEvent, ListImport, ListImportProblem, ListType
from xinyong.measures.models import Measure
from xinyong.monitoring.models import QualityIssue
from xinyong.notify.models import InboxItem, OutboxItem
from xinyong.objections.models import Objection
from xinyong.points.models import PointsHistory, PointsMember
from xinyong.records.models import Batch, BatchProblem, Record, RecordVersion
from xinyong.regions.models import Region
from xinyong.repair.models import RepairApplication, RepairCommitment, RepairEvent
from xinyong.reports.models import IssuedReport
from xinyong.scenarios.models import Scenario, ScenarioUse
from xinyong.subjects.models import Subject, SubjectGram, SubjectNameChange

__all__ = [
    "ActivationCode",
    "Alert",
    "ApiKey",
    "AuditChainHead",
    "AuditEntry",
    "Base",
    "Batch",
    "BatchProblem",
    "CalendarOverride",
    "Change",
    "ChangeSequence",
    "CheckFeedback",
    "CivilServantRecord",
    "Consent",
    "ConsentAccess",
    "CreditCheck",
    "Demand",
    "Department",
    "DepartmentDuty",
    "DepartmentMove",
    "Destination",
    "EvaluationPoints",
    "EvaluationRun",
    "EvaluationScore",
    "Evidence",
    "GradeChange",
    "InboxItem",
    "InspectionAssignment",
    "InspectionDraw",
    "InspectionPlan",
    "Inspector",
    "InspectorExclusion",
    "Institution",
    "InstitutionKey",
    "InstitutionUser",
    "IntegrityCase",
    "IssuedReport",
    "JobLock",
    "JobRun",
    "ListEdition",
    "ListEntry",
    "ListEvent",
    "ListImport",
    "ListImportProblem",
    "ListReview",
    "ListType",
    "LoginThrottle",
    "Measure",
    "Objection",
    "OnlineCommitment",
    "OutboxItem",
    "PlanInspector",
    "PlanSectorMember",
    "PointsHistory",
    "PointsMember",
    "PrelistingNotice",
    "PublicationStop",
    "PullState",
    "QualityIssue",
    "Record",
    "RecordVersion",
    "Region",
    "RepairApplication",
    "RepairCommitment",
    "RepairEvent",
    "Scenario",
    "ScenarioUse",
    "ScoringModel",
    "Subject",
    "SubjectAccount",
    "SubjectGram",
    "SubjectNameChange",
    "SubjectSession",
    "SubjectVerification",
    "User",
    "UserSession",
    "VerificationTask",
    "Webhook",
    "WhitelistFeed",
    "Withdrawal",
]
