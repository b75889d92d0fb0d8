"""A deactivated department: everything of it stops except reading its own history. Its keys are refused, and
its accounts keep only the read permissions (settled once, where a console account becomes an actor), so every
revocation, list notice, credit check and reveal is refused wherever it is asked."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from tests.factories import lists as lf
from tests.factories.checks import TODAY, make_world
from tests.factories.records import ON_TIME, company_code
from tests.functional.records.test_checks import person_row

from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.departments import service as departments_service
from xinyong.lists import service as lists_service
from xinyong.lists.models import EntryState, ListEntry
from xinyong.records import service as records_service
from xinyong.records.models import Record, RecordStatus
from xinyong.web.deps import get_today

SYSTEM = Actor.system("test")
BANNER = "本部门已停用，仅可查看历史数据"


@dataclass
class Closed:
    record: Record  # a penalty of the department, about a natural person (restricted ID number)
    entry: ListEntry  # a proposal of the department, not yet notified
    listed_code: str
    key: dict[str, str]


@pytest.fixture
def closed(app, accounts, db_session, console_settings, protector) -> Closed:  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_today] = lambda: TODAY
    world = make_world(db_session, console_settings, protector, accounts.dept_a)
    row = person_row()
    records_service.import_rows(db_session, [row], settings=console_settings, protector=protector,
                                record_type="penalty", department=accounts.dept_a, actor="test", today=ON_TIME)  # fmt: skip
    record = db_session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
    lf.subject(db_session, protector, 640)
    entry = lists_service.propose(db_session, type_key="serious-dishonesty", subject_code=company_code(90640),
                                  reasons="多次严重违法经营，情节严重", basis=None, department=accounts.dept_a,
                                  actor=SYSTEM, protector=protector, today=TODAY)  # fmt: skip
    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="业务系统",
                                                 scopes=["api:records:write", "api:records:read", "api:checks:write",
                                                         "api:lists:write"])  # fmt: skip
    departments_service.set_department_active(db_session, accounts.dept_a.id, is_active=False, actor=SYSTEM)
    db_session.commit()
    return Closed(record, entry, world.listed_code, {"Authorization": f"Bearer {token}"})


def _audited(db_session, action: str) -> int:  # type: ignore[no-untyped-def]
    return len(db_session.scalars(select(AuditEntry.id).where(AuditEntry.action == action)).all())


def test_its_keys_stop_working(client, closed):  # type: ignore[no-untyped-def]
    calls = [
        ("/api/v1/records/penalty/batch", {"rows": [person_row(CF_WSH="新-1")]}),
        ("/api/v1/records/penalty/revoke", {"doc_no": closed.record.doc_no, "reason": "撤销测试"}),
        ("/api/v1/checks", {"code": closed.listed_code, "matter": "政府采购"}),
        ("/api/v1/lists/court-dishonest-debtors/entries", {"rows": [{"名称": "某公司"}]}),
    ]
    for path, body in calls:
        response = client.post(path, json=body, headers=closed.key)
        assert response.status_code == 401, path
        assert response.json()["error"]["message"] == "该部门已停用", path
    assert client.get("/api/v1/batches/1", headers=closed.key).status_code == 401


def test_its_accounts_sign_in_to_read_their_history(closed, accounts, sign_in):  # type: ignore[no-untyped-def]
    operator = sign_in(accounts.users["operator"])
    dashboard = operator.get("/admin")
    assert dashboard.status_code == 200
    assert BANNER in dashboard.text
    assert "上传文件" not in dashboard.text  # no way in to what it may no longer do
    for page in ("/admin/batches", f"/admin/records?doc_no={closed.record.doc_no}", "/admin/lists",
                 f"/admin/lists/{closed.entry.id}", "/admin/checks"):  # fmt: skip
        response = operator.get(page)
        assert response.status_code == 200, page
        assert BANNER in response.text
    assert closed.record.doc_no in operator.get(f"/admin/records?doc_no={closed.record.doc_no}").text
    assert operator.get("/admin/upload").status_code == 403


def test_revoke_is_refused(closed, accounts, sign_in, db_session):  # type: ignore[no-untyped-def]
    operator = sign_in(accounts.users["operator"])

    response = operator.post(f"/admin/records/{closed.record.id}/revoke", {"reason": "部门停用后撤销"})

    assert response.status_code == 403
    assert (f"{accounts.dept_a.name}已停用，本账户仅可查看历史数据，不能执行此操作（需要 admin:records:write 权限）"
            in response.text)  # fmt: skip
    db_session.refresh(closed.record)
    assert closed.record.status == RecordStatus.ACTIVE
    assert _audited(db_session, "record.revoked") == 0


def test_what_the_role_never_had_is_refused_as_for_any_account(closed, accounts, sign_in):  # type: ignore[no-untyped-def]
    operator = sign_in(accounts.users["operator"])

    response = operator.get("/admin/users")  # an operator never manages accounts, active department or not

    assert response.status_code == 403
    assert "无权执行此操作（需要 admin:users:read 权限）" in response.text
    assert "不能执行此操作" not in response.text


def test_notifying_a_list_subject_is_refused(closed, accounts, sign_in, db_session):  # type: ignore[no-untyped-def]
    operator = sign_in(accounts.users["operator"])
    notices = _audited(db_session, "list.notified")

    response = operator.post(f"/admin/lists/{closed.entry.id}/notify", {"rights": ""})

    assert response.status_code == 403
    assert "admin:lists:write" in response.text
    db_session.refresh(closed.entry)
    assert closed.entry.state is EntryState.PROPOSED
    assert _audited(db_session, "list.notified") == notices


def test_credit_checks_are_refused_in_the_console_and_the_api(client, closed, accounts, sign_in, db_session):  # type: ignore[no-untyped-def]
    from xinyong.checks.models import CreditCheck

    body = {"code": closed.listed_code, "matter": "政府采购"}
    for who in ("operator", "reviewer"):
        browser = sign_in(accounts.users[who])
        console = browser.post("/admin/checks", body)
        assert console.status_code == 403
        assert "admin:checks:write" in console.text
        api = client.post("/api/v1/checks", json=body, headers={"X-CSRF-Token": browser.csrf})
        assert api.status_code == 403
        assert api.json()["error"]["code"] == "department-deactivated"
        assert "已停用" in api.json()["error"]["message"]
        assert "admin:checks:write" in api.json()["error"]["message"]
    assert db_session.scalars(select(CreditCheck.id)).first() is None


def test_revealing_a_restricted_field_is_refused(closed, accounts, sign_in, db_session):  # type: ignore[no-untyped-def]
    reviewer = sign_in(accounts.users["reviewer"])
    assert reviewer.get(f"/admin/subjects/{closed.record.subject_id}").status_code == 200

    response = reviewer.post(f"/admin/subjects/{closed.record.subject_id}/reveal", {"reason": "核实当事人身份"})

    assert response.status_code == 403
    assert "admin:subjects:reveal" in response.text
    assert _audited(db_session, "subject.revealed") == 0


def test_reactivated_the_department_works_again(closed, accounts, sign_in, db_session):  # type: ignore[no-untyped-def]
    departments_service.set_department_active(db_session, accounts.dept_a.id, is_active=True, actor=SYSTEM)
    db_session.commit()
    reviewer = sign_in(accounts.users["reviewer"])
    assert BANNER not in reviewer.get("/admin").text
    response = reviewer.post(f"/admin/subjects/{closed.record.subject_id}/reveal", {"reason": "核实当事人身份"})
    assert response.status_code == 200
    assert _audited(db_session, "subject.revealed") == 1
