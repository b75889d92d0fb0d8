"""Financing demands: posted by the enterprise, seen by matching institutions, taken once (抢单), answered;
unanswered ones flagged; statistics on the console. The whitelist feed: dated, versioned, JSON and CSV."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.factories import evaluation as ef
from tests.factories import lists as lf

from xinyong.finance import rules
from xinyong.finance import service as finance_service
from xinyong.finance.models import Demand, DemandStatus


def _post(portal, **data):  # type: ignore[no-untyped-def]
    return portal.post("/account/finance/demands", {"amount": "300", "term": "12", "purpose": "流动资金",
                                                    "collateral": "", **data})  # fmt: skip


def test_a_demand_is_taken_once_and_its_loan_recorded(client, db_session, banks, company, subject_account,
                                                      portal_sign_in, sign_in, accounts, today):  # fmt: skip
    bank, other_bank = banks
    portal = portal_sign_in(subject_account(company(11)))
    assert _post(portal).status_code == 303
    assert "融资需求已发布" in portal.client.get("/account/finance").text
    demand = db_session.scalars(select(Demand)).one()
    assert demand.respond_by > today

    listed = client.get("/api/v1/finance/demands", headers=bank.headers)
    assert [d["id"] for d in listed.json()["demands"]] == [demand.id]
    taken = client.post(f"/api/v1/finance/demands/{demand.id}/take", headers=bank.headers)
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "taken"
    again = client.post(f"/api/v1/finance/demands/{demand.id}/take", headers=other_bank.headers)
    assert again.status_code == 404  # no longer open: another institution's need does not exist for it
    twice = client.post(f"/api/v1/finance/demands/{demand.id}/take", headers=bank.headers)
    assert twice.status_code == 409
    assert "已受理" in twice.json()["error"]["message"]
    assert client.get("/api/v1/finance/demands", headers=other_bank.headers).json()["demands"] == []

    # Another institution cannot report on it; outcomes are checked.
    foreign = client.post(f"/api/v1/finance/demands/{demand.id}/outcome", headers=other_bank.headers,
                          json={"outcome": "loaned", "loan_amount": "300", "loan_date": today.isoformat()})  # fmt: skip
    assert foreign.status_code == 404
    for body, message in (({"outcome": "loaned", "loan_amount": "-5", "loan_date": today.isoformat()}, "须大于 0"),
                          ({"outcome": "loaned", "loan_amount": "300", "loan_date": "tomorrow"}, "不是有效日期"),
                          ({"outcome": "loaned", "loan_amount": "300",
                            "loan_date": (today + timedelta(days=3)).isoformat()}, "不能晚于今天"),
                          ({"outcome": "refused"}, "未获批原因")):  # fmt: skip
        bad = client.post(f"/api/v1/finance/demands/{demand.id}/outcome", headers=bank.headers, json=body)
        assert bad.status_code == 422, body
        assert message in bad.json()["error"]["message"], (body, bad.text)
    assert client.post(f"/api/v1/finance/demands/{demand.id}/outcome", headers=bank.headers,
                       json={"outcome": "maybe"}).status_code == 422  # fmt: skip
    too_long = client.post(f"/api/v1/finance/demands/{demand.id}/outcome", headers=bank.headers,
                           json={"outcome": "refused", "reason": "x" * 501})  # fmt: skip
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "invalid-request"
    loan = client.post(f"/api/v1/finance/demands/{demand.id}/outcome", headers=bank.headers,
                       json={"outcome": "loaned", "loan_amount": "280.5", "loan_date": today.isoformat()})  # fmt: skip
    assert loan.status_code == 200, loan.text
    assert loan.json()["status"] == "loaned"
    assert "放款 280.50 万元" in portal.client.get("/account/finance").text
    closed = client.post(f"/api/v1/finance/demands/{demand.id}/outcome", headers=bank.headers,
                         json={"outcome": "refused", "reason": "已放款后改拒"})  # fmt: skip
    assert closed.status_code == 409

    browser = sign_in(accounts.users["platform_admin"])
    board = browser.client.get("/admin/finance")
    assert board.status_code == 200
    stats = board.text[board.text.index('id="statistics"'):]
    assert bank.institution.name in stats
    assert today.strftime("%Y-%m") in stats
    assert "280.50" in stats
    assert sign_in(accounts.users["operator"]).client.get("/admin/finance").status_code == 403


def test_bad_demands_are_refused_with_their_reason(db_session, banks, company, subject_account, portal_sign_in):  # type: ignore[no-untyped-def]
    portal = portal_sign_in(subject_account(company(12)))
    for data, message in (({"amount": "-100"}, "须大于 0"), ({"amount": "0"}, "须大于 0"),
                          ({"amount": "1e12"}, "不能超过"), ({"amount": "NaN"}, "须大于 0"),
                          ({"amount": "abc"}, "不是有效的金额"), ({"amount": "1.234"}, "两位小数"),
                          ({"term": "0"}, "融资期限"), ({"term": "9999"}, "融资期限"), ({"term": "-3"}, "融资期限"),
                          ({"purpose": "<script>x</script>"}, "融资用途")):  # fmt: skip
        assert _post(portal, **data).status_code == 303
        page = portal.client.get("/account/finance")
        assert message in page.text, (data, message)
    assert db_session.scalars(select(Demand)).all() == []
    _post(portal, collateral="<b>房产</b>")
    assert "&lt;b&gt;房产&lt;/b&gt;" in portal.client.get("/account/finance").text


def test_an_unanswered_demand_is_flagged(client, db_session, banks, company, subject_account, portal_sign_in,
                                         sign_in, accounts, today):  # fmt: skip
    portal = portal_sign_in(subject_account(company(13)))
    _post(portal)
    demand = db_session.scalars(select(Demand)).one()
    demand.posted_on, demand.respond_by = today - timedelta(days=20), today - timedelta(days=10)
    db_session.commit()
    assert "超时未答复" in portal.client.get("/account/finance").text
    assert finance_service.overdue_demands(db_session, today) == [demand]
    assert client.get("/api/v1/finance/demands", headers=banks[0].headers).json()["demands"][0]["overdue"] is True
    board = sign_in(accounts.users["platform_admin"]).client.get("/admin/finance").text
    assert demand.subject_name in board[board.index('id="overdue"'):board.index('id="statistics"')]
    assert demand.status is DemandStatus.OPEN


def test_the_whitelist_lists_a_clean_a_grade_subject_and_not_a_listed_one(client, db_session, banks, console_settings,
                                                                          protector, accounts, sign_in, today):  # fmt: skip
    lf.load_types(db_session, accounts.dept_a)
    ef.load_builtin_model(db_session, console_settings)
    clean, listed = ef.company(21), ef.company(22)
    for subject in (clean, listed):
        ef.licence(db_session, console_settings, protector, accounts.dept_a, subject, decided=today - timedelta(days=30),
                   today=today)  # fmt: skip
    lf.listed(db_session, console_settings, protector, accounts.dept_a, listed[0], today=today, type_key="watch")
    ef.run(db_session, console_settings, today)
    db_session.commit()
    bank = banks[0]
    assert client.get("/api/v1/finance/whitelist", headers=bank.headers).status_code == 404  # none published yet

    browser = sign_in(accounts.users["platform_admin"])
    grades = {"A", "B"}
    response = browser.post("/admin/finance/whitelist", data={"grades": sorted(grades), "exclude_negative": "1"})
    assert response.status_code == 303
    feed = client.get("/api/v1/finance/whitelist", headers=bank.headers)
    assert feed.status_code == 200
    document = feed.json()
    assert document["version"] == 1
    assert document["as_of"] == today.isoformat()
    codes = [e["code"] for e in document["entries"]]
    assert clean[0] in codes
    assert listed[0] not in codes
    csv_text = client.get("/api/v1/finance/whitelist.csv?version=1", headers=bank.headers)
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert clean[0] in csv_text.text
    assert listed[0] not in csv_text.text
    assert client.get("/api/v1/finance/whitelist?version=7", headers=bank.headers).status_code == 404
    assert client.get("/api/v1/finance/whitelist").status_code == 401

    # Rules naming unknown grades or lists are refused; a new publication is a new version.
    browser.post("/admin/finance/whitelist", data={"grades": ["Z"]})
    assert "未知的评价等级" in browser.client.get("/admin/finance").text
    browser.post("/admin/finance/whitelist", data={"grades": ["A"], "require_lists": "no-such-list"})
    assert "未知的名单类型" in browser.client.get("/admin/finance").text
    feed2 = finance_service.publish_whitelist(db_session, rule=rules.WhitelistRule(("A", "B"), ("honor",), True),
                                              settings=console_settings, today=today, actor=accounts_actor())  # fmt: skip
    assert feed2.version == 2
    assert feed2.entries == []  # nobody is on the honour list


def accounts_actor():  # type: ignore[no-untyped-def]
    from xinyong.actors import Actor

    return Actor.system("test")
