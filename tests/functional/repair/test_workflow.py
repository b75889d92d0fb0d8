"""The whole repair path through the web: apply on the portal, accept and approve in the console, and the
record leaves the portal and the public API at once."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.fixtures.subject_accounts import PDF, PNG

from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.auth.service import actor_for_user
from xinyong.checks import service as checks_service
from xinyong.clock import today as china_today
from xinyong.errors import InvalidTransition, PermissionDenied
from xinyong.evidence.models import Evidence
from xinyong.notify import service as notify
from xinyong.notify.models import OutboxItem
from xinyong.repair import service
from xinyong.repair.models import RepairApplication, RepairCommitment, RepairEvent, RepairStatus
from xinyong.subjects.models import Subject
from xinyong.subjects.refs import record_ref

FORM = {"contact_name": "李经理", "contact_phone": "0572-5123456", "contact_email": "li@example.cn",
        "statement": "已于本月足额缴纳罚款并完成整改，附缴款凭证。", "signer_name": "张三", "agree": "1"}  # fmt: skip


def apply(portal, ref: str, files=None, **overrides):  # type: ignore[no-untyped-def]
    files = files if files is not None else [("evidence", ("缴款凭证.pdf", PDF, "application/pdf"))]
    return portal.post(f"/repair/apply/{ref}", data={**FORM, **overrides}, files=files)


def submitted(db_session, record) -> RepairApplication:  # type: ignore[no-untyped-def]
    return db_session.scalars(select(RepairApplication).where(RepairApplication.record_id == record.id)).one()


def _negative_in_check(db_session, subject, settings, protector) -> list[str]:  # type: ignore[no-untyped-def]
    document = checks_service.run_check(
        db_session, checks_service.CheckItem(code=subject.uscc), matter="行政审批", actor=Actor.system("test"),
        settings=settings, protector=protector, today=china_today(),
    )  # fmt: skip
    return [r["doc_no"] for r in document["negative_records"]]


def test_subject_applies_department_approves_and_publication_stops(
    client, db_session, accounts, sign_in, penalty, subject_account, portal_sign_in, protector, console_settings
):  # fmt: skip
    record = penalty()
    subject = db_session.get(Subject, record.subject_id)
    assert _negative_in_check(db_session, subject, console_settings, protector) == [record.doc_no]
    ref = record_ref(record.id, protector)
    assert record.doc_no in client.get(f"/subjects/{subject.uscc}?tab=penalty").text
    record_page = client.get(f"/records/{ref}").text
    assert "已满最短公示期，可申请信用修复" in record_page  # the partial on the record page

    portal = portal_sign_in(subject_account(record))
    home = portal.client.get("/account").text
    assert record.doc_no in home
    assert "申请信用修复" in home
    form = portal.client.get(f"/repair/apply/{ref}").text
    assert "信用修复承诺书" in form
    assert record.doc_no in form

    response = apply(portal, ref, files=[("evidence", ("缴款凭证.pdf", PDF, "application/pdf")),
                                         ("evidence", ("现场照片.png", PNG, "image/png"))])  # fmt: skip
    assert response.status_code == 303, response.text
    application = submitted(db_session, record)
    assert response.headers["location"] == f"/repair/applications/{application.number}"
    assert re.fullmatch(r"XF\d{8}[0-9A-Z]{6}", application.number)
    assert application.status == RepairStatus.SUBMITTED
    commitment = db_session.scalars(select(RepairCommitment)).one()
    assert commitment.signer_name == "张三"
    assert record.doc_no in commitment.text
    files = db_session.scalars(select(Evidence).where(Evidence.owner == f"repair:{application.id}")).all()
    assert sorted(f.display_name for f in files) == ["现场照片.png", "缴款凭证.pdf"]
    for row in files:
        assert (console_settings.upload_dir / "evidence" / row.stored_name).read_bytes() in (PDF, PNG)
    page = portal.client.get(f"/repair/applications/{application.number}").text
    assert "已提交，待受理" in page

    admin = sign_in(accounts.users["platform_admin"])  # the platform's step: 受理
    detail = admin.get(f"/admin/repairs/{application.id}")
    assert 'id="accept"' in detail.text
    assert 'id="approve"' not in detail.text
    assert admin.post(f"/admin/repairs/{application.id}/accept").status_code == 303
    db_session.refresh(application)
    assert application.status == RepairStatus.ACCEPTED
    assert application.department_due is not None

    reviewer = sign_in(accounts.users["reviewer"])  # the department's step: 审核决定
    queue = reviewer.get("/admin/repairs").text
    assert application.number in queue
    detail = reviewer.get(f"/admin/repairs/{application.id}")
    assert detail.status_code == 200
    assert "张三" in detail.text
    assert 'id="approve"' in detail.text
    evidence = reviewer.get(f"/admin/repairs/{application.id}/evidence/{files[0].id}")
    assert evidence.status_code == 200
    assert "attachment" in evidence.headers["content-disposition"]
    assert reviewer.post(f"/admin/repairs/{application.id}/approve", {"opinion": "材料齐全，同意修复"}).status_code == 303
    db_session.refresh(application)
    assert application.status == RepairStatus.APPROVED
    assert application.open_record_id is None

    client.cookies.clear()
    assert record.doc_no not in client.get(f"/subjects/{subject.uscc}?tab=penalty").text
    assert client.get(f"/records/{ref}").status_code == 404
    api = client.get(f"/api/v1/subjects/{subject.uscc}/records", params={"record_type": "penalty"}).json()
    assert api["total"] == 0
    assert client.get(f"/api/v1/subjects/{subject.uscc}").json()["counts"].get("penalty", 0) == 0
    assert _negative_in_check(db_session, subject, console_settings, protector) == []  # nor in credit checks

    actions = [e.action for e in db_session.scalars(select(AuditEntry).where(AuditEntry.target == f"repair:{application.id}").order_by(AuditEntry.seq))]
    assert actions == ["repair.submitted", "repair.accepted", "repair.approved"]
    history = [e.action for e in db_session.scalars(select(RepairEvent).where(RepairEvent.application_id == application.id).order_by(RepairEvent.id))]
    assert history == ["submit", "accept", "approve"]
    events = db_session.scalars(select(OutboxItem).where(OutboxItem.topic == "change.publication-stopped")).all()
    assert [e.payload["doc_no"] for e in events] == [record.doc_no]
    notify.deliver_pending(db_session, settings=console_settings, notifier=notify.ConsoleNotifier())
    lines = [json.loads(line) for line in console_settings.events_file.read_text().splitlines()]
    assert any(line["topic"] == "change.publication-stopped" and line["record_id"] == record.id for line in lines)


def test_other_departments_cannot_see_or_decide(db_session, accounts, sign_in, penalty, subject_account,
                                                portal_sign_in, protector):  # fmt: skip
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    assert apply(portal, record_ref(record.id, protector)).status_code == 303
    application = submitted(db_session, record)
    other = sign_in(accounts.users["reviewer_b"])
    assert other.get(f"/admin/repairs/{application.id}").status_code == 404
    assert application.number not in other.get("/admin/repairs").text
    other.post(f"/admin/repairs/{application.id}/accept")
    db_session.refresh(application)
    assert application.status == RepairStatus.SUBMITTED
    operator = sign_in(accounts.users["operator"])
    assert operator.post(f"/admin/repairs/{application.id}/accept").status_code == 403


def test_return_for_missing_material_then_resubmit_keeps_history(
    db_session, accounts, sign_in, penalty, subject_account, portal_sign_in, protector
):  # fmt: skip
    record = penalty()
    account = subject_account(record)
    portal = portal_sign_in(account)
    apply(portal, record_ref(record.id, protector))
    application = submitted(db_session, record)
    admin = sign_in(accounts.users["platform_admin"])
    admin.post(f"/admin/repairs/{application.id}/return", {"missing": "缺少罚款缴纳凭证原件扫描件"})
    db_session.refresh(application)
    assert application.status == RepairStatus.RETURNED
    portal = portal_sign_in(account)
    page = portal.client.get(f"/repair/applications/{application.number}").text
    assert "缺少罚款缴纳凭证原件扫描件" in page
    response = portal.post(f"/repair/applications/{application.number}/resubmit", {"statement": "补充缴款凭证原件"},
                           files=[("evidence", ("凭证原件.pdf", PDF, "application/pdf"))])  # fmt: skip
    assert response.status_code == 303
    db_session.refresh(application)
    assert application.status == RepairStatus.SUBMITTED
    assert application.round == 2
    rounds = sorted(e.round for e in db_session.scalars(select(Evidence).where(Evidence.owner == f"repair:{application.id}")))
    assert rounds == [1, 2]  # the first submission's material is kept
    history = [e.action for e in service.events(db_session, application)]
    assert history == ["submit", "return", "resubmit"]


def test_refusal_says_why_and_what_next(db_session, accounts, sign_in, penalty, subject_account, portal_sign_in,
                                        protector):  # fmt: skip
    record = penalty()
    account = subject_account(record)
    apply(portal_sign_in(account), record_ref(record.id, protector))
    application = submitted(db_session, record)
    sign_in(accounts.users["platform_admin"]).post(f"/admin/repairs/{application.id}/accept")
    reviewer = sign_in(accounts.users["reviewer"])
    reviewer.post(f"/admin/repairs/{application.id}/refuse", {"reason": "罚款尚未缴清", "next_steps": "缴清罚款后可重新申请"})
    db_session.refresh(application)
    assert application.status == RepairStatus.REFUSED
    assert application.open_record_id is None
    page = portal_sign_in(account).client.get(f"/repair/applications/{application.number}").text
    assert "罚款尚未缴清" in page
    assert "缴清罚款后可重新申请" in page
    messages = [i.payload["body"] for i in db_session.scalars(select(OutboxItem).where(OutboxItem.topic == "message"))]
    assert any("罚款尚未缴清" in m and "缴清罚款后可重新申请" in m for m in messages)
    # a refused application frees the record for a new one
    assert apply(portal_sign_in(account), record_ref(record.id, protector)).status_code == 303


def test_illegal_moves_raise_and_change_nothing(db_session, accounts, penalty, subject_account, console_settings,
                                                today):  # fmt: skip
    record = penalty()
    account = subject_account(record)
    application = service.submit_application(
        db_session, account=account, record_id=record.id, settings=console_settings, today=today,
        data=service.ApplicationInput("李经理", "13800000000", "", "已缴纳罚款，整改完毕。", "张三", True),
        files=[service.IncomingFile("a.pdf", PDF)],
    )  # fmt: skip
    actor = actor_for_user(accounts.users["reviewer"])
    with pytest.raises(InvalidTransition):
        service.approve_application(db_session, application.id, actor=actor, opinion="同意", today=today)
    assert application.status == RepairStatus.SUBMITTED
    assert not service.is_stopped(db_session, record.id)


def test_overdue_flagged_and_counted_per_department(db_session, accounts, sign_in, penalty, subject_account,
                                                    console_settings, today):  # fmt: skip
    record = penalty(days_ago=300)
    account = subject_account(record)
    long_ago = today - timedelta(days=40)
    application = service.submit_application(
        db_session, account=account, record_id=record.id, settings=console_settings, today=long_ago,
        data=service.ApplicationInput("李经理", "13800000000", "", "已缴纳罚款，整改完毕。", "张三", True),
        files=[service.IncomingFile("a.pdf", PDF)],
    )  # fmt: skip
    admin = actor_for_user(accounts.users["platform_admin"])
    service.accept_application(db_session, application.id, actor=admin, settings=console_settings, today=long_ago)
    db_session.commit()
    assert service.overdue_kind(application, today) == "department"
    assert service.overdue_by_department(db_session, admin, today=today) == [(accounts.dept_a.name, 1)]
    page = sign_in(accounts.users["platform_admin"]).get("/admin/repairs?overdue=1").text
    assert application.number in page
    assert "部门逾期" in page
    assert accounts.dept_a.name in page
    assert service.overdue_by_department(db_session, actor_for_user(accounts.users["reviewer_b"]), today=today) == []


def test_broken_commitment_restores_publication(client, db_session, accounts, sign_in, penalty, subject_account,
                                                portal_sign_in, protector):  # fmt: skip
    record = penalty()
    ref = record_ref(record.id, protector)
    apply(portal_sign_in(subject_account(record)), ref)
    application = submitted(db_session, record)
    sign_in(accounts.users["platform_admin"]).post(f"/admin/repairs/{application.id}/accept")
    reviewer = sign_in(accounts.users["reviewer"])
    reviewer.post(f"/admin/repairs/{application.id}/approve", {"opinion": "同意修复"})
    assert client.get(f"/records/{ref}").status_code == 404
    assert reviewer.post(f"/admin/repairs/{application.id}/restore", {"reason": "再次发生同类违法"}).status_code == 403
    admin = sign_in(accounts.users["platform_admin"])
    assert admin.post(f"/admin/repairs/{application.id}/restore", {"reason": "再次发生同类违法行为"}).status_code == 303
    db_session.refresh(application)
    assert application.status == RepairStatus.RESTORED
    client.cookies.clear()
    assert client.get(f"/records/{ref}").status_code == 200
    commitment = service.commitment_of(db_session, application)
    assert commitment is not None
    assert commitment.breached_at is not None
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "repair.commitment-broken")).one()
    assert entry.reason == "再次发生同类违法行为"
    assert entry.actor == "user:platform-admin"


def _staff(db_session, console_settings, username, role, department=None):  # type: ignore[no-untyped-def]
    from tests.fixtures.console import PASSWORD

    from xinyong.auth import service as auth_service

    user = auth_service.create_user(db_session, username=username, password=PASSWORD, role=role, department=department,
                                    display_name=username, actor=Actor.system("test"), settings=console_settings)  # fmt: skip
    db_session.commit()
    return user


def test_each_step_needs_its_own_role_and_body(db_session, accounts, sign_in, penalty, subject_account,
                                               portal_sign_in, protector):  # fmt: skip
    record = penalty()
    apply(portal_sign_in(subject_account(record)), record_ref(record.id, protector))
    application = submitted(db_session, record)

    reviewer = sign_in(accounts.users["reviewer"])
    refused = reviewer.post(f"/admin/repairs/{application.id}/accept")
    assert refused.status_code == 403
    assert "admin:repairs:accept" in refused.text
    early = reviewer.post(f"/admin/repairs/{application.id}/refuse", {"reason": "材料不全不予受理", "next_steps": "补齐后再申请"})
    assert early.status_code == 403
    assert "受理、退回补正和不予受理由信用办（平台）办理" in early.text
    auditor = sign_in(accounts.users["auditor"])
    assert auditor.post(f"/admin/repairs/{application.id}/refuse", {"reason": "理由理由", "next_steps": "措施措施"}
                        ).status_code == 403  # fmt: skip

    admin = sign_in(accounts.users["platform_admin"])
    assert admin.post(f"/admin/repairs/{application.id}/accept").status_code == 303
    for action, form in (("approve", {"opinion": "同意修复"}),
                         ("refuse", {"reason": "罚款尚未缴清", "next_steps": "缴清后再申请"})):  # fmt: skip
        response = admin.post(f"/admin/repairs/{application.id}/{action}", form)
        assert response.status_code == 403
    assert "信用修复的审核决定由数据来源部门的审核人员作出" in response.text
    db_session.refresh(application)
    assert application.status == RepairStatus.ACCEPTED
    assert not service.is_stopped(db_session, record.id)
    with pytest.raises(PermissionDenied, match="数据来源部门"):  # nor the platform itself, from a command or a job
        service.approve_application(db_session, application.id, actor=Actor.system("cli"), opinion="同意", today=china_today())


def test_one_person_cannot_take_both_steps_of_one_application(client, db_session, accounts, sign_in, penalty,
                                                              subject_account, portal_sign_in, protector,
                                                              console_settings):  # fmt: skip
    """The attack: one account accepted (the platform's step) and approved (the department's) a repair. Roles
    change; the rule follows the account: whoever took any platform step of this application (here a return for
    material, in an earlier round) cannot decide it, and the refusal is audited."""
    from xinyong.auth import service as auth_service
    from xinyong.auth.rules import Role

    record = penalty()
    account = subject_account(record)
    ref = record_ref(record.id, protector)
    apply(portal_sign_in(account), ref)
    application = submitted(db_session, record)
    zhang = _staff(db_session, console_settings, "zhang", Role.PLATFORM_ADMIN)
    sign_in(zhang).post(f"/admin/repairs/{application.id}/return", {"missing": "缺少罚款缴纳凭证原件扫描件"})
    portal_sign_in(account).post(f"/repair/applications/{application.number}/resubmit", {"statement": "补充缴款凭证原件"},
                                 files=[("evidence", ("凭证原件.pdf", PDF, "application/pdf"))])  # fmt: skip
    assert sign_in(accounts.users["platform_admin"]).post(f"/admin/repairs/{application.id}/accept").status_code == 303
    auth_service.update_user(db_session, zhang.id, actor=Actor.system("test"), role=Role.REVIEWER,
                             department=accounts.dept_a)  # fmt: skip
    db_session.commit()

    response = sign_in(zhang).post(f"/admin/repairs/{application.id}/approve", {"opinion": "材料齐全，同意修复"})

    assert response.status_code == 403
    assert ("同一工作人员不能办理同一信用修复申请的两个环节：您已办理过该申请的“平台受理（初审）”，"
            "“部门审核决定”须由其他工作人员办理") in response.text  # fmt: skip
    db_session.refresh(application)
    assert application.status == RepairStatus.ACCEPTED
    assert client.get(f"/records/{ref}").status_code == 200  # still published
    refusal = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "repair.same-official-refused")).one()
    assert (refusal.actor, refusal.target) == ("user:zhang", f"repair:{application.id}")
    assert refusal.details["step"] == "department"
    # another reviewer of the department decides
    reviewer = sign_in(accounts.users["reviewer"])
    assert reviewer.post(f"/admin/repairs/{application.id}/approve", {"opinion": "材料齐全，同意修复"}).status_code == 303
    users = [e.user_id for e in service.events(db_session, application)]
    assert users == [None, zhang.id, None, accounts.users["platform_admin"].id, accounts.users["reviewer"].id]
