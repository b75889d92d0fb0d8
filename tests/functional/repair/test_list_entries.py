"""Credit repair of a list entry (移出): the subject applies from its account page, the listing department
approves, and the entry leaves the list through the lists procedure the same day."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.factories import lists as lf
from tests.fixtures.subject_accounts import PDF

from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.lists import imports as lists_imports
from xinyong.lists import service as lists_service
from xinyong.lists.models import EntryState, ListEntry
from xinyong.notify.models import OutboxItem
from xinyong.repair.models import RepairApplication, RepairStatus
from xinyong.subjects.models import Subject

FORM = {"contact_name": "李经理", "contact_phone": "0572-5123456", "contact_email": "li@example.cn",
        "statement": "已全面履行义务并完成整改，附整改报告。", "signer_name": "张三", "agree": "1"}  # fmt: skip
FILES = [("evidence", ("整改报告.pdf", PDF, "application/pdf"))]


@pytest.fixture
def on_list(db_session, console_settings, protector, accounts, penalty, today):  # type: ignore[no-untyped-def]
    """A subject with a penalty (for its account) listed on 严重失信主体名单 `days_ago` days ago."""
    lf.load_types(db_session, accounts.dept_a)

    def make(days_ago: int = 400, type_key: str = "serious-dishonesty") -> ListEntry:
        record = penalty()
        subject = db_session.get(Subject, record.subject_id)
        entry = lf.listed(db_session, console_settings, protector, accounts.dept_a, subject.uscc,
                          today=today - timedelta(days=days_ago - 40), type_key=type_key)  # fmt: skip
        db_session.commit()
        return entry

    return make


def portal_for(entry, db_session, subject_account, portal_sign_in, penalty_of=None):  # type: ignore[no-untyped-def]
    from xinyong.records.models import Record

    record = db_session.scalars(select(Record).where(Record.subject_id == entry.subject_id)).first()
    return portal_sign_in(subject_account(record))


def apply(portal, entry_id: int, **overrides):  # type: ignore[no-untyped-def]
    return portal.post(f"/repair/apply-list/{entry_id}", data={**FORM, **overrides}, files=FILES)


def test_subject_applies_department_approves_and_the_entry_is_removed(
    client, db_session, on_list, subject_account, portal_sign_in, sign_in, accounts, today
):  # fmt: skip
    entry = on_list()
    subject = db_session.get(Subject, entry.subject_id)
    assert subject.name in client.get("/lists/public/serious-dishonesty").text
    portal = portal_for(entry, db_session, subject_account, portal_sign_in)
    home = portal.client.get("/account").text
    assert "严重失信主体名单" in home
    assert f"/repair/apply-list/{entry.id}" in home
    assert "申请移出" in home
    form = portal.client.get(f"/repair/apply-list/{entry.id}").text
    assert "信用修复承诺书" in form
    assert "安信列〔2025〕1号" in form

    response = apply(portal, entry.id)
    assert response.status_code == 303, response.text
    application = db_session.scalars(select(RepairApplication).where(RepairApplication.list_entry_id == entry.id)).one()
    assert application.record_id is None
    assert application.status == RepairStatus.SUBMITTED
    assert application.department_id == accounts.dept_a.id
    page = portal.client.get(f"/repair/applications/{application.number}").text
    assert "申请提前移出" in page
    assert f"修复申请 {application.number}" in portal.client.get("/account").text

    admin = sign_in(accounts.users["platform_admin"])  # the platform accepts (受理)
    assert "严重失信主体名单" in admin.get(f"/admin/repairs/{application.id}").text
    assert admin.post(f"/admin/repairs/{application.id}/accept").status_code == 303
    reviewer = sign_in(accounts.users["reviewer"])  # the listing department decides (谁列入、谁移出)
    assert reviewer.post(f"/admin/repairs/{application.id}/approve",
                         data={"opinion": "整改到位，同意移出"}).status_code == 303  # fmt: skip
    db_session.expire_all()
    assert db_session.get(RepairApplication, application.id).status == RepairStatus.APPROVED
    removed = db_session.get(ListEntry, entry.id)
    assert removed.state == EntryState.REMOVED
    assert removed.ended_on == today
    assert application.number in removed.exit_reason
    actions = {str(a) for a in db_session.scalars(select(AuditEntry.action)
                                                  .where(AuditEntry.target == f"list-entry:{entry.id}"))}  # fmt: skip
    assert any("remov" in a for a in actions), actions
    assert db_session.scalars(select(OutboxItem).where(OutboxItem.topic == "change.list-entry-removed")).first()
    # gone the same day: the public list, the subject's public profile and every credit check
    assert subject.name not in client.get("/lists/public/serious-dishonesty").text
    assert lists_service.memberships(db_session, [subject.id], today=today) == {}
    assert "申请移出" not in portal.client.get("/account").text


def test_refusal_keeps_the_entry(db_session, on_list, subject_account, portal_sign_in, sign_in, accounts, today):  # type: ignore[no-untyped-def]
    entry = on_list()
    portal = portal_for(entry, db_session, subject_account, portal_sign_in)
    assert apply(portal, entry.id).status_code == 303
    application = db_session.scalars(select(RepairApplication).where(RepairApplication.list_entry_id == entry.id)).one()
    sign_in(accounts.users["platform_admin"]).post(f"/admin/repairs/{application.id}/accept")
    reviewer = sign_in(accounts.users["reviewer"])
    reviewer.post(f"/admin/repairs/{application.id}/refuse",
                  data={"reason": "未提供整改完成的证明", "next_steps": "补齐材料后可再次申请"})  # fmt: skip
    db_session.expire_all()
    assert db_session.get(RepairApplication, application.id).status == RepairStatus.REFUSED
    assert db_session.get(ListEntry, entry.id).state == EntryState.PUBLISHED
    assert lists_service.memberships(db_session, [entry.subject_id], today=today)[entry.subject_id]
    # refused: the entry is free for a new application
    from xinyong.repair import service

    assert service.open_application_for_entry(db_session, entry.id) is None


def test_not_yet_eligible_is_refused_with_the_date(db_session, on_list, subject_account, portal_sign_in):  # type: ignore[no-untyped-def]
    entry = on_list(days_ago=100)  # 严重失信主体名单: one year on the list first
    portal = portal_for(entry, db_session, subject_account, portal_sign_in)
    home = portal.client.get("/account").text
    assert "列入未满 12 个月" in home
    assert f"/repair/apply-list/{entry.id}" not in home
    response = apply(portal, entry.id)
    assert response.status_code == 422
    assert "列入未满 12 个月" in response.text
    assert db_session.scalars(select(RepairApplication)).first() is None


def test_a_type_without_a_minimum_is_eligible_once_published(db_session, on_list, console_settings):  # type: ignore[no-untyped-def]
    from xinyong.repair import service

    entry = on_list(days_ago=41, type_key="watch")
    verdict = service.list_eligibility_of(db_session, entry, settings=console_settings, today=entry.valid_from)
    assert verdict.is_eligible
    blocked = console_settings.model_copy(update={"repair_list_not_repairable_types": ("watch",)})
    assert service.list_eligibility_of(db_session, entry, settings=blocked, today=entry.valid_from).code == \
        "not-repairable"  # fmt: skip


def test_twice_for_the_same_entry(db_session, on_list, subject_account, portal_sign_in):  # type: ignore[no-untyped-def]
    entry = on_list()
    portal = portal_for(entry, db_session, subject_account, portal_sign_in)
    assert apply(portal, entry.id).status_code == 303
    again = apply(portal, entry.id)
    assert again.status_code == 409
    assert "请勿重复申请" in again.text
    assert len(db_session.scalars(select(RepairApplication)).all()) == 1


def test_someone_elses_entry_does_not_exist(db_session, on_list, penalty, subject_account, portal_sign_in):  # type: ignore[no-untyped-def]
    entry = on_list()
    stranger = portal_sign_in(subject_account(penalty()))
    assert stranger.client.get(f"/repair/apply-list/{entry.id}").status_code == 404
    assert apply(stranger, entry.id).status_code == 404
    assert db_session.scalars(select(RepairApplication)).first() is None


def test_imported_list_sends_the_subject_to_the_deciding_body(
    db_session, penalty, accounts, protector, subject_account, portal_sign_in, today
):  # fmt: skip
    lf.load_types(db_session, accounts.dept_a)
    record = penalty()
    subject = db_session.get(Subject, record.subject_id)
    outcome = lists_imports.import_list_rows(db_session, [{
        "主体名称": subject.name, "统一社会信用代码": subject.uscc, "案号": "（2025）浙0523执123号",
        "列入日期": (today - timedelta(days=500)).isoformat(), "列入事由": "有履行能力而拒不履行生效法律文书确定义务",
    }], type_key="court-dishonest-debtors", department=accounts.dept_a, actor=Actor.system("test"),
        protector=protector, today=today)  # fmt: skip
    assert outcome.created == 1, outcome
    db_session.commit()
    entry = db_session.scalars(select(ListEntry).where(ListEntry.subject_id == subject.id)).one()
    portal = portal_sign_in(subject_account(record))
    home = portal.client.get("/account").text
    assert "失信被执行人名单" in home
    assert "人民法院" in home
    assert f"/repair/apply-list/{entry.id}" not in home
    response = apply(portal, entry.id)
    assert response.status_code == 422
    assert "本平台不受理移出申请，请向人民法院申请" in response.text
    assert db_session.scalars(select(RepairApplication)).first() is None


def test_one_target_is_enforced_by_the_database(db_session, penalty, accounts, today):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import IntegrityError

    record = penalty()
    row = RepairApplication(number="XF00000000TEST01", subject_id=record.subject_id, department_id=accounts.dept_a.id,
                            status=RepairStatus.SUBMITTED, contact_name="李", contact_phone="0572-5123456",
                            statement="x", submitted_on=today, platform_due=today)  # fmt: skip
    db_session.add(row)
    with pytest.raises(IntegrityError):
        db_session.flush()


def test_one_person_cannot_accept_and_decide_an_early_removal(db_session, on_list, subject_account, portal_sign_in,
                                                               sign_in, accounts, console_settings, today):  # type: ignore[no-untyped-def]
    from tests.fixtures.console import PASSWORD

    from xinyong.auth import service as auth_service
    from xinyong.auth.rules import Role

    entry = on_list()
    assert apply(portal_for(entry, db_session, subject_account, portal_sign_in), entry.id).status_code == 303
    application = db_session.scalars(select(RepairApplication).where(RepairApplication.list_entry_id == entry.id)).one()
    wang = auth_service.create_user(db_session, username="wang", password=PASSWORD, role=Role.PLATFORM_ADMIN,
                                    department=None, display_name="王", actor=Actor.system("test"),
                                    settings=console_settings)  # fmt: skip
    db_session.commit()
    assert sign_in(wang).post(f"/admin/repairs/{application.id}/accept").status_code == 303
    auth_service.update_user(db_session, wang.id, actor=Actor.system("test"), role=Role.REVIEWER,
                             department=accounts.dept_a)  # fmt: skip
    db_session.commit()

    response = sign_in(wang).post(f"/admin/repairs/{application.id}/approve", data={"opinion": "整改到位，同意移出"})

    assert response.status_code == 403
    assert "同一工作人员不能办理同一信用修复申请的两个环节" in response.text
    db_session.expire_all()
    assert db_session.get(ListEntry, entry.id).state == EntryState.PUBLISHED
    assert lists_service.memberships(db_session, [entry.subject_id], today=today)[entry.subject_id]
    assert db_session.scalars(select(AuditEntry.target).where(AuditEntry.action == "repair.same-official-refused")
                              ).all() == [f"repair:{application.id}"]  # fmt: skip
