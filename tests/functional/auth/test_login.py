"""Sign-in, sessions, CSRF, throttling and lockout, password change."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.functional.admin.conftest import PASSWORD, login_form_token

from xinyong.audit.models import AuditEntry
from xinyong.auth import service as auth_service
from xinyong.auth.models import User, UserSession
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


def test_wrong_password_and_unknown_user_give_the_same_answer(client, accounts):
    wrong = _login(client, "operator", "Wrong-password-1")
    unknown = _login(client, "nobody", "Wrong-password-1")

    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.text
    assert "用户名或密码错误" in unknown.text


def test_a_password_storm_locks_the_account_and_the_right_password_no_longer_works(client, accounts, db_session):
    for _ in range(5):
        response = _login(client, "operator", "Wrong-password-1")
    assert response.status_code == 429
    assert "临时锁定" in response.text

    locked = _login(client, "operator", PASSWORD)
    assert locked.status_code == 429
    assert SESSION_COOKIE not in locked.cookies
    user = db_session.get(User, accounts.users["operator"].id)
    assert user.locked_until is not None
    assert user.locked_until > utcnow() + timedelta(minutes=14)
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"user:{user.id}")).all()
    assert actions.count("auth.login-failed") == 5
    assert "auth.locked" in actions


def test_the_lock_expires_and_success_resets_the_counter(client, accounts, db_session):
    for _ in range(5):
        _login(client, "operator", "Wrong-password-1")
    user = db_session.get(User, accounts.users["operator"].id)
    user.locked_until = utcnow() - timedelta(seconds=1)
    db_session.flush()

    assert _login(client, "operator", PASSWORD).status_code == 303
    db_session.refresh(user)
    assert user.failed_logins == 0


def test_the_client_address_is_throttled(app, client, accounts):
    from xinyong.web.ratelimit import AttemptLimiter

    app.state.login_limiter = AttemptLimiter(3)
    statuses = [_login(client, f"nobody{i}", "Wrong-password-1").status_code for i in range(5)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]


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
