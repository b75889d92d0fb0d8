"""The local listing procedure, step by step, against the real database: every step audited and visible,
illegal moves refused with the reason and nothing changed, expiry by date and by the job."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from tests.factories import lists as lf
from tests.factories.records import OTHER_DEPT_CODE, company_code, department

from xinyong.actors import Actor, Permission
from xinyong.audit.models import AuditEntry
from xinyong.errors import InvalidInput, InvalidTransition, NotFound
from xinyong.lists import service
from xinyong.lists.models import EntryState, ListEntry, ListEvent

SYSTEM = lf.SYSTEM
MONDAY = date(2025, 10, 20)


def _propose(db_session, protector, dept, n=1, **kw):  # type: ignore[no-untyped-def]
    lf.subject(db_session, protector, n)
    return service.propose(db_session, type_key=kw.get("type_key", "serious-dishonesty"),
                           subject_code=company_code(90000 + n), reasons="多次严重违法经营，情节严重", basis=None,
                           department=dept, actor=SYSTEM, protector=protector, today=MONDAY)  # fmt: skip


def _audit_actions(db_session, entry_id):  # type: ignore[no-untyped-def]
    return list(db_session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"list-entry:{entry_id}")
                                   .order_by(AuditEntry.seq)))  # fmt: skip


def test_the_whole_procedure_with_an_objection(db_session, settings, protector, dept):
    entry = _propose(db_session, protector, dept)
    assert entry.state is EntryState.PROPOSED
    service.notify(db_session, entry.id, rights=None, actor=SYSTEM, settings=settings, today=MONDAY)
    # five working days after Monday 2025-10-20
    assert entry.objection_deadline == date(2025, 10, 27)
    assert "5 个工作日" in entry.rights
    assert "救济途径" in entry.rights
    service.record_objection(db_session, entry.id, text="处罚决定已被复议撤销，请核实", actor=SYSTEM, today=date(2025, 10, 27))
    with pytest.raises(InvalidTransition, match="须先答复"):
        service.decide(db_session, entry.id, decision_no="安信列〔2025〕1号", answer="", actor=SYSTEM, settings=settings,
                       today=date(2025, 10, 28))
    assert entry.state is EntryState.OBJECTED
    assert entry.decided_on is None
    service.decide(db_session, entry.id, decision_no="安信列〔2025〕1号", answer="经核实，复议维持原处罚，异议不予采纳",
                   actor=SYSTEM, settings=settings, today=date(2025, 10, 28))  # fmt: skip
    assert entry.state is EntryState.DECIDED
    assert entry.publish_deadline == date(2025, 11, 6)  # 7 working days
    assert entry.valid_until == date(2028, 10, 27)  # 36 months from the decision, inclusive
    service.publish(db_session, entry.id, actor=SYSTEM, today=date(2025, 10, 30))
    assert entry.state is EntryState.PUBLISHED
    assert not entry.is_published_late
    steps = [e.action for e in service.events_of(db_session, entry.id)]
    assert steps == ["propose", "notify", "object", "decide", "publish"]
    assert _audit_actions(db_session, entry.id) == ["list.proposed", "list.notified", "list.objected", "list.decided",
                                                     "list.published"]  # fmt: skip


def test_illegal_moves_change_nothing_and_say_why(db_session, settings, protector, dept):
    entry = _propose(db_session, protector, dept)
    events = db_session.scalar(select(func.count()).select_from(ListEvent))
    with pytest.raises(InvalidTransition, match=r"拟列入.*不能执行“公示”.*当前可执行：告知、决定不予列入"):
        service.publish(db_session, entry.id, actor=SYSTEM, today=MONDAY)
    with pytest.raises(InvalidTransition, match="提出异议"):
        service.record_objection(db_session, entry.id, text="不服", actor=SYSTEM, today=MONDAY)
    service.notify(db_session, entry.id, rights=None, actor=SYSTEM, settings=settings, today=MONDAY)
    with pytest.raises(InvalidTransition, match="异议期至 2025-10-27 止"):
        service.decide(db_session, entry.id, decision_no="X1", answer=None, actor=SYSTEM, settings=settings,
                       today=date(2025, 10, 27))
    with pytest.raises(InvalidTransition, match="异议期已于 2025-10-27 届满"):
        service.record_objection(db_session, entry.id, text="逾期的异议内容", actor=SYSTEM, today=date(2025, 10, 28))
    assert entry.state is EntryState.NOTIFIED
    assert entry.objection is None
    assert entry.decision_no is None
    assert db_session.scalar(select(func.count()).select_from(ListEvent)) == events + 1


def test_withdraw_answers_the_objection(db_session, settings, protector, dept):
    entry = _propose(db_session, protector, dept)
    service.notify(db_session, entry.id, rights="自定义告知权利", actor=SYSTEM, settings=settings, today=MONDAY)
    service.record_objection(db_session, entry.id, text="处罚已被撤销，附复议决定书", actor=SYSTEM, today=MONDAY)
    service.withdraw(db_session, entry.id, reason="异议成立，处罚已被撤销，不予列入", actor=SYSTEM, today=date(2025, 10, 22))
    assert entry.state is EntryState.WITHDRAWN
    assert entry.objection_answer.startswith("异议成立")
    with pytest.raises(InvalidTransition, match="已结束"):
        service.notify(db_session, entry.id, rights=None, actor=SYSTEM, settings=settings, today=MONDAY)


def test_membership_filters_by_date_before_and_after_the_expiry_job(db_session, settings, protector, dept):
    subject_id = lf.subject(db_session, protector, 7)
    entry = lf.listed(db_session, settings, protector, dept, company_code(90007), today=MONDAY)
    assert [m.type_key for m in service.memberships(db_session, [subject_id], today=MONDAY)[subject_id]] == [
        "serious-dishonesty"]
    last_day = entry.valid_until
    after = date(last_day.year, last_day.month, last_day.day).fromordinal(last_day.toordinal() + 1)
    assert service.memberships(db_session, [subject_id], today=last_day)[subject_id]
    # the day after its last day it is gone, even though the job has not run
    assert not service.memberships(db_session, [subject_id], today=after).get(subject_id)
    assert entry.state is EntryState.PUBLISHED
    assert service.expire_due(db_session, today=last_day) == 0
    assert service.expire_due(db_session, today=after) == 1
    assert entry.state is EntryState.EXPIRED
    assert entry.ended_on == last_day
    assert service.expire_due(db_session, today=after) == 0  # idempotent
    assert _audit_actions(db_session, entry.id)[-1] == "list.expired"


def test_removal_needs_a_reason_and_the_listing_department(db_session, settings, protector, dept):
    lf.subject(db_session, protector, 8)
    entry = lf.listed(db_session, settings, protector, dept, company_code(90008), today=MONDAY)
    other = department(db_session, code=OTHER_DEPT_CODE, name="安吉县交通运输局")
    outsider = Actor(label="user:x", kind="user", permissions=frozenset({Permission.LISTS_DECIDE}),
                     department_id=other.id, is_department_bound=True)  # fmt: skip
    with pytest.raises(NotFound):  # another department's entry does not exist for it (as its batches, checks …)
        service.remove(db_session, entry.id, reason="已整改到位并履行义务", actor=outsider, today=MONDAY)
    with pytest.raises(InvalidInput, match="移出理由"):
        service.remove(db_session, entry.id, reason="", actor=SYSTEM, today=MONDAY)
    service.remove(db_session, entry.id, reason="已整改到位并履行义务，提前移出", actor=SYSTEM, today=MONDAY)
    assert entry.state is EntryState.REMOVED
    assert not service.memberships(db_session, [entry.subject_id], today=MONDAY).get(entry.subject_id)


def test_one_open_entry_per_subject_and_type(db_session, settings, protector, dept):
    _propose(db_session, protector, dept, n=9)
    with pytest.raises(Exception, match="未结束的名单记录"):
        _propose(db_session, protector, dept, n=9)


def test_imported_types_cannot_be_proposed(db_session, settings, protector, dept):
    with pytest.raises(InvalidInput, match="只能导入"):
        _propose(db_session, protector, dept, n=10, type_key="court-dishonest-debtors")


def test_a_type_without_legal_basis_cannot_be_created(db_session):
    spec = service.ListTypeSpec(key="no-basis", name="无依据名单", nature="dishonesty", origin="local", legal_basis=" ",
                                entry_criteria="任意", exit_conditions="任意", remedy_route="任意")  # fmt: skip
    with pytest.raises(InvalidInput, match="设立依据"):
        service.save_list_type(db_session, spec, actor=SYSTEM)
    assert db_session.scalar(select(func.count()).select_from(ListEntry)) == 0


def test_types_reload_is_audited_only_when_something_changed(db_session, dept):
    before = db_session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "list-type.saved"))
    lf.load_types(db_session)
    after = db_session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "list-type.saved"))
    assert before == after == 6
