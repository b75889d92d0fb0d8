"""Sign-in, sign-out and password change."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from xinyong.admin.web import (
    client_of,
    login_csrf,
    redirect,
    render,
    safe_next,
    set_login_csrf,
    set_session_cookie,
)
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Actor, Permission
from xinyong.errors import DomainError, InvalidInput
from xinyong.web.deps import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AppSettings,
    CurrentSession,
    DbSession,
    load_user_session,
    require,
)

router = APIRouter(prefix="/admin")
Account = Annotated[Actor, require(Permission.ACCOUNT_WRITE)]


@router.get("/login", name="admin.login")
def login_form(request: Request, session: DbSession, next: str | None = None) -> Response:
    if load_user_session(request, session) is not None:
        return redirect(request, safe_next(next))
    token = login_csrf(request)
    response = render(request, "login.html", {"login_csrf": token, "next": safe_next(next)})
    set_login_csrf(request, response, token)
    return response


@router.post("/login", name="admin.login.submit")
def login_submit(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/admin",
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not csrf or not hmac.compare_digest(cookie.encode(), csrf.encode()):
        return _login_error(request, "页面已过期，请重新提交", next, status_code=403)
    client = client_of(request)
    try:  # throttled in the service (auth.throttle), in the database, for every server process
        user = auth_service.authenticate(session, username=username, password=password, settings=settings,
                                         client=client)  # fmt: skip
    except DomainError as exc:
        session.commit()  # failure counters and the audit entry stay
        return _login_error(request, exc.message, next, status_code=exc.status_code, username=username)
    _row, token = auth_service.start_session(session, user, settings=settings, client=client)
    session.commit()
    target = "/admin/account/password" if user.must_change_password else safe_next(next)
    response = redirect(request, target, flash=f"欢迎，{user.display_name}")
    set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    return response


def _login_error(request: Request, message: str, next_url: str, *, status_code: int, username: str = "") -> Response:
    token = login_csrf(request)
    response = render(request, "login.html", {"login_csrf": token, "next": safe_next(next_url), "error": message,
                                              "username": username[:40]}, status_code=status_code)  # fmt: skip
    set_login_csrf(request, response, token)
    return response


@router.post("/logout", name="admin.logout")
def logout(request: Request, session: DbSession, row: CurrentSession, actor: Account) -> Response:
    auth_service.end_session(session, row)
    session.commit()
    response = redirect(request, "/admin/login", flash="已安全退出")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", name="admin.account.password")
def password_form(request: Request, actor: Account) -> Response:
    return render(request, "password.html")


@router.post("/account/password", name="admin.account.password.submit")
def password_submit(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    row: CurrentSession,
    actor: Account,
    current: Annotated[str, Form(max_length=300)] = "",
    new: Annotated[str, Form(max_length=300)] = "",
    confirm: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        if new != confirm:
            raise InvalidInput(reason="两次输入的新密码不一致")
        auth_service.change_password(session, user=row.user, current=current, new=new, settings=settings,
                                     keep_session=row.id)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        return render(request, "password.html", {"error": exc.message}, status_code=exc.status_code)
    session.commit()
    return redirect(request, "/admin", flash="密码已修改，其他已登录的会话已退出")



