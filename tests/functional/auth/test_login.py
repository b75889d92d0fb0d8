"""Sign-in, sessions, CSRF, throttling (delays, never locks) and its audit, password change."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.fixtures.console import PASSWORD, login_form_token

from xinyong.actors import Actor
from xinyong.audit.models import AuditEntry
from xinyong.auth import passwords
from xinyong.auth import service as auth_service
from xinyong.auth.models import LoginThrottle, UserSession
from xinyong.db import utcnow
from xinyong.web.deps import SESSION_COOKIE


def _login(client, username: str, password: str, token: str | None = None):  # type: ignore[no-untyped-def]
    token = token if token is not None else login_form_token(client)
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": token})


def test_a_good_password_signs_in_with_a_safe_cookie(client, accounts):
    response = _login(client, "operator", PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == "/admin"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # configurable; off for plain-HTTP development
    assert client.get("/admin").status_code == 200


def test_the_cookie_is_secure_when_configured(app, accounts):
    from fastapi.testclient import TestClient

    app.state.settings = app.state.settings.model_copy(update={"session_cookie_secure": True})
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    response = _login(client, "operator", PASSWORD)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "Secure" in cookie


def test_only_the_hash_of_the_session_token_is_stored(client, accounts, db_session):
    response = _login(client, "operator", PASSWORD)
    token = response.cookies[SESSION_COOKIE]
    stored = db_session.scalars(select(UserSession.token_hash)).all()
    assert token not in stored
    assert len(stored) == 1


def test_passwords_are_argon2_hashes(accounts):
    assert accounts.users["operator"].password_hash.startswith("$argon2id$")


GENERIC = "用户名或密码错误，或登录尝试过于频繁，请稍后再试"
ALERT_RE = re.compile(r'role="alert">([^<]*)<')


def _alert(response) -> str:  # type: ignore[no-untyped-def]
    match = ALERT_RE.search(response.text)
    assert match, response.text
    return match.group(1)


def _client_at(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, client=(address, 40000), follow_redirects=False)


def _pass_time(session: Session, seconds: float) -> None:
    """As if `seconds` went by for sign-in throttling: every delay and window moves back."""
    step = timedelta(seconds=seconds)
    for row in session.scalars(select(LoginThrottle)):
        row.window_start -= step
        row.updated_at -= step
        row.blocked_until = row.blocked_until - step if row.blocked_until else None
        row.audited_until = row.audited_until - step if row.audited_until else None
    session.flush()


def _audit_rows(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_wrong_password_and_unknown_user_give_the_same_answer(client, accounts):
    wrong = _login(client, "operator", "Wrong-password-1")
    unknown = _login(client, "nobody", "Wrong-password-1")

    assert wrong.status_code == unknown.status_code == 401
    assert _alert(wrong) == _alert(unknown) == GENERIC


class CountingHasher(PasswordHasher):
    verifications = 0

    def verify(self, hash, password):  # type: ignore[no-untyped-def]
        CountingHasher.verifications += 1
        return super().verify(hash, password)


def test_no_answer_tells_an_account_from_a_missing_one(app, accounts, db_session, monkeypatch):
    """Unknown name, wrong password, disabled account, an account or a missing name under a delay: one status,
    one message, and each answer costs one Argon2 verification (about the same time)."""
    hasher = CountingHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: hasher)
    passwords._DUMMY.clear()
    passwords.burn_time("warm-up")  # the dummy hash is made once, on first use
    accounts.users["reviewer_b"].is_active = False
    db_session.flush()
    for name in ("operator-b", "nobody-here"):  # five failures each from elsewhere: both names are now delayed
        storm = _client_at(app, "198.51.100.1")
        for _ in range(5):
            _login(storm, name, "Wrong-password-1")

    answers = {}
    for n, (label, name, password) in enumerate([
        ("unknown", "nobody", PASSWORD), ("wrong password", "operator", "Wrong-password-1"),
        ("disabled", "reviewer-b", PASSWORD), ("delayed account, right password", "operator-b", PASSWORD),
        ("delayed missing name", "nobody-here", PASSWORD),
    ]):  # fmt: skip
        browser = _client_at(app, f"203.0.113.{n + 1}")
        token = login_form_token(browser)
        before = CountingHasher.verifications
        response = _login(browser, name, password, token)
        answers[label] = (response.status_code, _alert(response), CountingHasher.verifications - before)
        assert SESSION_COOKIE not in response.cookies

    assert set(answers.values()) == {(401, GENERIC, 1)}, answers


def test_a_password_storm_delays_the_account_and_the_delay_runs_out(client, accounts, db_session):
    user = accounts.users["operator"]
    statuses = [_login(client, "operator", "Wrong-password-1").status_code for _ in range(5)]
    refused = [_login(client, "operator", PASSWORD) for _ in range(10)]  # the right password, during the delay

    assert statuses == [401] * 5
    assert {r.status_code for r in refused} == {401}
    assert {_alert(r) for r in refused} == {GENERIC}
    assert all(SESSION_COOKIE not in r.cookies for r in refused)
    db_session.refresh(user)
    assert user.failed_logins == 5
    assert utcnow() < user.locked_until <= utcnow() + timedelta(seconds=5)  # a delay of seconds, not a lock
    failed = [e for e in _audit_rows(db_session, "auth.login-failed") if e.target == f"user:{user.id}"]
    assert [e.details["failures"] for e in failed] == [1, 2, 3, 4, 5]
    assert failed[-1].details["delay_seconds"] == 5
    throttled = _audit_rows(db_session, "auth.login-throttled")
    assert len(throttled) == 1  # ten refusals, one entry: a flood cannot fill the audit trail
    assert throttled[0].target == f"user:{user.id}"
    assert throttled[0].details["client"] == "testclient"

    _pass_time(db_session, 5)
    assert _login(client, "operator", PASSWORD).status_code == 303
    db_session.refresh(user)
    assert user.failed_logins == 0
    assert user.locked_until is None


def test_an_attacker_cannot_keep_the_administrator_out(app, accounts, db_session):
    attacker = _client_at(app, "198.51.100.7")
    administrator = _client_at(app, "203.0.113.20")
    name = accounts.users["platform_admin"].username
    for _ in range(120):  # ten minutes of guessing, one guess every five seconds
        assert _login(attacker, name, "Guess-password-1").status_code == 401
        _pass_time(db_session, 5)

    # The attacker's own delay has grown to minutes; the account's stops at 30 s, and attempts refused by the
    # attacker's delay do not renew it: the administrator, from elsewhere, is in within half a minute.
    waited = 0
    while _login(administrator, name, PASSWORD).status_code != 303:
        assert _login(attacker, name, "Guess-password-1").status_code == 401
        _pass_time(db_session, 5)
        waited += 5
        assert waited <= 30, "the administrator was kept out"
    assert administrator.get("/admin").status_code == 200
    # Even the right password waits out the attacking address's delay.
    assert _login(attacker, name, PASSWORD).status_code == 401


def test_a_client_that_fails_too_often_is_refused_whatever_the_name(app, accounts, db_session):
    app.state.settings = app.state.settings.model_copy(update={"login_rate_limit_attempts": 3})
    noisy = _client_at(app, "198.51.100.9")
    statuses = [_login(noisy, f"nobody{i}", "Wrong-password-1").status_code for i in range(3)]
    right_password = _login(noisy, "operator", PASSWORD)
    elsewhere = _login(_client_at(app, "203.0.113.9"), "operator", PASSWORD)

    assert statuses == [401, 401, 401]
    assert right_password.status_code == 401
    assert _alert(right_password) == GENERIC
    assert elsewhere.status_code == 303
    throttled = _audit_rows(db_session, "auth.login-throttled")
    assert [(e.details["scope"], e.details["client"]) for e in throttled] == [("client", "198.51.100.9")]

    _pass_time(db_session, 15 * 60)  # the window ends
    assert _login(noisy, "operator", PASSWORD).status_code == 303


def test_failures_for_unknown_names_are_audited_without_the_password(client, accounts, db_session):
    id_number = "330521199001011234"
    _login(client, "no-such-user", "Secret-guess-77")
    _login(client, id_number, "Secret-guess-78")

    failed = _audit_rows(db_session, "auth.login-failed")
    assert [(e.actor, e.target, e.details["known"]) for e in failed] == [("anonymous", None, False)] * 2
    assert failed[0].details["username"] == "no-such-user"
    assert failed[1].details["username"] == "3305**********1234"
    assert all(e.details["client"] == "testclient" for e in failed)
    stored = " ".join(json.dumps(e.details, ensure_ascii=False) + (e.reason or "") for e in failed)
    assert "Secret-guess" not in stored
    assert id_number not in stored


def test_an_administrator_lifts_the_delays_of_an_account(client, accounts, db_session):
    for _ in range(6):
        _login(client, "operator", "Wrong-password-1")
    assert _login(client, "operator", PASSWORD).status_code == 401
    auth_service.update_user(db_session, accounts.users["operator"].id, actor=Actor.system("test"), unlock=True)
    db_session.flush()
    assert _login(client, "operator", PASSWORD).status_code == 303
    assert _audit_rows(db_session, "user.updated")[-1].details["unlocked"] is True


def test_login_without_or_with_a_forged_csrf_token_is_refused(client, accounts):
    login_form_token(client)  # sets the cookie
    assert _login(client, "operator", PASSWORD, token="").status_code == 403
    assert _login(client, "operator", PASSWORD, token="forged-token").status_code == 403
    client.cookies.clear()
    assert _login(client, "operator", PASSWORD, token="forged-token").status_code == 403


def test_console_forms_need_the_session_csrf_token(sign_in, accounts, db_session):
    browser = sign_in(accounts.users["platform_admin"])
    data = {"code": "11330521MB0000000X", "name": "安吉县测试局"}

    missing = browser.client.post("/admin/departments", data=data)
    forged = browser.client.post("/admin/departments", data={**data, "csrf_token": "x" * 43})
    other = sign_in(accounts.users["auditor"]).csrf  # another session's token
    browser = sign_in(accounts.users["platform_admin"])
    crossed = browser.client.post("/admin/departments", data={**data, "csrf_token": other})

    assert missing.status_code == forged.status_code == crossed.status_code == 403
    assert "页面已过期" in missing.text


def test_anonymous_console_pages_redirect_to_login(client):
    response = client.get("/admin/batches?department=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/batches%3Fdepartment%3D1"


def test_next_cannot_leave_the_console(client, accounts):
    for target in ("https://evil.example/", "//evil.example/admin", "/admin\\..\\x", "/portal"):
        client.cookies.clear()
        token = login_form_token(client)
        response = client.post("/admin/login", data={"username": "operator", "password": PASSWORD,
                                                     "csrf_token": token, "next": target})
        assert response.headers["location"] == "/admin", target


def test_logout_ends_the_session_server_side(sign_in, accounts):
    browser = sign_in(accounts.users["operator"])
    cookie = browser.client.cookies[SESSION_COOKIE]

    assert browser.post("/admin/logout").status_code == 303
    browser.client.cookies.set(SESSION_COOKIE, cookie)  # a stolen copy of the cookie
    assert browser.get("/admin").status_code == 303


def test_idle_and_expired_sessions_end(sign_in, accounts, db_session):
    browser = sign_in(accounts.users["operator"])
    row = db_session.scalars(select(UserSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    db_session.flush()
    assert browser.get("/admin").status_code == 303


def test_password_change_needs_the_current_password_and_ends_other_sessions(sign_in, accounts, db_session):
    user = accounts.users["operator"]
    other = sign_in(user).client.cookies[SESSION_COOKIE]
    browser = sign_in(user)

    wrong = browser.post("/admin/account/password", {"current": "nope", "new": "Another-pass-77", "confirm": "Another-pass-77"})
    weak = browser.post("/admin/account/password", {"current": PASSWORD, "new": "short", "confirm": "short"})
    good = browser.post("/admin/account/password", {"current": PASSWORD, "new": "Another-pass-77",
                                                    "confirm": "Another-pass-77"})

    assert wrong.status_code == 422
    assert "当前密码不正确" in wrong.text
    assert weak.status_code == 422
    assert "至少 10 位" in weak.text
    assert good.status_code == 303
    assert browser.get("/admin").status_code == 200  # this session stays
    browser.client.cookies.set(SESSION_COOKIE, other)
    assert browser.get("/admin").status_code == 303  # the other one ended
    db_session.refresh(user)
    assert auth_service.passwords.verify_password(user.password_hash, "Another-pass-77")


def test_a_new_account_must_change_its_password_first(sign_in, accounts, db_session):
    user = accounts.users["operator"]
    user.must_change_password = True
    db_session.flush()
    browser = sign_in(user)

    response = browser.get("/admin/batches")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/account/password"
    assert browser.get("/admin/account/password").status_code == 200


def test_deactivated_users_lose_their_sessions(sign_in, accounts, db_session):
    browser = sign_in(accounts.users["operator"])
    accounts.users["operator"].is_active = False
    db_session.flush()
    assert browser.get("/admin").status_code == 303
