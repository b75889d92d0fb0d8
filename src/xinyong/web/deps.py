"""What a route can ask for: settings, the day, its database session (inside its unit of work), and who is
asking — a console user with a permission, a department system with a key, or a signed-in subject.

Credentials are read here and only here: the bearer token of a department key, the console's session
cookie and the subject's session cookie, with the CSRF check that goes with each kind of sign-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from xinyong import clock
from xinyong.actors import Actor, Permission
from xinyong.auth import service as auth_service
from xinyong.auth.models import User, UserSession
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.departments.models import ApiKey
from xinyong.errors import NotAuthenticated
from xinyong.protect import Protector
from xinyong.web import csrf
from xinyong.web.client import client_address
from xinyong.web.templating import Viewer
from xinyong.web.uow import WRITES_FIRST, UnitOfWork, works_off_the_loop

SESSION_COOKIE = "xy_session"
SUBJECT_COOKIE = "xy_subject"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Database ids are the databases' INTEGER (32-bit on PostgreSQL): anything larger names nothing, and answers 404
# (see web.errors) instead of reaching the database as a value it cannot hold.
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def parse_id(text: str | None) -> int | None:
    """An id typed in a form field: None unless it is one (digits, within the database's range)."""
    text = (text or "").strip()
    if not text.isdigit() or len(text) > 19 or not 1 <= int(text) <= MAX_ID:
        return None
    return int(text)

# ------------------------------------------------------------------------------------------ basics


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_protector(request: Request) -> Protector:
    return request.app.state.protector  # type: ignore[no-any-return]


async def get_today() -> date:
    """The publication day (Beijing). A dependency, so tests can pin it. Async, like every dependency that
    does no I/O: FastAPI runs plain functions in a worker thread, a hop that costs more than the work."""
    return clock.today()


async def get_client(request: Request) -> str:
    return client_address(request)


AppSettings = Annotated[Settings, Depends(get_settings)]
AppProtector = Annotated[Protector, Depends(get_protector)]
Today = Annotated[date, Depends(get_today)]
Client = Annotated[str, Depends(get_client)]

# ------------------------------------------------------------------------------------------ sessions


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's database session. Its transaction is ended by the route (see web.uow), never here;
    closing rolls back whatever a failed request left. Async, so that neither end costs a worker-thread hop.

    A request that submits something (POST, PUT, DELETE) reads before it writes, and on SQLite a transaction
    that has read cannot start writing once another connection (an import's chunk, a job) committed after that
    read: it failed at once. When its handler is synchronous (it runs in a worker thread) its transactions
    begin as writers' instead (db.writers_bind), waiting for the chunk in progress and then holding the write
    lock until the request's work is committed; its form is read first, so that no slow client is waited for
    while the lock is held. Asynchronous handlers keep plain transactions: their awaits run on the event loop,
    which must never wait for the lock, and they write through `UnitOfWork.write` — unless marked
    `writes_first`: their database work runs in worker threads (their dependencies, `run_in_threadpool`) or
    inside a transaction that a dependency began there, so they begin as writers too."""
    factory = request.app.state.session_factory
    if request.method in SAFE_METHODS or not _begins_as_writer(request):
        session = factory()
    else:
        if _is_form(request):
            await read_form(request)  # FastAPI has read a declared form already: this is its cached copy
        session = factory(bind=request.app.state.writers_bind)
    try:
        yield session
    finally:
        session.close()


def _begins_as_writer(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    return endpoint is not None and works_off_the_loop(endpoint)


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def writes_first(endpoint: Endpoint) -> Endpoint:
    """Marks an asynchronous console handler that submits a form to begin its transaction as a writer's on
    SQLite, as synchronous handlers do (see `get_session`): its form is read before, and the transaction is begun
    in a worker thread by the dependency that loads the signed-in console user, so the event loop never waits
    for the lock and the handler's own statements then find it held. Only for short writes whose awaits are
    local: not for a handler that only reads, reads uploaded files, hashes passwords, calls other services or
    opens connections of its own while it would hold the lock, nor for one whose first statement may run on
    the event loop (an anonymous form), where the mark does nothing: those hand their work to
    `UnitOfWork.run_as_writer`. Its steps on the event loop run while it holds the lock; a credit check answered
    meanwhile finds the lock taken without waiting for it on the loop, and waits in a worker thread
    (`writequeue.run_in_turn`)."""
    setattr(endpoint, WRITES_FIRST, True)
    return endpoint


async def read_form(request: Request) -> FormData:
    """The request's form, within the bounds of a console form (the request guard has bounded its size);
    Starlette keeps it, so reading it again costs nothing."""
    return await request.form(max_files=2, max_fields=60)


def _is_form(request: Request) -> bool:
    """Whether Starlette parses the body as a form (it compares the media type case-insensitively)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media_type in ("multipart/form-data", "application/x-www-form-urlencoded")


async def get_uow(request: Request, session: Annotated[Session, Depends(get_session)]) -> UnitOfWork:
    uow = getattr(request.state, "uow", None)
    if uow is None:
        uow = request.state.uow = UnitOfWork(request, session)
    return uow  # type: ignore[no-any-return]


async def get_db(uow: Annotated[UnitOfWork, Depends(get_uow)]) -> Session:
    return uow.session


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A session for the public portal's and the public API's reads, and nothing else: from the read replica
    when `XINYONG_READ_DATABASE_URL` names one, else from the primary. It refuses writes (db.ReadOnlySession;
    a replica's connections are read-only too), and what it shows may trail the primary by the replica's lag:
    console pages, anything audited, anything that needs a subject's ID number in clear and every route of a
    department's key use `DbSession`, always on the primary. On PostgreSQL its statements run outside a
    transaction (autocommit): a code look-up is two statements, and BEGIN and ROLLBACK were two more round
    trips."""
    session = request.app.state.read_session_factory()
    try:
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session
    finally:
        session.close()  # the pool sets the connection's isolation level back


SessionOpener = Callable[[bool], AbstractContextManager[Session]]


async def get_session_opener(request: Request) -> SessionOpener:
    """Opens a short session, on the primary (True) or the read side (False), for a dependency that ends it before
    the page's work begins (`regions.portal_region`). The tests give their one session instead."""
    state = request.app.state

    def opened(primary: bool) -> AbstractContextManager[Session]:
        return (state.session_factory if primary else state.read_session_factory)()  # type: ignore[no-any-return]

    return opened


UoW = Annotated[UnitOfWork, Depends(get_uow)]
DbSession = Annotated[Session, Depends(get_db)]
ReadSession = Annotated[Session, Depends(get_read_session)]

# --------------------------------------------------------------------------- department systems (keys)


def bearer_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer …`; None without the header; NotAuthenticated for another scheme."""
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("请在 Authorization 头中提供部门访问密钥（Bearer xy_…）")
    return token.strip()


def require_api_key(scope: str | Permission):  # type: ignore[no-untyped-def]
    """A department's key with the given scope: `Authorization: Bearer xy_…`. No key, no access."""

    def dependency(request: Request, uow: UoW) -> ApiKey:
        token = bearer_token(request)
        if token is None:
            raise NotAuthenticated("请在 Authorization 头中提供部门访问密钥（Bearer xy_…）")
        verified = departments_service.verify_api_key(uow.session, token, scope=scope)
        if verified.use_recorded:
            uow.commit()  # the key's use is kept even if the request fails later
        key = uow.session.get(ApiKey, verified.id)
        assert key is not None  # just verified
        return key

    return Depends(dependency)


# --------------------------------------------------------------------------------- console accounts


def load_user_session(request: Request, session: Session) -> UserSession | None:
    """The signed-in console session for this request's cookie, looked up once per request."""
    if not hasattr(request.state, "user_session"):
        token = request.cookies.get(SESSION_COOKIE, "")
        row = auth_service.load_session(session, token, settings=request.app.state.settings) if token else None
        request.state.user_session = row
        when = auth_service.use_to_record(row) if row is not None else None
        if row is not None and when is not None:
            row_id = row.id
            uow: UnitOfWork = request.state.uow
            uow.write_later(lambda: auth_service.record_use(uow.session, row_id, when))
        if row is not None:
            request.state.session_csrf = row.csrf_token
            request.state.viewer = _viewer(row.user)
    return request.state.user_session  # type: ignore[no-any-return]


def _viewer(user: User) -> Viewer:
    department = user.department
    return Viewer(display_name=user.display_name, role_label=user.role.label,
                  department_name=department.name if department else None,
                  must_change_password=user.must_change_password,
                  department_inactive=bool(user.role.is_department_bound and department and not department.is_active))  # fmt: skip


def get_user_session(request: Request, session: DbSession) -> UserSession:
    row = load_user_session(request, session)
    if row is None:
        raise NotAuthenticated("请先登录")
    return row


CurrentSession = Annotated[UserSession, Depends(get_user_session)]


async def check_csrf(request: Request) -> None:
    """Unsafe methods need the session's CSRF token, in the X-CSRF-Token header or the form (whose size
    the request guard has bounded before this parses it)."""
    if request.method in SAFE_METHODS:
        return
    submitted = request.headers.get(csrf.HEADER)
    if not submitted and "form" in request.headers.get("content-type", ""):
        form = await read_form(request)
        value = form.get(csrf.FIELD)
        submitted = value if isinstance(value, str) else None
    csrf.verify(request, submitted)


async def _console_actor(request: Request, row: UserSession, permission: Permission) -> Actor:
    actor = auth_service.actor_for_user(row.user)
    request.state.actor = actor
    if row.user.must_change_password and permission is not Permission.ACCOUNT_WRITE:
        raise auth_service.PasswordChangeRequired()
    if not actor.can(permission):
        raise auth_service.permission_refused(row.user, permission)
    await check_csrf(request)
    return actor


def require(permission: Permission):  # type: ignore[no-untyped-def]
    """The signed-in user's actor, if their role grants `permission`; CSRF-checked for unsafe methods.
    Data scope (own department) is checked again by the services."""

    async def dependency(request: Request, row: CurrentSession) -> Actor:
        return await _console_actor(request, row, permission)

    return Depends(dependency)


def key_or_user(api_permission: Permission, user_permission: Permission):  # type: ignore[no-untyped-def]
    """A department system's key (`Authorization: Bearer xy_…`) or a signed-in console user (with the
    session's CSRF token in X-CSRF-Token for writes). The key's use is not recorded here: the caller records
    it with its own write when `request.state.key_use_due` says it is due (see checks.api)."""

    async def dependency(request: Request, session: DbSession) -> Actor:
        token = bearer_token(request)
        if token is not None:
            key = departments_service.verify_api_key(session, token, scope=api_permission, record_use=False)
            request.state.key_use_due = key if key.use_due else None
            actor = auth_service.actor_for_key(key)
            request.state.actor = actor
            return actor
        row = load_user_session(request, session)
        if row is None:
            raise NotAuthenticated("请提供部门访问密钥（Bearer xy_…）或先登录控制台")
        return await _console_actor(request, row, user_permission)

    return Depends(dependency)
