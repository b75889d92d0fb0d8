"""A bank's officers on the console: the 信用办 opens their accounts; an officer sees its institution's demands
and consented subjects only, takes a demand, records a loan, reads a package under consent (recorded); nothing
else of the console opens to it, and the 信用办 cannot act as a bank."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.fixtures.console import PASSWORD

from xinyong.auth.models import User
from xinyong.finance.models import ConsentAccess, Demand, DemandStatus, InstitutionUser
from xinyong.subjects.models import Subject


def test_an_officer_works_for_its_institution_only(client, db_session, banks, company, subject_account, portal_sign_in,
                                                   sign_in, accounts, today):  # fmt: skip
    bank, other_bank = banks
    admin = sign_in(accounts.users["platform_admin"])
    for institution, username in ((bank.institution, "officer-a"), (other_bank.institution, "officer-b")):
        response = admin.post(f"/admin/finance/institutions/{institution.id}/officers",
                              data={"username": username, "display_name": "信贷员", "password": PASSWORD})  # fmt: skip
        assert response.status_code == 303
        assert f"开设信贷员账户 {username}" in admin.get("/admin/finance").text
    again = admin.post(f"/admin/finance/institutions/{bank.institution.id}/officers",
                       data={"username": "officer-a", "password": PASSWORD})  # fmt: skip
    assert again.status_code == 303
    assert "已存在" in admin.get("/admin/finance").text
    assert len(db_session.scalars(select(InstitutionUser)).all()) == 2
    assert admin.get("/admin/bank").status_code == 403  # the 信用办 does not act as a bank

    licence = company(51)
    uscc = db_session.get(Subject, licence.subject_id).uscc
    portal = portal_sign_in(subject_account(licence))
    portal.post("/account/finance/consents", {"institution": str(bank.institution.id), "scope": ["licences"],
                                              "valid_until": (today + timedelta(days=9)).isoformat()})  # fmt: skip
    portal.post("/account/finance/demands", {"amount": "80", "term": "6", "purpose": "技术改造", "collateral": "<i>无</i>"})
    demand = db_session.scalars(select(Demand)).one()

    officer_a = db_session.scalars(select(User).where(User.username == "officer-a")).one()
    officer_a.must_change_password = False
    officer_b = db_session.scalars(select(User).where(User.username == "officer-b")).one()
    officer_b.must_change_password = False
    db_session.commit()

    b = sign_in(officer_b)
    board = b.get("/admin/bank")
    assert board.status_code == 200
    assert "暂无有效授权" in board.text  # the consent was given to the other bank
    assert b.get(f"/admin/bank/subjects/{uscc}").status_code == 403

    a = sign_in(officer_a)
    board = a.get("/admin/bank")
    assert bank.institution.name in board.text
    assert licence.subject_name in board.text
    assert "&lt;i&gt;无&lt;/i&gt;" in board.text
    package = a.get(f"/admin/bank/subjects/{uscc}")
    assert package.status_code == 200
    assert licence.doc_no in package.text
    assert "登记信息" not in package.text  # not consented
    access = db_session.scalars(select(ConsentAccess)).one()
    assert access.key_prefix == f"officer:{officer_a.id}"

    assert a.post(f"/admin/bank/demands/{demand.id}/take").status_code == 303
    b = sign_in(officer_b)  # one test client: signing in again switches who it is
    assert b.post(f"/admin/bank/demands/{demand.id}/take").status_code == 303
    assert "未找到该融资需求" in b.get("/admin/bank").text
    a = sign_in(officer_a)
    a.post(f"/admin/bank/demands/{demand.id}/outcome", data={"outcome": "loaned", "loan_amount": "-1"})
    assert "须大于 0" in a.get("/admin/bank").text
    a.post(f"/admin/bank/demands/{demand.id}/outcome",
           data={"outcome": "loaned", "loan_amount": "80", "loan_date": today.isoformat()})  # fmt: skip
    db_session.refresh(demand)
    assert demand.status is DemandStatus.LOANED
    assert "已反馈结果：已放款" in a.get("/admin/bank").text

    for url in ("/admin", "/admin/records", "/admin/finance", "/admin/subjects", "/admin/audit"):
        assert a.get(url).status_code == 403, url
