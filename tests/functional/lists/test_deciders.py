"""谁认定、谁列入: a list type names its deciding departments (imported lists: the departments through which
they arrive from their declared source); a type that names none accepts no entries; the 信用办 sets them per
install, audited; changing them is not retroactive."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from tests.factories import lists as lf
from tests.factories.records import OTHER_DEPT_CODE, company_code, department

from xinyong.audit.models import AuditEntry
from xinyong.auth.rules import Actor, Permission
from xinyong.errors import InvalidInput, NotFound, PermissionDenied
from xinyong.lists import imports, service
from xinyong.lists.models import EntryState

SYSTEM = lf.SYSTEM
MONDAY = date(2025, 10, 20)
COURT_ROW = {"主体名称": "安吉县被执行测试有限公司", "统一社会信用代码": company_code(77), "案号": "（2025）浙0523执77号",
             "列入日期": "2025-09-01", "列入事由": "有履行能力而拒不履行生效法律文书确定义务"}  # fmt: skip


def _propose(db_session, protector, dept, n=1, type_key="serious-dishonesty", today=MONDAY):  # type: ignore[no-untyped-def]
    lf.subject(db_session, protector, n)
    return service.propose(db_session, type_key=type_key, subject_code=company_code(90000 + n),
                           reasons="多次严重违法经营，情节严重", basis=None, department=dept, actor=SYSTEM,
                           protector=protector, today=today)  # fmt: skip


def _import_court(db_session, protector, dept):  # type: ignore[no-untyped-def]
    return imports.import_list_rows(db_session, [COURT_ROW], type_key="court-dishonest-debtors", department=dept,
                                    actor=SYSTEM, protector=protector, today=MONDAY)  # fmt: skip


@pytest.fixture
def market(db_session):  # type: ignore[no-untyped-def]
    """A market regulator, and the built-in types as they are after `load-types`: no deciding departments."""
    dept = department(db_session)
    lf.load_types(db_session)
    return dept


def test_a_type_naming_no_department_accepts_no_entry(db_session, protector, market):
    assert all(t.deciding_departments == [] for t in service.list_types(db_session))
    with pytest.raises(PermissionDenied, match="“严重失信主体名单”尚未设置认定部门，不接受列入或导入"):
        _propose(db_session, protector, market)
    with pytest.raises(PermissionDenied, match="xinyong lists set-deciders court-dishonest-debtors"):
        _import_court(db_session, protector, market)


def test_only_a_named_department_lists_and_an_import_only_from_the_declared_source(db_session, protector, market):
    tax = department(db_session, code=OTHER_DEPT_CODE, name="国家税务总局安吉县税务局")
    service.set_deciding_departments(db_session, "serious-dishonesty", codes=[market.code], actor=SYSTEM)
    service.set_deciding_departments(db_session, "major-tax-dishonesty", codes=[tax.code], actor=SYSTEM)
    service.set_deciding_departments(db_session, "court-dishonest-debtors", codes=[tax.code], actor=SYSTEM)

    assert _propose(db_session, protector, market).state is EntryState.PROPOSED
    with pytest.raises(PermissionDenied, match="国家税务总局安吉县税务局不是“严重失信主体名单”的认定部门"):
        _propose(db_session, protector, tax, n=2)
    with pytest.raises(PermissionDenied, match="只接受其声明来源（人民法院）的名单；安吉县市场监督管理局不是该名单的来源部门"):
        _import_court(db_session, protector, market)
    with pytest.raises(PermissionDenied, match="只接受其声明来源（税务机关）"):
        imports.import_list_rows(db_session, [COURT_ROW], type_key="major-tax-dishonesty", department=market,
                                 actor=SYSTEM, protector=protector, today=MONDAY)  # fmt: skip
    assert _import_court(db_session, protector, tax).created == 1


def test_setting_deciders_is_audited_checked_and_kept_by_a_reload(db_session, market):
    with pytest.raises(NotFound, match="xinyong departments add"):
        service.set_deciding_departments(db_session, "watch", codes=[OTHER_DEPT_CODE], actor=SYSTEM)
    with pytest.raises(InvalidInput, match="认定部门代码“12345”有误"):
        service.set_deciding_departments(db_session, "watch", codes=["12345"], actor=SYSTEM)
    operator = Actor(label="user:op", kind="user", permissions=frozenset({Permission.LISTS_WRITE}),
                     department_id=market.id, is_department_bound=True, user_id=1)  # fmt: skip
    with pytest.raises(PermissionDenied, match="admin:list-types:write"):
        service.set_deciding_departments(db_session, "watch", codes=[market.code], actor=operator)

    service.set_deciding_departments(db_session, "watch", codes=[market.code.lower()], actor=SYSTEM)
    lf.load_types(db_session)  # the built-in file states no deciders: what the install set stays

    assert service.get_type(db_session, "watch").deciding_departments == [market.code]
    entries = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "list-type.deciders-set")).all()
    assert [(e.target, e.details) for e in entries] == [("list-type:watch", {"before": [], "after": [market.code]})]
    service.set_deciding_departments(db_session, "watch", codes=[market.code], actor=SYSTEM)  # unchanged: no entry
    service.set_deciding_departments(db_session, "watch", codes=[], actor=SYSTEM)  # closed to new entries
    assert service.get_type(db_session, "watch").deciding_departments == []
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "list-type.deciders-set")).all()[-1].details \
        == {"before": [market.code], "after": []}  # fmt: skip


def test_a_types_file_may_name_deciders_and_an_imported_type_must_name_its_source(db_session, market, tmp_path):
    common = ('legal_basis = "《某条例》第十条"\nentry_criteria = "认定标准"\nexit_conditions = "移出条件"\n'
              'remedy_route = "救济途径"\n')  # fmt: skip
    path = tmp_path / "types.toml"
    path.write_text(f'[[types]]\nkey = "local-x"\nname = "某名单"\nnature = "watch"\n{common}'
                    f'deciding_departments = ["{market.code}"]\n', encoding="utf-8")  # fmt: skip
    [saved] = service.load_types_file(db_session, path, actor=SYSTEM)
    assert saved.deciding_departments == [market.code]

    path.write_text(f'[[types]]\nkey = "imported-x"\nname = "外部名单"\nnature = "dishonesty"\norigin = "imported"\n'
                    f'{common}', encoding="utf-8")  # fmt: skip
    with pytest.raises(InvalidInput, match="须写明认定机关（source）"):
        service.load_types_file(db_session, path, actor=SYSTEM)


def test_changing_deciders_is_not_retroactive(db_session, settings, protector, market):
    """The former decider's published entry stays in force and is still its own to remove (谁列入、谁移出);
    its pending proposal can no longer be decided, only withdrawn; it cannot propose again."""
    service.set_deciding_departments(db_session, "serious-dishonesty", codes=[market.code], actor=SYSTEM)
    lf.subject(db_session, protector, 5)
    published = lf.listed(db_session, settings, protector, market, company_code(90005), today=MONDAY)
    pending = _propose(db_session, protector, market, n=6, today=MONDAY - timedelta(days=30))
    service.notify(db_session, pending.id, rights=None, actor=SYSTEM, settings=settings, today=MONDAY - timedelta(days=30))
    other = department(db_session, code=OTHER_DEPT_CODE, name="安吉县交通运输局")

    service.set_deciding_departments(db_session, "serious-dishonesty", codes=[other.code], actor=SYSTEM)

    assert published.state is EntryState.PUBLISHED
    assert service.memberships(db_session, [published.subject_id], today=MONDAY)[published.subject_id]
    with pytest.raises(PermissionDenied, match="不是“严重失信主体名单”的认定部门"):
        service.decide(db_session, pending.id, decision_no="安信列〔2025〕9号", answer=None, actor=SYSTEM,
                       settings=settings, today=MONDAY)  # fmt: skip
    assert pending.state is EntryState.NOTIFIED
    service.withdraw(db_session, pending.id, reason="认定部门已调整，不予列入", actor=SYSTEM, today=MONDAY)
    service.remove(db_session, published.id, reason="整改到位，提前移出", actor=SYSTEM, today=MONDAY)
    assert (pending.state, published.state) == (EntryState.WITHDRAWN, EntryState.REMOVED)
    with pytest.raises(PermissionDenied):
        _propose(db_session, protector, market, n=7)


def test_a_deactivated_department_lists_nothing(db_session, protector, market):
    from xinyong.departments import service as departments_service

    service.set_deciding_departments(db_session, "serious-dishonesty", codes=[market.code], actor=SYSTEM)
    departments_service.set_department_active(db_session, market.id, is_active=False, actor=SYSTEM)
    with pytest.raises(PermissionDenied, match="安吉县市场监督管理局已停用"):
        _propose(db_session, protector, market)
