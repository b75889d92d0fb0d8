"""Builders for list, measure and check tests: the built-in list types, subjects, a listing walked through
the procedure, measures."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session
from tests.factories.records import company_code

from xinyong.auth.rules import Actor
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.lists import service as lists_service
from xinyong.lists.models import ListEntry
from xinyong.measures import service as measures_service
from xinyong.measures.models import Measure
from xinyong.measures.rules import MeasureDraft
from xinyong.protect import Protector
from xinyong.subjects.models import SubjectKind
from xinyong.subjects.service import SubjectRef, SubjectResolver

SYSTEM = Actor.system("test")


def load_types(session: Session, *deciders: Department) -> None:
    """The built-in list types; `deciders` become the deciding departments of every one of them (the built-in
    types name none, and a type without deciding departments accepts no entries)."""
    lists_service.load_types_file(session, lists_service.BUILTIN_TYPES, actor=SYSTEM)
    if deciders:
        for list_type in lists_service.list_types(session):
            lists_service.set_deciding_departments(session, list_type.key, codes=[d.code for d in deciders],
                                                   actor=SYSTEM)  # fmt: skip


def subject(session: Session, protector: Protector, n: int, *, name: str | None = None,
            kind: SubjectKind = SubjectKind.ORGANISATION, id_number: str | None = None) -> int:  # fmt: skip
    ref = SubjectRef(kind=kind, name=name or f"安吉县名单测试{n}号有限公司",
                     uscc=None if id_number else company_code(90000 + n), id_number=id_number)  # fmt: skip
    resolver = SubjectResolver(session, protector)
    return resolver.resolve([ref])[resolver.key_of(ref)].subject_id


def listed(session: Session, settings: Settings, protector: Protector, department: Department, code: str, *,
           today: date, type_key: str = "serious-dishonesty") -> ListEntry:  # fmt: skip
    """Propose, notify, let the window pass, decide and publish: a membership in force from `today`."""
    start = today - timedelta(days=40)
    entry = lists_service.propose(session, type_key=type_key, subject_code=code, reasons="多次严重违法经营，情节严重",
                                  basis=None, department=department, actor=SYSTEM, protector=protector, today=start)  # fmt: skip
    lists_service.notify(session, entry.id, rights=None, actor=SYSTEM, settings=settings, today=start)
    decided = start + timedelta(days=30)
    lists_service.decide(session, entry.id, decision_no="安信列〔2025〕1号", answer=None, actor=SYSTEM,
                         settings=settings, today=decided)  # fmt: skip
    lists_service.publish(session, entry.id, actor=SYSTEM, today=decided)
    return entry


def measure(session: Session, settings: Settings, *, matter: str = "政府采购", list_types: tuple[str, ...] = (
        "serious-dishonesty",), kind: str = "sanction", effect: str = "block", content: str = "依法限制参加政府采购活动",
        basis: str = "《中华人民共和国政府采购法》第二十二条") -> Measure:  # fmt: skip
    return measures_service.create_measure(session, MeasureDraft(matter, content, list_types, basis, "国家", kind,
                                                                 effect), actor=SYSTEM, settings=settings)  # fmt: skip
