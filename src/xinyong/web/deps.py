from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from xinyong.auth import service as auth_service
from xinyong.auth.models import User, UserSession
from xinyong.auth.rules import Actor, Permission
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.departments.models import ApiKey
from xinyong.errors import InvalidInput, NotAuthenticated, PermissionDenied
from xinyong.protect import Protector


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_protector(request: Request) -> Protector:
    return request.app.state.protector


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request. Write handlers commit once, at the end; anything raised rolls back.

    Async, so that neither end costs a worker-thread hop: opening does no I/O, and closing ends the
    transaction with a rollback that takes microseconds on SQLite and one loopback round trip on PostgreSQL,
    less than the hop itself."""
    session = request.app.state.session_factory()
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A session for public look-ups that only read. On PostgreSQL its statements run outside a transaction
    (autocommit): a code look-up is two statements, and BEGIN and ROLLBACK were two more round trips. Nothing
    may be written through it (each statement would commit on its own); on SQLite it is the usual session."""
    session = request.app.state.session_factory()
    try:
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
    finally:
        session.close()  # the pool sets the connection's isolation level back


DbSession = Annotated[Session, Depends(get_session)]
ReadSession = Annotated[Session, Depends(get_read_session)]
AppSettings = Annotated[Settings, Depends(get_settings)]
AppProtector = Annotated[Protector, Depends(get_protector)]


def require_api_key(scope: str | Permission):  # type: ignore[no-untyped-def]
    """A department's key with the given scope: `Authorization: Bearer xy_…`. No key, no access."""

    def dependency(request: Request, session: DbSession) -> ApiKey:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("请在 Authorization 头中提供部门访问密钥（Bearer xy_…）")
        verified = departments_service.verify_api_key(session, token.strip(), scope=scope)
        if verified.use_recorded:
            session.commit()  # records last_used_at even if the handler fails later
        key = session.get(ApiKey, verified.id)
        assert key is not None  # just verified
        return key

    return Depends(dependency)


# ------------------------------------------------------------------------------ console accounts

SESSION_COOKIE = "xy_session"
LOGIN_CSRF_COOKIE = "xy_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Room for the multipart envelope around an upload of the largest accepted size.
MULTIPART_OVERHEAD = 64 * 1024


def load_user_session(request: Request, session: Session) -> UserSession | None:
    """The signed-in session for this request's cookie, looked up once per request."""
    if not hasattr(request.state, "user_session"):
        token = request.cookies.get(SESSION_COOKIE, "")
        request.state.user_session = (
            auth_service.load_session(session, token, settings=request.app.state.settings) if token else None
        )
    return request.state.user_session


def get_user_session(request: Request, session: DbSession) -> UserSession:
    row = load_user_session(request, session)
    if row is None:
        raise NotAuthenticated("请先登录")
    return row


CurrentSession = Annotated[UserSession, Depends(get_user_session)]


def get_current_user(row: CurrentSession) -> User:
    return row.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def check_csrf(request: Request, row: UserSession) -> None:
    """Unsafe methods need the session's CSRF token, in the form or the X-CSRF-Token header. The body size
    is checked before the form is parsed, so an oversized upload is refused before it is spooled."""
    if request.method in SAFE_METHODS:
        return
    limit = request.app.state.settings.upload_max_bytes + MULTIPART_OVERHEAD
    length = request.headers.get("content-length")
    if length is None and request.headers.get("transfer-encoding"):
        raise InvalidInput(reason="请求须注明长度（Content-Length）")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise PayloadTooLarge(limit=limit // (1024 * 1024))
    submitted = request.headers.get(CSRF_HEADER)
    if not submitted and "form" in request.headers.get("content-type", ""):
        form = await request.form(max_files=2, max_fields=50)
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not auth_service.csrf_matches(row, submitted):
        raise CsrfFailed()


def require(permission: Permission):  # type: ignore[no-untyped-def]
    """The signed-in user's actor, if their role grants `permission`; CSRF-checked for unsafe methods.
    Data scope (own department) is checked again by the services."""

    async def dependency(request: Request, row: CurrentSession) -> Actor:
        actor = auth_service.actor_for_user(row.user)
        if row.user.must_change_password and permission is not Permission.ACCOUNT_WRITE:
            raise auth_service.PasswordChangeRequired()
        if not actor.can(permission):
            raise PermissionDenied(f"无权执行此操作（需要 {permission.value} 权限）")
        await check_csrf(request, row)
        request.state.actor = actor
        return actor

    return Depends(dependency)


class CsrfFailed(PermissionDenied):
    code = "csrf-failed"
    message_template = "页面已过期或请求来源不可信，请刷新页面后重试"


class PayloadTooLarge(InvalidInput):
    code = "payload-too-large"
    status_code = 413
    message_template = "上传内容超过 {limit} MB 的上限"
