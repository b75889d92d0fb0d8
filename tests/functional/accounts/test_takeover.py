"""The sign-up takeover (issue 11, item 2) stays closed: knowing a subject's name and code, and the pages the
portal shows, gives an outsider an account that reads nothing restricted, files nothing in the subject's name,
and never locks the real owner out."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.fixtures.subject_accounts import PDF, SUBJECT_PASSWORD, anonymous_form, last_code

from xinyong.accounts import activation
from xinyong.accounts.models import AccountStatus, SubjectAccount, SubjectSession
from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.codes import make_id_number
from xinyong.notify.models import OutboxItem
from xinyong.objections.models import Objection
from xinyong.repair.models import RepairApplication
from xinyong.subjects.models import Subject
from xinyong.subjects.refs import record_ref

LEGAL_REP_ID = make_id_number("330523", date(1975, 3, 8), "512")
ATTACKER_PASSWORD = "Attacker-pass-99"
NOT_PROVEN = "本账户尚未完成主体身份核验"


def claim(client: TestClient, db_session, subject: Subject, contact: str, password: str) -> str:  # type: ignore[no-untyped-def]
    """The whole public flow: sign up, confirm the contact with the mailed code, sign in. Returns the CSRF token
    of the portal session."""
    client.cookies.clear()
    token = anonymous_form(client)
    signed_up = client.post("/account/signup", data={"csrf_token": token, "code": subject.uscc, "name": subject.name,
                                                     "contact": contact, "password": password})  # fmt: skip
    assert signed_up.status_code == 303, signed_up.text
    assert client.post("/account/verify", data={"csrf_token": token, "code": last_code(db_session)}).status_code == 303
    login = client.post("/account/login", data={"csrf_token": token, "code": subject.uscc, "password": password})
    assert login.status_code == 303, login.text
    account = db_session.scalars(select(SubjectAccount).where(SubjectAccount.contact == contact)).one()
    return db_session.scalars(select(SubjectSession).where(SubjectSession.account_id == account.id)
                              .order_by(SubjectSession.id.desc())).first().csrf_token  # fmt: skip


def _sealed_penalty(penalty, **overrides):  # type: ignore[no-untyped-def]
    return penalty(CF_FR_ZJLX="身份证", CF_FR_ZJHM=LEGAL_REP_ID, **overrides)


def test_an_outsider_with_public_data_gets_nothing_restricted_and_files_nothing(
        app, client, db_session, penalty, subject_account, portal_sign_in, protector, console_settings, today):  # fmt: skip
    published = _sealed_penalty(penalty)
    subject = db_session.get(Subject, published.subject_id)
    # A warning-only market-regulation penalty: on file, never published.
    unpublished = _sealed_penalty(penalty, CF_XDR_MC=subject.name, CF_XDR_SHXYM=subject.uscc, CF_CFLB="警告",
                                  CF_NR="警告", CF_NR_FK="")  # fmt: skip
    assert published.sealed
    assert unpublished.sealed
    owner = subject_account(published)
    owner_portal = portal_sign_in(owner)
    owner_home = owner_portal.client.get("/account").text
    assert LEGAL_REP_ID in owner_home
    assert unpublished.doc_no in owner_home
    owner_application = owner_portal.post(f"/repair/apply/{record_ref(published.id, protector)}", data={
        "contact_name": "李经理", "contact_phone": "13800000000", "statement": "罚款已缴清，整改完毕。", "signer_name": "张三",
        "agree": "1"}, files=[("evidence", ("paid.pdf", PDF, "application/pdf"))])  # fmt: skip
    assert owner_application.status_code == 303
    number = db_session.scalars(select(RepairApplication.number)).one()

    with TestClient(app, follow_redirects=False) as attacker:
        csrf = claim(attacker, db_session, subject, "mallory@example.net", ATTACKER_PASSWORD)
        home = attacker.get("/account")
        assert home.status_code == 200
        assert NOT_PROVEN in home.text
        assert "激活码" in home.text
        for secret in (LEGAL_REP_ID, unpublished.doc_no, number):
            assert secret not in home.text
        refs = [record_ref(r.id, protector) for r in (published, unpublished)]
        for url in (f"/repair/apply/{refs[0]}", f"/objections/file/{refs[0]}", f"/objections/file/{refs[1]}",
                    f"/repair/applications/{number}"):  # fmt: skip
            page = attacker.get(url)
            assert page.status_code == 403, url
            assert NOT_PROVEN in page.text
            assert LEGAL_REP_ID not in page.text
        repair = attacker.post(f"/repair/apply/{refs[0]}", data={
            "csrf_token": csrf, "contact_name": "王五", "contact_phone": "13900000000",
            "statement": "已经全部整改完毕，请予修复。", "signer_name": "王五", "agree": "1",
        }, files=[("evidence", ("x.pdf", PDF, "application/pdf"))])  # fmt: skip
        assert repair.status_code == 403
        assert NOT_PROVEN in repair.text
        objection = attacker.post(f"/objections/file/{refs[1]}", data={
            "csrf_token": csrf, "ground": "fact", "reason": "该处罚事实认定错误，请予更正。", "contact_name": "王五",
            "contact_phone": "13900000000"}, files=[("evidence", ("x.pdf", PDF, "application/pdf"))])  # fmt: skip
        assert objection.status_code == 403
        assert NOT_PROVEN in objection.text
        withdraw = attacker.post(f"/repair/applications/{number}/withdraw", data={"csrf_token": csrf})
        assert withdraw.status_code == 403
        # The unpublished record is unknown to the public, and so to the claim.
        assert attacker.get(f"/repair/notice/{refs[1]}").status_code == 404
        notice = attacker.get(f"/repair/notice/{refs[0]}")
        assert notice.status_code == 200
        assert LEGAL_REP_ID not in notice.text
        # Guessing activation codes ends in a wait, long before any code could be found.
        for _ in range(console_settings.activation_max_failures):
            guess = attacker.post("/account/identity/activation", data={"csrf_token": csrf, "code": "ABCD-EFGH-JKMN-PQRS"})
            assert guess.status_code == 422
            assert "激活码不正确" in guess.text
        locked = attacker.post("/account/identity/activation", data={"csrf_token": csrf, "code": "ABCD-EFGH-JKMN-PQRS"})
        assert locked.status_code == 429
        assert "错误次数过多" in locked.text

    assert db_session.scalar(select(func.count()).select_from(RepairApplication)) == 1
    assert db_session.scalar(select(func.count()).select_from(Objection)) == 0
    db_session.refresh(owner)
    assert owner.is_identity_verified
    assert owner.status is AccountStatus.ACTIVE
    # The owner was never locked out: the same session still works, and a fresh sign-in too.
    assert LEGAL_REP_ID in owner_portal.client.get("/account").text
    owner_portal.client.cookies.clear()
    token = anonymous_form(owner_portal.client)
    again = owner_portal.client.post("/account/login", data={"csrf_token": token, "code": subject.uscc,
                                                             "password": SUBJECT_PASSWORD})  # fmt: skip
    assert again.status_code == 303
    assert LEGAL_REP_ID in owner_portal.client.get("/account").text
    # The owner sees the claim and can dispute it.
    claims = owner_portal.client.get("/account").text
    assert "m***@example.net" in claims
    assert "mallory@example.net" not in claims


def test_a_claim_made_first_does_not_keep_the_owner_out(app, client, db_session, penalty, protector,
                                                        console_settings):  # fmt: skip
    record = _sealed_penalty(penalty)
    subject = db_session.get(Subject, record.subject_id)
    with TestClient(app, follow_redirects=False) as attacker:
        claim(attacker, db_session, subject, "mallory@example.net", ATTACKER_PASSWORD)
        assert NOT_PROVEN in attacker.get("/account").text
        # The owner signs up beside the claim, signs in with its own password and proves its identity.
        csrf = claim(client, db_session, subject, "owner@example.cn", SUBJECT_PASSWORD)
        assert NOT_PROVEN in client.get("/account").text
        _, code = activation.issue(db_session, subject_id=subject.id, actor=Actor.system("counter"), channel="counter",
                                   settings=console_settings, protector=protector)  # fmt: skip
        db_session.commit()
        proven = client.post("/account/identity/activation", data={"csrf_token": csrf, "code": code})
        assert proven.status_code == 303
        assert LEGAL_REP_ID in client.get("/account").text
        # The earlier claim is suspended: its session ends, it cannot sign in, its address is told why.
        gone = attacker.get("/account")
        assert gone.status_code == 303
        assert gone.headers["location"] == "/account/login"
        token = anonymous_form(attacker)
        refused = attacker.post("/account/login", data={"csrf_token": token, "code": subject.uscc,
                                                        "password": ATTACKER_PASSWORD})  # fmt: skip
        assert refused.status_code == 401
    mallory = db_session.scalars(select(SubjectAccount).where(SubjectAccount.contact == "mallory@example.net")).one()
    assert mallory.status is AccountStatus.SUSPENDED
    assert not mallory.is_identity_verified
    told = [i.payload for i in db_session.scalars(select(OutboxItem)) if i.payload.get("address") == mallory.contact]
    assert any("已停用" in m["title"] for m in told)
    actions = set(db_session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == subject.id)))
    assert {"subject-account.identity-verified", "subject-account.superseded"} <= actions


def test_the_proven_owner_disputes_a_claim(app, client, db_session, penalty, subject_account, portal_sign_in):
    record = penalty()
    subject = db_session.get(Subject, record.subject_id)
    owner = subject_account(record)
    with TestClient(app, follow_redirects=False) as claimant:
        claim_csrf = claim(claimant, db_session, subject, "colleague@example.cn", ATTACKER_PASSWORD)
        other = db_session.scalars(select(SubjectAccount).where(SubjectAccount.contact == "colleague@example.cn")).one()
        # An unproven account cannot dispute anyone.
        refused = claimant.post(f"/account/claims/{owner.id}/dispute", data={"csrf_token": claim_csrf})
        assert refused.status_code == 403
        assert NOT_PROVEN in refused.text
        portal = portal_sign_in(owner)
        assert "本主体的其他账户" in portal.client.get("/account").text
        assert portal.post(f"/account/claims/{owner.id}/dispute").status_code == 404  # not another claim
        disputed = portal.post(f"/account/claims/{other.id}/dispute")
        assert disputed.status_code == 303
        assert claimant.get("/account").status_code == 303  # its session ended
    db_session.refresh(other)
    assert other.status is AccountStatus.SUSPENDED
    assert "申诉" in (other.status_reason or "")
    assert "本主体的其他账户" not in portal.client.get("/account").text
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "subject-account.disputed")).one()
    assert entry.actor == f"subject-account:{owner.id}"
    assert entry.target == f"subject-account:{other.id}"
