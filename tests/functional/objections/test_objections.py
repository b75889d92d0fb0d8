"""Objections: filed on the portal, marked "异议处理中" while open, answered by the owning department."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.fixtures.subject_accounts import PDF

from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.errors import PermissionDenied
from xinyong.notify.models import OutboxItem
from xinyong.objections import service
from xinyong.objections.models import Objection, ObjectionStatus
from xinyong.records import service as records_service
from xinyong.records.models import RecordStatus
from xinyong.subjects.models import Subject
from xinyong.subjects.refs import record_ref

FORM = {"ground": "wrong-data", "reason": "罚款金额应为一千元，决定书记载有误，附决定书复印件。",
        "contact_name": "李经理", "contact_phone": "13800000000"}  # fmt: skip


def file(portal, ref, **overrides):  # type: ignore[no-untyped-def]
    return portal.post(f"/objections/file/{ref}", {**FORM, **overrides},
                       files=[("evidence", ("决定书.pdf", PDF, "application/pdf"))])  # fmt: skip


def test_objection_marks_the_record_and_ends_in_a_correction(
    client, db_session, accounts, sign_in, penalty, subject_account, portal_sign_in, protector, console_settings, today
):  # fmt: skip
    record = penalty(CF_SY="经查，当事人未按规定公示年度报告（原文有误）。")
    subject = db_session.get(Subject, record.subject_id)
    ref = record_ref(record.id, protector)
    account = subject_account(record)
    portal = portal_sign_in(account)
    assert "提出异议" in portal.client.get("/account").text
    response = file(portal, ref)
    assert response.status_code == 303
    objection = db_session.scalars(select(Objection)).one()
    assert objection.status == ObjectionStatus.OPEN
    assert objection.due_on > today
    assert response.headers["location"] == f"/objections/{objection.number}"

    client.cookies.clear()
    assert "异议处理中" in client.get(f"/subjects/{subject.uscc}?tab=penalty").text
    assert "异议处理中" in client.get(f"/records/{ref}").text
    items = client.get(f"/api/v1/subjects/{subject.uscc}/records?record_type=penalty").json()["items"]
    assert [item["under_review"] for item in items] == [True]  # the public API says so too

    reviewer = sign_in(accounts.users["reviewer"])
    assert objection.number in reviewer.get("/admin/objections").text
    reviewer.post(f"/admin/objections/{objection.id}/decide", {"outcome": "correct", "reason": "核实后更正"})
    db_session.refresh(objection)
    assert objection.status == ObjectionStatus.OPEN  # nothing was corrected yet

    corrected = {**record.payload, "CF_SY": "经查，当事人未按规定公示年度报告。", "CF_XDR_SHXYM": subject.uscc,
                 "CF_XDR_LB": "法人及非法人组织"}  # fmt: skip
    result = records_service.import_rows(db_session, [corrected], settings=console_settings, protector=protector,
                                         record_type="penalty", department=accounts.dept_a, actor="test", today=today)  # fmt: skip
    assert result.updated == 1, result
    detail = reviewer.get(f"/admin/objections/{objection.id}").text
    assert "CF_SY" in detail
    assert "原文有误" in detail
    assert reviewer.post(f"/admin/objections/{objection.id}/decide",
                         {"outcome": "correct", "reason": "经核实，违法事实表述有误，已更正"}).status_code == 303  # fmt: skip
    db_session.refresh(objection)
    assert objection.status == ObjectionStatus.CORRECTED
    assert objection.open_record_id is None

    client.cookies.clear()
    page = client.get(f"/records/{ref}").text
    assert "异议处理中" not in page
    assert "原文有误" not in page
    assert "经查，当事人未按规定公示年度报告。" in page
    messages = [i.payload for i in db_session.scalars(select(OutboxItem).where(OutboxItem.topic == "message"))]
    assert any(objection.number in m["title"] and "已更正" in m["body"] for m in messages)
    actions = [e.action for e in db_session.scalars(select(AuditEntry).where(AuditEntry.target == f"objection:{objection.id}").order_by(AuditEntry.seq))]
    assert actions == ["objection.filed", "objection.decided"]


def test_revoke_and_uphold(client, db_session, accounts, sign_in, penalty, subject_account, portal_sign_in, protector):
    first, second = penalty(), penalty()
    portal = portal_sign_in(subject_account(first))
    file(portal, record_ref(first.id, protector))
    portal = portal_sign_in(subject_account(second))
    file(portal, record_ref(second.id, protector), ground="not-publishable")
    one, two = db_session.scalars(select(Objection).order_by(Objection.id)).all()
    reviewer = sign_in(accounts.users["reviewer"])
    reviewer.post(f"/admin/objections/{one.id}/decide", {"outcome": "revoke", "reason": "主体认定错误，撤销"})
    reviewer.post(f"/admin/objections/{two.id}/decide", {"outcome": "uphold", "reason": "经核实记录无误"})
    db_session.refresh(one)
    db_session.refresh(two)
    db_session.refresh(first)
    assert one.status == ObjectionStatus.REVOKED
    assert first.status == RecordStatus.REVOKED
    assert "异议成立" in (first.revoke_reason or "")
    assert two.status == ObjectionStatus.UPHELD
    assert two.decision_reason == "经核实记录无误"
    client.cookies.clear()
    assert client.get(f"/records/{record_ref(first.id, protector)}").status_code == 404
    assert client.get(f"/records/{record_ref(second.id, protector)}").status_code == 200


def test_bad_objections(db_session, accounts, sign_in, penalty, subject_account, portal_sign_in, protector):
    mine, theirs = penalty(), penalty()
    portal = portal_sign_in(subject_account(mine))
    assert file(portal, record_ref(theirs.id, protector)).status_code == 404
    assert "请选择异议类型" in file(portal, record_ref(mine.id, protector), ground="<script>").text
    assert "至少" in file(portal, record_ref(mine.id, protector), reason="错").text
    assert file(portal, record_ref(mine.id, protector), reason="<script>alert(1)</script>这条记录的金额不对").status_code == 303
    again = file(portal, record_ref(mine.id, protector))
    assert again.status_code == 409
    assert "请勿重复提出" in again.text
    objection = db_session.scalars(select(Objection)).one()
    page = portal.client.get(f"/objections/{objection.number}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    other = sign_in(accounts.users["reviewer_b"])
    assert other.get(f"/admin/objections/{objection.id}").status_code == 404
    other.post(f"/admin/objections/{objection.id}/decide", {"outcome": "uphold", "reason": "越权处理"})
    reviewer = sign_in(accounts.users["reviewer"])
    reviewer.post(f"/admin/objections/{objection.id}/decide", {"outcome": "uphold", "reason": ""})
    db_session.refresh(objection)
    assert objection.status == ObjectionStatus.OPEN
    assert sign_in(accounts.users["operator"]).post(f"/admin/objections/{objection.id}/decide",
                                                    {"outcome": "uphold", "reason": "无权"}).status_code == 403  # fmt: skip


def test_subject_withdraws(db_session, penalty, subject_account, portal_sign_in, protector):
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    file(portal, record_ref(record.id, protector))
    objection = db_session.scalars(select(Objection)).one()
    assert portal.post(f"/objections/{objection.number}/withdraw").status_code == 303
    db_session.refresh(objection)
    assert objection.status == ObjectionStatus.WITHDRAWN
    assert objection.open_record_id is None


def test_the_platform_alone_cannot_take_a_penalty_off_through_an_objection(client, db_session, accounts, sign_in,
                                                                           penalty, subject_account, portal_sign_in,
                                                                           protector, today):  # fmt: skip
    """An objection is answered by the department that owns the record: neither the 信用办's console nor the
    platform itself (a command, a job) corrects, revokes or upholds it."""
    record = penalty()
    file(portal_sign_in(subject_account(record)), record_ref(record.id, protector))
    objection = db_session.scalars(select(Objection)).one()
    admin = sign_in(accounts.users["platform_admin"])
    assert 'name="outcome"' not in admin.get(f"/admin/objections/{objection.id}").text

    response = admin.post(f"/admin/objections/{objection.id}/decide", {"outcome": "revoke", "reason": "平台直接撤销"})

    assert response.status_code == 403
    assert "admin:objections:decide" in response.text
    with pytest.raises(PermissionDenied, match="异议由数据来源部门的审核人员核实处理"):
        service.decide_objection(db_session, objection.id, actor=Actor.system("cli"), outcome="revoke",
                                 reason="平台直接撤销", today=today)  # fmt: skip
    db_session.refresh(record)
    assert (objection.status, record.status) == (ObjectionStatus.OPEN, RecordStatus.ACTIVE)
    client.cookies.clear()
    assert client.get(f"/records/{record_ref(record.id, protector)}").status_code == 200
