"""Sign-in, sign-out and password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from xinyong.auth import service as auth_service
from xinyong.auth.rules import Actor, Permission
from xinyong.errors import InvalidInput
from xinyong.web import csrf
from xinyong.web.cookies import clear_console_session, safe_next, set_console_session
from xinyong.web.deps import AppSettings, Client, CurrentSession, DbSession, load_user_session, require
from xinyong.web.errors import on_error_render, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin")
Account = Annotated[Actor, require(Permission.ACCOUNT_WRITE)]


@router.get("/login", name="admin.login")
def login_form(request: Request, session: DbSession, next: str | None = None) -> Response:
    if load_user_session(request, session) is not None:
        return redirect(request, safe_next(next))
    return render(request, "admin/login.html", {"next": safe_next(next)})


@router.post("/login", name="admin.login.submit")
def login_submit(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    client: Client,
    username: Annotated[str, Form(max_length=100)] = "",
    password: Annotated[str, Form(max_length=300)] = "",
    token: Annotated[str, Form(alias=csrf.FIELD, max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/admin",
) -> Response:
    on_error_render(request, "admin/login.html", {"next": safe_next(next), "username": username[:40]})
    csrf.verify(request, token)
    # Throttled in the service (auth.throttle), in the database, for every server process.
    user = auth_service.authenticate(session, username=username, password=password, settings=settings, client=client)
    _row, session_token = auth_service.start_session(session, user, settings=settings, client=client)
    target = "/admin/account/password" if user.must_change_password else safe_next(next)
    response = redirect(request, target, flash_message=f"欢迎，{user.display_name}")
    set_console_session(request, response, session_token)
    return response


@router.post("/logout", name="admin.logout")
def logout(request: Request, session: DbSession, row: CurrentSession, actor: Account) -> Response:
    auth_service.end_session(session, row)
    response = redirect(request, "/admin/login", flash_message="已安全退出")
    clear_console_session(response)
    return response


@router.get("/account/password", name="admin.account.password")
def password_form(request: Request, actor: Account) -> Response:
    return render(request, "admin/password.html")


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
    on_error_render(request, "admin/password.html", {})
    if new != confirm:
        raise InvalidInput(reason="两次输入的新密码不一致")
    auth_service.change_password(session, user=row.user, current=current, new=new, settings=settings,
                                 keep_session=row.id)  # fmt: skip
    return redirect(request, "/admin", flash_message="密码已修改，其他已登录的会话已退出")
