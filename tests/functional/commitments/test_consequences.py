"""What the issue asks beyond the making and the import: a serious negative record alone refuses 告知承诺 in a
credit check; public visibility ends with the commitment's validity, and for a broken one with its 违诺
publicity period (the day passed in, no waiting); an objection to a commitment record is filed and reaches the
accepting department's queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.factories import records as rf
from tests.fixtures.subject_accounts import PDF
from tests.functional.commitments.conftest import KEY, days_ago, dept_row, record_of

from xinyong.commitments import service
from xinyong.departments import service as departments_service
from xinyong.objections.models import Objection, ObjectionStatus
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.records.rules import add_months
from xinyong.subjects.refs import record_ref
from xinyong.web.deps import get_today

NOTICE = "告知承诺适用"


def _penalty(db_session, settings, protector, dept, today, **overrides):  # type: ignore[no-untyped-def]
    row = rf.penalty_row(CF_JDRQ=days_ago(today, 30).isoformat(), CF_CFJG=dept.name, CF_CFJGDM=dept.code,
                         CF_SJLY=dept.name, CF_SJLYDM=dept.code, **overrides)  # fmt: skip
    result = records_service.import_rows(db_session, [row], settings=settings, protector=protector,
                                         record_type="penalty", department=dept, actor="test", today=today)  # fmt: skip
    assert result.rejected == 0, result
    db_session.commit()
    return db_session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()


def _check(client, token, code, matter=NOTICE):  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/checks", json={"code": code, "matter": matter},
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["extras"]["commitments"]


def test_a_serious_record_alone_refuses_notice_commitment(  # type: ignore[no-untyped-def]
    client, db_session, accounts, console_settings, protector, today, sign_in
):
    serious = _penalty(db_session, console_settings, protector, accounts.dept_a, today, CF_CFLB="罚款;吊销许可证件",
                       CF_NR="罚款人民币伍仟元整，吊销食品经营许可证", CF_NR_FK="0.5")  # fmt: skip
    ordinary = _penalty(db_session, console_settings, protector, accounts.dept_a, today)
    assert serious.tier == "严重"
    assert ordinary.tier != "严重"
    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_b, name="审批系统",
                                                 scopes=["api:checks:write"])  # fmt: skip
    db_session.commit()

    found = _check(client, token, serious.payload["CF_XDR_SHXYM"])
    assert found["broken"] == []  # no commitment at all: the serious record is the reason
    verdict = found["notice_commitment"]
    assert verdict["allowed"] is False
    assert "严重失信记录" in verdict["reason"]
    assert "违诺" not in verdict["reason"]
    assert "信用修复" in verdict["repair_route"]
    assert "42号" in verdict["basis"]
    # 一般 is not serious: 告知承诺 stays open
    assert _check(client, token, ordinary.payload["CF_XDR_SHXYM"])["notice_commitment"]["allowed"] is True
    # the console's check page says the same to a department
    other = sign_in(accounts.users["operator_b"])
    response = other.post("/admin/checks", {"matter": NOTICE, "code": serious.payload["CF_XDR_SHXYM"]})
    assert response.status_code == 303, response.text
    page = other.get(response.headers["location"]).text
    assert "不适用告知承诺" in page
    assert "严重失信记录" in page
    # through the service, the day matters: once the serious record's publicity has ended, it no longer refuses
    later = serious.publish_until + timedelta(days=1)
    subject_id = serious.subject_id
    cfg = service.config(console_settings)
    now = service.broken_for_check(db_session, [subject_id], settings=console_settings, department_id=None, today=today)
    assert service.notice_commitment_verdict(now[subject_id], cfg)["allowed"] is False
    then = service.broken_for_check(db_session, [subject_id], settings=console_settings, department_id=None, today=later)
    assert service.notice_commitment_verdict(then.get(subject_id, service.SubjectCommitments()), cfg)["allowed"] is True


def _published(client, db_session, settings, row, day):  # type: ignore[no-untyped-def]
    """Whether the commitment shows on `day`: the public API, the subject's page, the type's listing, and the
    public credit report's reading (`published_for_subject`) must agree."""
    client.app.dependency_overrides[get_today] = lambda: day
    code, uscc = row["承诺编码"], row["统一社会信用代码"]
    api = [i["doc_no"] for i in client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": KEY}).json()["items"]]
    page = code in client.get(f"/subjects/{uscc}", params={"tab": KEY}).text
    listing = code in client.get(f"/disclosure/{KEY}").text
    record = record_of(db_session, code)
    report = [v.code for v in service.published_for_subject(db_session, record.subject_id, settings=settings, today=day,
                                                            public=True)]  # fmt: skip
    seen = {code in api, page, listing, code in report}
    assert len(seen) == 1, (day, code in api, page, listing, code in report)
    return seen.pop()


@pytest.fixture
def restore_today(app, today):  # type: ignore[no-untyped-def]
    yield
    app.dependency_overrides[get_today] = lambda: today


def test_a_public_commitment_leaves_the_portal_when_its_validity_ends(  # type: ignore[no-untyped-def]
    client, db_session, accounts, import_file, today, console_settings, restore_today
):
    made = days_ago(today, 100)
    valid_until = today + timedelta(days=30)
    row = dept_row(accounts.dept_a, made, 承诺有效期至=valid_until.isoformat())
    assert import_file([row]).created == 1
    assert _published(client, db_session, console_settings, row, today)
    assert _published(client, db_session, console_settings, row, valid_until)  # its last day
    assert not _published(client, db_session, console_settings, row, valid_until + timedelta(days=1))


def test_a_broken_commitment_leaves_the_portal_when_its_publicity_period_ends(  # type: ignore[no-untyped-def]
    client, db_session, accounts, import_file, today, console_settings, restore_today
):
    made = days_ago(today, 300)
    valid_until = today + timedelta(days=20)  # ends long before the 违诺 publicity period does
    determined = days_ago(today, 5)
    row = dept_row(accounts.dept_a, made, 承诺有效期至=valid_until.isoformat(), 承诺履行状态="全部未履行",
                   未履行的承诺内容="未按承诺提交经营场所证明", 违诺责任追究内容="撤销许可决定",
                   履行状态认定日期=determined.isoformat(), 履行状态认定单位=accounts.dept_a.name)  # fmt: skip
    assert import_file([row]).created == 1
    months = service.config(console_settings).broken_months
    last_day = add_months(determined, months) - timedelta(days=1)
    assert record_of(db_session, row["承诺编码"]).payload["CN_GSJZRQ"] == last_day.isoformat()
    assert _published(client, db_session, console_settings, row, today)
    assert _published(client, db_session, console_settings, row, valid_until + timedelta(days=1))  # still: 违诺
    assert _published(client, db_session, console_settings, row, last_day)
    assert not _published(client, db_session, console_settings, row, last_day + timedelta(days=1))
    # Only its publication ends: the record stays in the department's register.
    assert record_of(db_session, row["承诺编码"]).status == "active"


def test_an_objection_to_a_commitment_is_filed_and_reaches_the_department(  # type: ignore[no-untyped-def]
    client, db_session, accounts, import_file, today, subject_account, portal_sign_in, sign_in, protector
):
    row = dept_row(accounts.dept_a, days_ago(today, 60), 承诺履行状态="全部未履行", 未履行的承诺内容="经核查承诺不实",
                   违诺责任追究内容="终止办理", 履行状态认定日期=days_ago(today, 3).isoformat(),
                   履行状态认定单位=accounts.dept_a.name)  # fmt: skip
    assert import_file([row]).created == 1
    record = record_of(db_session, row["承诺编码"])
    ref = record_ref(record.id, protector)
    portal = portal_sign_in(subject_account(record))
    form = portal.client.get(f"/objections/file/{ref}")
    assert form.status_code == 200
    assert row["承诺编码"] in form.text
    filed = portal.post(f"/objections/file/{ref}",
                        {"ground": "wrong-data", "reason": "经营场所证明已于核查前补交，认定承诺不实有误，附补交回执。",
                         "contact_name": "李经理", "contact_phone": "13800000000"},
                        files=[("evidence", ("补交回执.pdf", PDF, "application/pdf"))])  # fmt: skip
    assert filed.status_code == 303, filed.text[:500]
    objection = db_session.scalars(select(Objection)).one()
    assert objection.record_id == record.id
    assert objection.department_id == accounts.dept_a.id
    assert objection.status == ObjectionStatus.OPEN
    assert filed.headers["location"] == f"/objections/{objection.number}"
    assert objection.number in portal.client.get(f"/objections/{objection.number}").text

    # Under review on the public surfaces.
    client.cookies.clear()
    items = client.get(f"/api/v1/subjects/{row['统一社会信用代码']}/records", params={"record_type": KEY}).json()["items"]
    assert [i["under_review"] for i in items] == [True]
    # The accepting department's queue holds it; another department's does not.
    reviewer = sign_in(accounts.users["reviewer"])
    queue = reviewer.get("/admin/objections")
    assert queue.status_code == 200
    assert objection.number in queue.text
    detail = reviewer.get(f"/admin/objections/{objection.id}")
    assert detail.status_code == 200
    assert row["承诺编码"] in detail.text
    other = sign_in(accounts.users["reviewer_b"])
    assert objection.number not in other.get("/admin/objections").text

