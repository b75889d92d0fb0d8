"""Evaluation as people see it: the console's runs, changes and explanations, the credit check's grade, the
subject's own page on the portal, and the public grade only when the 信用办 turns it on."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.factories.inspections import TODAY

from xinyong.accounts import activation
from xinyong.accounts import service as accounts_service
from xinyong.actors import Actor
from xinyong.notify.models import OutboxItem
from xinyong.subjects.models import Subject
from xinyong.web.deps import SUBJECT_COOKIE, get_today


@pytest.fixture
def graded(app, db_session, console_settings, protector, accounts, tmp_path):  # type: ignore[no-untyped-def]
    """A clean company (A) and one with a serious penalty and a watch-list entry (C), run twice: the second
    run after a new penalty on the clean one, so that someone moved."""
    app.dependency_overrides[get_today] = lambda: TODAY
    settings = console_settings.model_copy(update={"upload_dir": tmp_path / "uploads"})
    dept = accounts.dept_a
    lf.load_types(db_session, dept)
    ef.load_builtin_model(db_session, settings)
    clean, bad = ef.company(1), ef.company(2)
    ef.licence(db_session, settings, protector, dept, clean, decided=date(2025, 3, 1), today=TODAY)
    serious = ef.penalty(db_session, settings, protector, dept, bad, tier="严重", decided=date(2024, 8, 1), today=TODAY)
    lf.listed(db_session, settings, protector, dept, bad[0], today=TODAY, type_key="watch")
    first = ef.run(db_session, settings, TODAY)
    fresh = ef.penalty(db_session, settings, protector, dept, clean, tier="一般", decided=date(2025, 10, 1), today=TODAY)
    second = ef.run(db_session, settings, TODAY)
    db_session.commit()
    return {"clean": clean, "bad": bad, "serious": serious, "fresh": fresh, "first": first, "second": second}


def test_the_console_lists_runs_changes_and_explains_a_grade(client, sign_in, accounts, graded, db_session):  # type: ignore[no-untyped-def]
    browser = sign_in(accounts.users["auditor"])
    page = browser.get("/admin/evaluation")
    assert page.status_code == 200
    assert "公共信用综合评价" in page.text
    assert f'href="/admin/evaluation/runs/{graded["second"].id}"' in page.text
    assert "public-credit 2026.2" in page.text

    page = browser.get(f"/admin/evaluation/runs/{graded['second'].id}")
    assert page.status_code == 200
    clean_id = ef.subject_id(db_session, graded["clean"][0])
    assert f"/admin/evaluation/subjects/{clean_id}" in page.text
    assert "A → <strong>B</strong>" in page.text
    assert "近一年的行政处罚（公示期内） +0 → -60" in page.text
    assert browser.get(f"/admin/evaluation/runs/{graded['second'].id}?direction=up").text.count("/admin/evaluation/subjects/") == 0

    bad_id = ef.subject_id(db_session, graded["bad"][0])
    page = browser.get(f"/admin/evaluation/subjects/{bad_id}")
    assert page.status_code == 200
    assert "<strong>C</strong>（信用风险较高）" in page.text
    assert graded["serious"].doc_no in page.text
    assert "完成信用修复" in page.text
    assert "850" in page.text
    assert "重点关注名单" in page.text

    missing = browser.get("/admin/evaluation/runs/999999")
    assert missing.status_code == 404
    assert "评价批次" in missing.text
    # The subject's console page links to its evaluation.
    assert f"/admin/evaluation/subjects/{bad_id}" in browser.get(f"/admin/subjects/{bad_id}").text


def test_a_credit_check_shows_the_grade(client, sign_in, accounts, graded):  # type: ignore[no-untyped-def]
    browser = sign_in(accounts.users["operator"])
    made = browser.post("/admin/checks", data={"matter": "政府采购", "code": graded["bad"][0]})
    assert made.status_code == 303
    page = browser.get(made.headers["location"])
    assert page.status_code == 200
    assert re.search(r'data-testid="check-grade"><strong>C</strong>（信用风险较高）', page.text)


def sign_in_subject(client, db_session, console_settings, protector, uscc: str, *, proven: bool = True) -> None:  # type: ignore[no-untyped-def]
    subject = db_session.scalar(select(Subject).where(Subject.uscc == uscc))
    account = accounts_service.sign_up(db_session, code=uscc, name=subject.name, contact="boss@example.cn",
                                       password="Subject-pass-2025", protector=protector, settings=console_settings)  # fmt: skip
    message = db_session.scalars(select(OutboxItem).where(OutboxItem.topic == "message").order_by(OutboxItem.id.desc())).first()
    accounts_service.verify(db_session, account_id=account.id, code=message.payload["body"].split("验证码为 ")[1][:6],
                            protector=protector)  # fmt: skip
    if proven:
        _, code = activation.issue(db_session, subject_id=subject.id, actor=Actor.system("test"), channel="counter",
                                   settings=console_settings, protector=protector)  # fmt: skip
        activation.redeem(db_session, account, code=code, settings=console_settings, protector=protector)
    _, token = accounts_service.sign_in(db_session, code=uscc, password="Subject-pass-2025", protector=protector,
                                        settings=console_settings, client="test")  # fmt: skip
    db_session.commit()
    client.cookies.clear()
    client.cookies.set(SUBJECT_COOKIE, token)


def test_the_subject_sees_why_and_what_would_change_it(client, db_session, console_settings, protector, graded):  # type: ignore[no-untyped-def]
    sign_in_subject(client, db_session, console_settings, protector, graded["bad"][0])
    home = client.get("/account")
    assert home.status_code == 200
    assert "最近一次公共信用综合评价" in home.text
    assert "<strong>C</strong>（信用风险较高）" in home.text
    page = client.get("/account/evaluation")
    assert page.status_code == 200
    assert 'data-testid="grade">C</span> 信用风险较高' in page.text
    assert f'data-doc="{graded["serious"].doc_no}"' in page.text
    assert "-150 分" in page.text
    assert "-50 分" in page.text
    assert "现可申请：对 " + graded["serious"].doc_no in page.text
    assert "等级 <strong>B</strong>" in page.text
    assert "2027-08-01 起" in page.text  # the penalty's publicity ends 2027-07-31
    client.cookies.clear()
    assert client.get("/account/evaluation").headers["location"] == "/account/login"


def test_a_claim_not_yet_proven_does_not_see_the_evaluation(client, db_session, console_settings, protector, graded):  # type: ignore[no-untyped-def]
    sign_in_subject(client, db_session, console_settings, protector, graded["bad"][0], proven=False)
    page = client.get("/account/evaluation")
    assert page.status_code == 303
    assert page.headers["location"] == "/account"
    home = client.get("/account")
    assert "请先完成主体身份核验，再查看本主体的信用评价" in home.text
    assert graded["serious"].doc_no not in home.text


def test_grades_are_public_only_when_the_office_says_so(app, client, graded):  # type: ignore[no-untyped-def]
    page = client.get(f"/subjects/{graded['bad'][0]}")
    assert page.status_code == 200
    assert "信用评价" not in page.text
    app.state.settings = app.state.settings.model_copy(update={"evaluation_public_grades": True})
    page = client.get(f"/subjects/{graded['bad'][0]}")
    assert 'id="public-grade">信用评价 C（信用风险较高，评价日 2025-10-20）' in page.text
