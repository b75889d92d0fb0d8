"""Activation codes: issued by staff (console, CLI), shown once, stored as a keyed hash bound to one subject;
expiry, single use, a newer code voiding the older, throttling per account and per client; revocation."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.fixtures.subject_accounts import SUBJECT_PASSWORD, anonymous_form
from tests.functional.accounts.test_takeover import ATTACKER_PASSWORD, NOT_PROVEN, claim
from typer.testing import CliRunner

from xinyong.accounts import activation, rules
from xinyong.accounts.models import AccountStatus, ActivationCode, SubjectAccount
from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.db import utcnow
from xinyong.errors import InvalidInput, PermissionDenied
from xinyong.subjects.models import Subject
from xinyong.web.ratelimit import AttemptLimiter

SECRET_RE = re.compile(r'data-testid="secret">([A-Z0-9-]+)<')


def _issue(db_session, subject_id, console_settings, protector):  # type: ignore[no-untyped-def]
    row, code = activation.issue(db_session, subject_id=subject_id, actor=Actor.system("test"), channel="post",
                                 settings=console_settings, protector=protector)  # fmt: skip
    db_session.commit()
    return row, code


def test_codes_are_random_hashed_and_bound_to_their_subject(db_session, penalty, console_settings, protector):
    first, second = penalty(), penalty()
    row, code = _issue(db_session, first.subject_id, console_settings, protector)
    assert re.fullmatch(r"([A-HJ-NP-Z2-9]{4}-){3}[A-HJ-NP-Z2-9]{4}", code)
    assert rules.normalize_activation_code(code.lower().replace("-", " ")) == code.replace("-", "")
    assert rules.normalize_activation_code("ABCD-EFGH-JKMN-PQR0") is None  # 0 is not in the alphabet
    assert code not in row.code_hash
    assert code.replace("-", "") not in row.code_hash
    assert row.expires_at - row.issued_at == timedelta(days=console_settings.activation_code_days)
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "subject-account.activation-issued")).one()
    assert code.replace("-", "") not in json.dumps(entry.details)
    assert entry.subject_id == first.subject_id
    other_subject = db_session.get(Subject, second.subject_id)
    other = SubjectAccount(subject_id=other_subject.id, contact="o@example.cn", password_hash="x", contact_confirmed=True,
                           failed_logins=0, identity_failures=0, status=AccountStatus.ACTIVE)  # fmt: skip
    db_session.add(other)
    db_session.flush()
    with pytest.raises(InvalidInput, match="激活码不正确"):  # another subject's code proves nothing here
        activation.redeem(db_session, other, code=code, settings=console_settings, protector=protector)
    assert other.identity_failures == 1
    assert not other.is_identity_verified


def test_expiry_single_use_and_voiding(app, client, db_session, penalty, console_settings, protector):
    record = penalty()
    subject = db_session.get(Subject, record.subject_id)
    old_row, old_code = _issue(db_session, subject.id, console_settings, protector)
    _row, code = _issue(db_session, subject.id, console_settings, protector)
    db_session.refresh(old_row)
    assert old_row.voided_at is not None
    csrf = claim(client, db_session, subject, "owner@example.cn", SUBJECT_PASSWORD)
    voided = client.post("/account/identity/activation", data={"csrf_token": csrf, "code": old_code})
    assert voided.status_code == 422
    assert "已作废" in voided.text
    _row.expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    expired = client.post("/account/identity/activation", data={"csrf_token": csrf, "code": code})
    assert expired.status_code == 422
    assert "已过期" in expired.text
    _row, code = _issue(db_session, subject.id, console_settings, protector)
    assert client.post("/account/identity/activation", data={"csrf_token": csrf, "code": code}).status_code == 303
    assert NOT_PROVEN not in client.get("/account").text
    used_entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "subject-account.identity-verified")).one()
    assert used_entry.details["method"] == "activation_code"
    assert used_entry.details["activation_code"] == _row.id
    # Used once: a second claimant holding the same code gets nowhere.
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as second:
        csrf2 = claim(second, db_session, subject, "second@example.cn", ATTACKER_PASSWORD)
        reused = second.post("/account/identity/activation", data={"csrf_token": csrf2, "code": code})
        assert reused.status_code == 422
        assert "已使用" in reused.text
        assert NOT_PROVEN in second.get("/account").text


def test_wrong_codes_make_the_account_wait_even_for_the_right_one(client, db_session, penalty, console_settings,
                                                                   protector):  # fmt: skip
    subject = db_session.get(Subject, penalty().subject_id)
    _row, code = _issue(db_session, subject.id, console_settings, protector)
    csrf = claim(client, db_session, subject, "owner@example.cn", SUBJECT_PASSWORD)
    for text in ("", "短", "ABCD-EFGH-JKMN-PQRS", "ABCD-EFGH-JKMN-PQRT"):
        bad = client.post("/account/identity/activation", data={"csrf_token": csrf, "code": text})
        assert bad.status_code == 422
        assert "激活码不正确" in bad.text
    assert client.post("/account/identity/activation", data={"csrf_token": csrf, "code": "2345-6789-ABCD-EFGH"}
                       ).status_code == 422  # fmt: skip
    locked = client.post("/account/identity/activation", data={"csrf_token": csrf, "code": code})
    assert locked.status_code == 429
    assert "错误次数过多" in locked.text
    assert NOT_PROVEN in client.get("/account").text
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "subject-account.activation-failed")).one()
    account = db_session.scalars(select(SubjectAccount).where(SubjectAccount.contact == "owner@example.cn")).one()
    account.identity_locked_until = utcnow() - timedelta(seconds=1)  # the wait is over
    db_session.commit()
    assert client.post("/account/identity/activation", data={"csrf_token": csrf, "code": code}).status_code == 303


def test_one_client_cannot_spread_guesses_over_many_accounts(app, client, db_session, penalty, console_settings,
                                                             protector):  # fmt: skip
    app.state.identity_limiter = AttemptLimiter(3, window_seconds=3600)
    tokens = []
    for n in range(2):
        subject = db_session.get(Subject, penalty().subject_id)
        tokens.append(claim(client, db_session, subject, f"c{n}@example.cn", SUBJECT_PASSWORD))
    # Each account's own counter stays low; the client's counter is what stops it.
    responses = [client.post("/account/identity/activation", data={"csrf_token": tokens[-1], "code": "ABCD-EFGH-JKMN-PQRS"})
                 for _ in range(4)]  # fmt: skip
    assert [r.status_code for r in responses] == [422, 422, 422, 429]
    assert "过于频繁" in responses[-1].text


def test_console_issue_revoke_and_who_may(client, db_session, accounts, sign_in, penalty, subject_account,
                                          portal_sign_in):  # fmt: skip
    record = penalty()  # reported by dept_a
    subject = db_session.get(Subject, record.subject_id)
    admin = sign_in(accounts.users["platform_admin"])
    found = admin.post("/admin/subject-accounts/find", data={"code": subject.uscc})
    assert found.status_code == 303
    assert found.headers["location"] == f"/admin/subject-accounts?subject_id={subject.id}"
    assert admin.post("/admin/subject-accounts/find", data={"code": "91330521MA00000000"}).status_code == 404
    page = admin.get(found.headers["location"])
    assert page.status_code == 200
    assert subject.name in page.text
    assert "该主体尚无账户" in page.text
    issued = admin.post("/admin/subject-accounts/activation-codes", data={"subject_id": subject.id, "channel": "counter"})
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    assert "只显示这一次" in issued.text
    assert SECRET_RE.search(issued.text)
    bad_channel = admin.post("/admin/subject-accounts/activation-codes", data={"subject_id": subject.id, "channel": "fax"})
    assert bad_channel.status_code == 303
    assert "交付方式" in admin.get(bad_channel.headers["location"]).text
    # A department reviewer issues codes for subjects its department reported on, and no others.
    reviewer_b = sign_in(accounts.users["reviewer_b"])
    refused = reviewer_b.post("/admin/subject-accounts/activation-codes", data={"subject_id": subject.id,
                                                                               "channel": "counter"})  # fmt: skip
    assert refused.status_code == 303
    assert "本部门有信用记录的主体" in reviewer_b.get(refused.headers["location"]).text
    reviewer = sign_in(accounts.users["reviewer"])
    by_reviewer = reviewer.post("/admin/subject-accounts/activation-codes", data={"subject_id": subject.id,
                                                                                 "channel": "counter"})  # fmt: skip
    assert by_reviewer.status_code == 200
    assert SECRET_RE.search(by_reviewer.text)
    auditor = sign_in(accounts.users["auditor"])
    assert auditor.post("/admin/subject-accounts/activation-codes", data={"subject_id": subject.id}).status_code == 403
    # Revoking: the 信用办 only.
    owner = subject_account(record)
    assert reviewer.post(f"/admin/subject-accounts/{owner.id}/revoke-identity", data={"reason": "证件过期"}).status_code == 403
    admin = sign_in(accounts.users["platform_admin"])
    short = admin.post(f"/admin/subject-accounts/{owner.id}/revoke-identity", data={"reason": "短"})
    assert short.status_code == 303
    assert "理由" in admin.get(short.headers["location"]).text
    portal = portal_sign_in(owner)
    assert NOT_PROVEN not in portal.client.get("/account").text
    admin = sign_in(accounts.users["platform_admin"])
    done = admin.post(f"/admin/subject-accounts/{owner.id}/revoke-identity", data={"reason": "法定代表人已变更"})
    assert done.status_code == 303
    assert "已撤销该账户的身份核验" in admin.get(done.headers["location"]).text
    db_session.refresh(owner)
    assert owner.identity_verified_at is None
    assert owner.status is AccountStatus.ACTIVE
    portal = portal_sign_in(owner)  # may sign in again, and sees only the identity page
    assert NOT_PROVEN in portal.client.get("/account").text
    admin = sign_in(accounts.users["platform_admin"])
    closed = admin.post(f"/admin/subject-accounts/{owner.id}/revoke", data={"reason": "冒用主体名义注册"})
    assert closed.status_code == 303
    again = admin.post(f"/admin/subject-accounts/{owner.id}/revoke", data={"reason": "冒用主体名义注册"})
    assert "该账户已注销" in admin.get(again.headers["location"]).text
    assert admin.post("/admin/subject-accounts/999999/revoke", data={"reason": "不存在的账户"}).status_code == 404
    db_session.refresh(owner)
    assert owner.status is AccountStatus.REVOKED
    portal.client.cookies.clear()
    token = anonymous_form(portal.client)
    login = portal.client.post("/account/login", data={"csrf_token": token, "code": subject.uscc,
                                                       "password": SUBJECT_PASSWORD})  # fmt: skip
    assert login.status_code == 401
    actions = [e.action for e in db_session.scalars(select(AuditEntry).where(AuditEntry.subject_id == subject.id))]
    assert actions.count("subject-account.activation-issued") == 3  # two in the console, one by the fixture
    assert "subject-account.identity-revoked" in actions
    assert "subject-account.revoked" in actions


def test_console_bad_input_answers_a_page_never_a_500(client, db_session, accounts, sign_in, penalty):
    subject = db_session.get(Subject, penalty().subject_id)
    admin = sign_in(accounts.users["platform_admin"])
    # An unknown code: the look-up form again, with the reason.
    unknown = admin.post("/admin/subject-accounts/find", data={"code": "91330521MA00000000"})
    assert unknown.status_code == 404
    assert 'action="/admin/subject-accounts/find"' in unknown.text
    assert "未找到" in unknown.text
    missing = admin.get("/admin/subject-accounts?subject_id=999999")
    assert missing.status_code == 404
    assert "未找到该信用主体" in missing.text
    assert admin.get(f"/admin/subject-accounts?subject_id={2**63}").status_code == 422
    # A subject id that names nothing sends the person back to the look-up with the reason.
    for bad in ("", "abc", str(2**63), "999999"):
        issued = admin.post("/admin/subject-accounts/activation-codes", data={"subject_id": bad, "channel": "counter"})
        assert issued.status_code == 303, bad
        assert "未找到该信用主体" in admin.get(issued.headers["location"]).text
    assert db_session.scalar(select(ActivationCode.id).where(ActivationCode.subject_id == subject.id)) is None
    for action in ("revoke", "revoke-identity"):
        gone = admin.post(f"/admin/subject-accounts/{2**63}/{action}", data={"reason": "不存在的账户"})
        assert gone.status_code == 404


def test_portal_identity_pages_need_a_sign_in_and_bound_ids(client, db_session, penalty, console_settings, app):
    for path in ("/account/identity", "/account/identity/oidc/callback"):
        anonymous = client.get(path)
        assert anonymous.status_code == 303
        assert anonymous.headers["location"] == "/account/login"
    subject = db_session.get(Subject, penalty().subject_id)
    csrf = claim(client, db_session, subject, "owner@example.cn", SUBJECT_PASSWORD)
    assert NOT_PROVEN in client.get("/account/identity").text
    far = client.post(f"/account/claims/{2**63}/dispute", data={"csrf_token": csrf})
    assert far.status_code == 404
    forged = client.post("/account/identity/activation", data={"csrf_token": "forged", "code": "ABCD-EFGH-JKMN-PQRS"})
    assert forged.status_code == 403
    assert "页面已过期" in forged.text
    app.state.settings = console_settings.model_copy(update={"account_identity_methods": ("oidc",)})
    off = client.post("/account/identity/activation", data={"csrf_token": csrf, "code": "ABCD-EFGH-JKMN-PQRS"})
    assert off.status_code == 404
    assert "本平台未启用激活码核验" in off.text
    assert "主体身份核验" in off.text  # the identity page again, with the reason


def test_service_refuses_staff_without_the_permission(db_session, penalty, accounts, console_settings, protector):
    from xinyong.accounts import service
    from xinyong.auth import service as auth_service

    record = penalty()
    auditor = auth_service.actor_for_user(accounts.users["auditor"])
    with pytest.raises(PermissionDenied):
        activation.issue(db_session, subject_id=record.subject_id, actor=auditor, channel="counter",
                         settings=console_settings, protector=protector)  # fmt: skip
    with pytest.raises(PermissionDenied):
        service.revoke_account(db_session, 1, actor=auditor, reason="审计员不能注销")


def test_cli_issue_list_and_revoke(fresh_database_url, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    from tests.factories import records as f
    from tests.fixtures.keys import TEST_KEY, keyed_sessionmaker

    from xinyong.cli import app
    from xinyong.commandline import session_factory, settings
    from xinyong.config import Settings
    from xinyong.db import make_engine
    from xinyong.protect import protector as make_protector
    from xinyong.records import service as records_service

    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    local = Settings(database_url=fresh_database_url, secret_key=TEST_KEY, secret_key_file=tmp_path / "k")
    engine = make_engine(fresh_database_url)
    session = keyed_sessionmaker(engine)()
    row = f.penalty_row()
    records_service.import_rows(session, [row], settings=local, protector=make_protector(local), record_type="penalty",
                                department=f.department(session), actor="test", today=utcnow().date())  # fmt: skip
    session.commit()
    settings.cache_clear()
    session_factory.cache_clear()
    runner = CliRunner()
    try:
        result = runner.invoke(app, ["accounts", "issue-activation", row["CF_XDR_SHXYM"], "--json"])
        assert result.exit_code == 0, result.output
        issued = json.loads(result.output)
        assert issued["subject"] == row["CF_XDR_MC"]
        assert rules.normalize_activation_code(issued["activation_code"])
        result = runner.invoke(app, ["accounts", "issue-activation", row["CF_XDR_SHXYM"], "--channel", "fax"])
        assert result.exit_code == 1
        assert "交付方式" in result.output
        result = runner.invoke(app, ["accounts", "issue-activation", "91330521MA00000000"])
        assert result.exit_code == 1
        assert "未找到该信用主体" in result.output
        result = runner.invoke(app, ["accounts", "list", row["CF_XDR_SHXYM"]])
        assert result.exit_code == 0
        assert "该主体尚无账户" in result.output
        result = runner.invoke(app, ["accounts", "revoke", "12345", "--reason", "不存在的账户"])
        assert result.exit_code == 1
        assert "未找到该信用主体账户" in result.output
        stored = session.scalars(select(ActivationCode)).all()
        assert len(stored) == 1
        assert stored[0].issued_by == "cli"
    finally:
        settings.cache_clear()
        session_factory.cache_clear()
        session.close()
        engine.dispose()
