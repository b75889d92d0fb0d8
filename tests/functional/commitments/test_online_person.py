"""Made online by a natural person (自然人) and by a 个体工商户: the signed-in account's own subject commits (the
form names no subject), the commitment shows on the account, the printable copy masks the ID number, and no
page, log line, event or audit entry holds the full number; a tampered form that names another subject is
refused with a clear message, and another subject's copy does not exist for the account."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest
from sqlalchemy import select
from tests.factories.records import company_code, individual_code
from tests.fixtures.subject_accounts import SUBJECT_PASSWORD, Portal, last_code
from tests.functional.commitments.conftest import KEY, days_ago, dept_row, record_of

from xinyong.accounts import activation
from xinyong.accounts import service as accounts_service
from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.codes import make_id_number, mask_id_number
from xinyong.commitments.models import OnlineCommitment
from xinyong.records.models import Record
from xinyong.web.deps import SUBJECT_COOKIE

TEMPLATE = "general-self"
ID_NUMBER = make_id_number("330523", date(1986, 4, 12), "271")
OTHER_ID_NUMBER = make_id_number("330521", date(1979, 11, 3), "058")


@pytest.fixture
def person_portal(db_session, accounts, import_file, today, client, console_settings, protector):  # type: ignore[no-untyped-def]
    """A person known from an earlier commitment (不予公开), with a verified account, signed in by ID number."""

    def make(id_number: str = ID_NUMBER, name: str = "王承诺") -> Portal:
        row = dept_row(accounts.dept_a, days_ago(today, 30), 承诺人名称=name, 承诺人类别="自然人", 统一社会信用代码="",
                       证件类型="居民身份证", 证件号码=id_number, 公开类型="不予公开", 承诺类型="主动型")  # fmt: skip
        assert import_file([row]).created == 1
        record = record_of(db_session, row["承诺编码"])
        account = accounts_service.sign_up(db_session, code=id_number, name=name, contact=f"p{record.subject_id}@example.cn",
                                           password=SUBJECT_PASSWORD, protector=protector, settings=console_settings)  # fmt: skip
        accounts_service.verify(db_session, account_id=account.id, code=last_code(db_session), protector=protector)
        _, code = activation.issue(db_session, subject_id=record.subject_id, actor=Actor.system("test"), channel="counter",
                                   settings=console_settings, protector=protector)  # fmt: skip
        activation.redeem(db_session, account, code=code, settings=console_settings, protector=protector)
        db_session.commit()
        session_row, token = accounts_service.sign_in(db_session, code=id_number, password=SUBJECT_PASSWORD,
                                                      protector=protector, settings=console_settings, client="test")  # fmt: skip
        db_session.commit()
        client.cookies.clear()
        client.cookies.set(SUBJECT_COOKIE, token)
        return Portal(client, account, session_row.csrf_token)

    return make


def _commit(portal: Portal, department_id: int, **overrides: str):  # type: ignore[no-untyped-def]
    page = portal.client.get(f"/account/commitments/new/{TEMPLATE}")
    assert page.status_code == 200, page.text[:300]
    content_hash = page.text.split('name="content_hash" value="')[1].split('"')[0]
    data = {"department": str(department_id), "agreed": "yes", "content_hash": content_hash, **overrides}
    return page, portal.post(f"/account/commitments/new/{TEMPLATE}", data)


def test_a_person_commits_online_and_the_id_number_stays_masked(  # type: ignore[no-untyped-def]
    db_session, accounts, person_portal, console_settings, protector, caplog
):
    caplog.set_level(logging.DEBUG)
    portal = person_portal()
    client = portal.client
    form, made = _commit(portal, accounts.dept_a.id)
    assert mask_id_number(ID_NUMBER) in form.text
    assert made.status_code == 303, made.text[:500]
    online = db_session.scalars(select(OnlineCommitment)).one()
    assert made.headers["location"] == f"/account/commitments/{online.id}"
    assert online.subject_id == portal.account.subject_id

    record = record_of(db_session, online.code)
    assert record.subject_id == portal.account.subject_id
    assert record.payload["CN_CNR_LB"] == "自然人"
    assert record.payload["CN_CNR_ZJLX"] == "居民身份证"
    assert ID_NUMBER not in json.dumps(record.payload, ensure_ascii=False)
    assert record.sealed
    assert ID_NUMBER not in record.sealed
    assert json.loads(protector.unseal(record.sealed))["CN_CNR_ZJHM"] == ID_NUMBER  # kept, but only sealed

    copy = client.get(f"/account/commitments/{online.id}")
    assert copy.status_code == 200
    assert "pledge-copy" in copy.text
    assert f'<dd data-testid="identity">{mask_id_number(ID_NUMBER)}</dd>' in copy.text
    own = client.get("/account/commitments")
    assert online.code in own.text
    assert "履行中" in own.text
    pages = [form.text, made.text, copy.text, own.text]
    assert not [p for p in pages if ID_NUMBER in p]

    # Nothing written on the way holds the full number: log lines, events, audit entries.
    assert ID_NUMBER not in caplog.text
    events = console_settings.events_file
    assert not events.exists() or ID_NUMBER not in events.read_text(encoding="utf-8")
    for entry in db_session.scalars(select(AuditEntry)):
        shown = json.dumps([entry.actor, entry.target, entry.reason, entry.details], ensure_ascii=False, default=str)
        assert ID_NUMBER not in shown, entry.action


def test_a_person_cannot_commit_for_another_subject(  # type: ignore[no-untyped-def]
    db_session, accounts, person_portal, import_file, today
):
    # Another person and a company the platform knows, with a commitment of their own each.
    other = dept_row(accounts.dept_a, days_ago(today, 10), 承诺人名称="李他人", 承诺人类别="自然人", 统一社会信用代码="",
                     证件类型="居民身份证", 证件号码=OTHER_ID_NUMBER, 公开类型="不予公开", 承诺类型="主动型")  # fmt: skip
    company = dept_row(accounts.dept_a, days_ago(today, 10))
    assert import_file([other, company]).created == 2
    portal = person_portal()
    for claimed in (OTHER_ID_NUMBER, company["统一社会信用代码"], company_code(9911)):
        _, refused = _commit(portal, accounts.dept_a.id, subject_code=claimed)
        assert refused.status_code == 403, refused.text[:300]
        assert "不能代他人承诺" in refused.text
        assert OTHER_ID_NUMBER not in refused.text
    assert db_session.scalars(select(OnlineCommitment)).all() == []
    # its own code in the request changes nothing
    _, own = _commit(portal, accounts.dept_a.id, subject_code=ID_NUMBER)
    assert own.status_code == 303, own.text[:300]
    assert ID_NUMBER not in own.text
    # another subject's printable copy does not exist for this account
    mine = db_session.scalars(select(OnlineCommitment)).one()
    theirs = OnlineCommitment(record_id=record_of(db_session, other["承诺编码"]).id,
                              subject_id=record_of(db_session, other["承诺编码"]).subject_id, account_id=None,
                              department_id=accounts.dept_a.id, template_key=TEMPLATE, code=other["承诺编码"], text="x",
                              liability="x", basis="x", content_hash="0" * 64, made_on=today, valid_until=today)  # fmt: skip
    db_session.add(theirs)
    db_session.commit()
    hidden = portal.client.get(f"/account/commitments/{theirs.id}")
    assert hidden.status_code == 404
    assert "该信用承诺书" in hidden.text
    assert portal.client.get(f"/account/commitments/{mine.id}").status_code == 200
    assert all(r.subject_id != mine.subject_id for r in db_session.scalars(
        select(Record).where(Record.record_type == KEY, Record.doc_no.in_([other["承诺编码"], company["承诺编码"]]))))


def test_an_individual_business_commits_online(  # type: ignore[no-untyped-def]
    db_session, accounts, import_file, today, subject_account, portal_sign_in
):
    row = dept_row(accounts.dept_a, days_ago(today, 20), 承诺人名称="安吉县李记小吃店", 承诺人类别="个体工商户",
                   统一社会信用代码=individual_code(8801), 公开类型="不予公开", 承诺类型="主动型")  # fmt: skip
    assert import_file([row]).created == 1, row
    portal = portal_sign_in(subject_account(record_of(db_session, row["承诺编码"])))
    _, made = _commit(portal, accounts.dept_a.id)
    assert made.status_code == 303, made.text[:500]
    online = db_session.scalars(select(OnlineCommitment)).one()
    record = record_of(db_session, online.code)
    assert record.payload["CN_CNR_LB"] == "个体工商户"
    assert record.subject_id == portal.account.subject_id
    assert online.code in portal.client.get("/account/commitments").text
