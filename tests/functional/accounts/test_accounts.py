"""Subject accounts: sign-up against a code, verification through the notifier, own records, progress lookup."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from tests.factories import records as f
from tests.fixtures.subject_accounts import PDF, SUBJECT_PASSWORD, anonymous_form, last_code

from xinyong.accounts import activation, service
from xinyong.accounts.models import SubjectAccount, SubjectSession
from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.codes import make_id_number
from xinyong.notify import service as notify
from xinyong.notify.models import OutboxItem
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.repair import service as repair_service
from xinyong.web.deps import SUBJECT_COOKIE

PERSON_ID = make_id_number("330523", date(1981, 5, 17), "316")


def person_penalty(db_session, accounts, console_settings, protector, today):  # type: ignore[no-untyped-def]
    row = f.penalty_row(CF_XDR_MC="钱志强", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJLX="身份证",
                        CF_XDR_ZJHM=PERSON_ID, CF_FRDB="", CF_JDRQ=(today - timedelta(days=200)).isoformat())  # fmt: skip
    result = records_service.import_rows(db_session, [row], settings=console_settings, protector=protector,
                                         record_type="penalty", department=accounts.dept_a, actor="test", today=today)  # fmt: skip
    assert result.rejected == 0, result
    return db_session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()


def test_person_signs_up_verifies_and_sees_restricted_fields(client, db_session, accounts, console_settings,
                                                             protector, today, caplog):  # fmt: skip
    record = person_penalty(db_session, accounts, console_settings, protector, today)
    token = anonymous_form(client)
    form = {"csrf_token": token, "code": PERSON_ID, "name": "钱志强", "contact": "qian@example.cn",
            "password": SUBJECT_PASSWORD}  # fmt: skip
    wrong = client.post("/account/signup", data={**form, "name": "钱某某"})
    assert wrong.status_code == 422
    assert "不匹配" in wrong.text
    assert PERSON_ID not in wrong.text
    response = client.post("/account/signup", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/verify"
    code = last_code(db_session)
    account = db_session.scalars(select(SubjectAccount)).one()
    assert not account.contact_confirmed
    for entry in db_session.scalars(select(AuditEntry)):
        assert PERSON_ID not in str(entry.details)
        assert PERSON_ID not in (entry.target or "")
    for item in db_session.scalars(select(OutboxItem)):
        assert PERSON_ID not in str(item.payload)
    bad = client.post("/account/verify", data={"csrf_token": token, "code": "000000" if code != "000000" else "111111"})
    assert "验证码不正确" in bad.text
    assert client.post("/account/verify", data={"csrf_token": token, "code": code}).status_code == 303
    db_session.refresh(account)
    assert account.contact_confirmed
    assert not account.is_identity_verified
    login = client.post("/account/login", data={"csrf_token": token, "code": PERSON_ID, "password": SUBJECT_PASSWORD})
    assert login.status_code == 303
    assert SUBJECT_COOKIE in login.cookies
    unproven = client.get("/account")
    assert unproven.status_code == 200
    assert "本账户尚未完成主体身份核验" in unproven.text
    assert PERSON_ID not in unproven.text
    assert record.doc_no not in unproven.text
    _, activation_code = activation.issue(db_session, subject_id=account.subject_id, actor=Actor.system("test"),
                                          channel="counter", settings=console_settings, protector=protector)  # fmt: skip
    db_session.commit()
    csrf = db_session.scalars(select(SubjectSession).where(SubjectSession.account_id == account.id)).one().csrf_token
    proven = client.post("/account/identity/activation", data={"csrf_token": csrf, "code": activation_code.lower()})
    assert proven.status_code == 303
    with caplog.at_level(logging.INFO):
        notify.deliver_pending(db_session, settings=console_settings, notifier=notify.ConsoleNotifier())
    assert PERSON_ID not in caplog.text
    home = client.get("/account").text
    assert record.doc_no in home
    assert PERSON_ID in home  # the subject's own restricted field, shown to the proven subject only
    client.cookies.clear()
    assert PERSON_ID not in client.get("/account", follow_redirects=True).text


def test_codes_expire_after_five_wrong_entries(db_session, accounts, penalty, console_settings, protector):
    from xinyong.errors import InvalidInput
    from xinyong.subjects.models import Subject

    record = penalty()
    subject = db_session.get(Subject, record.subject_id)
    account = service.sign_up(db_session, code=subject.uscc, name=subject.name, contact="a@example.cn",
                              password=SUBJECT_PASSWORD, protector=protector, settings=console_settings)  # fmt: skip
    code = last_code(db_session)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(InvalidInput):
            service.verify(db_session, account_id=account.id, code=wrong, protector=protector)
    with pytest.raises(InvalidInput, match="失效"):
        service.verify(db_session, account_id=account.id, code=code, protector=protector)
    assert not account.contact_confirmed


def test_another_claim_beside_a_verified_owner_and_bad_sign_in(client, db_session, penalty, subject_account):
    record = penalty()
    account = subject_account(record)
    from xinyong.subjects.models import Subject

    subject = db_session.get(Subject, record.subject_id)
    token = anonymous_form(client)
    same_address = client.post("/account/signup", data={"csrf_token": token, "code": subject.uscc, "name": subject.name,
                                                        "contact": account.contact, "password": SUBJECT_PASSWORD})  # fmt: skip
    assert same_address.status_code == 409
    assert "请直接登录" in same_address.text
    # A claim from another address is taken (it proves nothing and blocks no one) and leaves the owner alone.
    other = client.post("/account/signup", data={"csrf_token": token, "code": subject.uscc, "name": subject.name,
                                                 "contact": "x@example.cn", "password": SUBJECT_PASSWORD},
                        follow_redirects=False)  # fmt: skip
    assert other.status_code == 303
    db_session.refresh(account)
    assert account.is_identity_verified
    bad = client.post("/account/login", data={"csrf_token": token, "code": subject.uscc, "password": "wrong-pass-1"})
    assert bad.status_code == 401
    db_session.refresh(account)
    assert account.failed_logins == 1
    assert client.post("/account/login", data={"code": subject.uscc, "password": SUBJECT_PASSWORD}).status_code == 403


def test_progress_lookup_by_number_and_code(client, db_session, penalty, subject_account, console_settings, today):
    record = penalty()
    account = subject_account(record)
    application = repair_service.submit_application(
        db_session, account=account, record_id=record.id, settings=console_settings, today=today,
        data=repair_service.ApplicationInput("李经理", "13800000000", "", "已缴纳罚款，整改完毕。", "张三", True),
        files=[repair_service.IncomingFile("a.pdf", PDF)],
    )  # fmt: skip
    db_session.commit()
    from xinyong.subjects.models import Subject

    subject = db_session.get(Subject, record.subject_id)
    client.cookies.clear()
    token = anonymous_form(client)
    found = client.post("/repair/progress", data={"csrf_token": token, "number": application.number, "code": subject.uscc})
    assert found.status_code == 200
    assert "已提交，待受理" in found.text
    other = penalty()
    other_subject = db_session.get(Subject, other.subject_id)
    wrong = client.post("/repair/progress", data={"csrf_token": token, "number": application.number,
                                                  "code": other_subject.uscc})  # fmt: skip
    unknown = client.post("/repair/progress", data={"csrf_token": token, "number": "XF20250101ZZZZZZ",
                                                    "code": subject.uscc})  # fmt: skip
    assert wrong.status_code == unknown.status_code == 404
    assert "已提交，待受理" not in wrong.text
    assert client.get("/repair/progress").status_code == 200


def test_repair_notice_for_each_penalty(client, db_session, penalty, protector, console_settings):
    from xinyong.subjects.refs import record_ref

    recent = penalty(days_ago=10)
    page = client.get(f"/repair/notice/{record_ref(recent.id, protector)}")
    assert page.status_code == 200
    expected = repair_service.eligibility_of(db_session, recent, settings=console_settings,
                                             today=recent.decision_date).earliest  # fmt: skip
    assert "信用修复告知书" in page.text
    assert f"自 {expected} 起" in page.text
    assert "不收取任何费用" in page.text
    assert client.get("/repair/notice/1-0000000000000000").status_code == 404
