"""Console plumbing: its own Jinja2 environment, flash messages, PRG redirects, HTML errors for /admin."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from xinyong.auth.rules import Permission
from xinyong.auth.service import PasswordChangeRequired
from xinyong.errors import DomainError, NotAuthenticated
from xinyong.web.deps import CSRF_FIELD, LOGIN_CSRF_COOKIE, MULTIPART_OVERHEAD, SESSION_COOKIE

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FLASH_COOKIE = "xy_flash"
FORM_MAX_BYTES = 256 * 1024
UPLOAD_PATHS = frozenset({"/admin/upload", "/admin/list-imports", "/admin/checks/batch"})
PREFIX = "/admin"

# Autoescaping is on for .html: every value a department or user typed is escaped on output.
templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.globals["Permission"] = Permission
templates.env.globals["csrf_field"] = CSRF_FIELD

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


templates.env.filters["percent"] = percent


def china_time(value: Any) -> str:
    from xinyong.clock import CHINA

    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if value else "—"


templates.env.filters["china_time"] = china_time


# ------------------------------------------------------------------------------------------- flash


def _read_flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
        return [(str(kind), str(text)) for kind, text in items][:5]
    except (ValueError, TypeError):
        return []


def redirect(request: Request, url: str, *, flash: str | None = None, kind: str = "success") -> RedirectResponse:
    """Post/Redirect/Get: 303 to a page that shows `flash` once."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        payload = base64.urlsafe_b64encode(json.dumps([[kind, flash[:300]]], ensure_ascii=False).encode()).decode()
        response.set_cookie(FLASH_COOKIE, payload, path=PREFIX, httponly=True, samesite="lax",
                            secure=request.app.state.settings.session_cookie_secure)  # fmt: skip
    return response


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> Response:
    context = dict(context or {})
    row = getattr(request.state, "user_session", None)
    context.setdefault("user", row.user if row else None)
    context.setdefault("actor", getattr(request.state, "actor", None))
    context.setdefault("csrf_token", row.csrf_token if row else "")
    context["flashes"] = _read_flashes(request)
    response = templates.TemplateResponse(request, f"admin/{name}", context, status_code=status_code)
    if context["flashes"]:
        response.delete_cookie(FLASH_COOKIE, path=PREFIX)
    return response


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_max_hours * 3600, path="/", httponly=True,
                        samesite="lax", secure=settings.session_cookie_secure)  # fmt: skip


def login_csrf(request: Request) -> str:
    """Before sign-in there is no session: the login form's token is a random cookie echoed in the form."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if not token or len(token) > 64:
        token = secrets.token_urlsafe(24)
    return token


def set_login_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path=PREFIX, httponly=True, samesite="strict",
                        secure=request.app.state.settings.session_cookie_secure)  # fmt: skip


def safe_next(url: str | None) -> str:
    """Only paths inside the console: no other host, no scheme, no protocol-relative URL."""
    if url and url.startswith(PREFIX + "/") and not url.startswith("//") and "\\" not in url and "://" not in url:
        return url
    return PREFIX


# ------------------------------------------------------------------------------ login throttling


class AttemptLimiter:
    """Sign-in attempts per client address in a sliding window (per process; the account lockout, kept in
    the database, is what holds across processes)."""

    def __init__(self, attempts: int, window_seconds: float = 900) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.attempts <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.attempts:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for stale in [k for k, v in self._hits.items() if not v or now - v[-1] > self.window]:
                    del self._hits[stale]
            return True


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ------------------------------------------------------------------------------------------ wiring


ANONYMOUS = {"user": None, "actor": None, "csrf_token": ""}


def is_console(request: Request) -> bool:
    return _is_console_path(request.url.path)


def _is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


_SECURITY_HEADER_PAIRS = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]


class ConsoleGuard:
    """For /admin only: refuse oversized or undeclared form bodies before anything parses them (FastAPI reads
    forms before it runs dependencies), and add the security headers. A plain ASGI middleware: every other
    path passes straight through, at no cost to the API."""

    def __init__(self, app: Any, *, settings: Any) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _is_console_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()),
                                      *((n, v) for n, v in _SECURITY_HEADER_PAIRS if n not in present)]  # fmt: skip
            await send(message)

        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            limit = (self.settings.upload_max_bytes + MULTIPART_OVERHEAD if scope["path"] in UPLOAD_PATHS
                     else FORM_MAX_BYTES)  # fmt: skip
            length = dict(scope.get("headers", ())).get(b"content-length", b"").decode("latin-1")
            if not length.isdigit() or int(length) > limit:
                status = 411 if not length else 413
                response = render(Request(scope), "error.html",
                                  {"status": status, "message": "上传内容过大或未注明长度", **ANONYMOUS},
                                  status_code=status)  # fmt: skip
                await response(scope, receive, send_with_headers)
                return

        await self.app(scope, receive, send_with_headers)


def install_admin(app: FastAPI) -> None:
    """Routers, the login limiter, HTML errors and security headers for /admin (other paths keep theirs)."""
    from xinyong.admin.views import router

    settings = app.state.settings
    app.state.login_limiter = AttemptLimiter(settings.login_rate_limit_attempts)
    app.include_router(router)

    previous_domain = app.exception_handlers[DomainError]
    previous_http = app.exception_handlers[StarletteHTTPException]

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        if not is_console(request):
            return await previous_domain(request, exc)
        if isinstance(exc, PasswordChangeRequired):
            return redirect(request, f"{PREFIX}/account/password", flash=exc.message, kind="warning")
        if isinstance(exc, NotAuthenticated):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            url = f"{PREFIX}/login" + (f"?next={quote(target)}" if request.method == "GET" else "")
            return redirect(request, url, flash="请先登录" if request.cookies.get(SESSION_COOKIE) else None,
                            kind="warning")  # fmt: skip
        # The request's session is gone by now (rolled back, closed): the error page shows no account.
        return render(request, "error.html", {"status": exc.status_code, "message": exc.message, **ANONYMOUS},
                      status_code=exc.status_code)  # fmt: skip

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not is_console(request):
            return await previous_http(request, exc)
        from xinyong.web.errors import HTTP_MESSAGES

        return render(request, "error.html", {"status": exc.status_code, **ANONYMOUS,
                                              "message": HTTP_MESSAGES.get(exc.status_code, "请求无法完成")},
                      status_code=exc.status_code)  # fmt: skip

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)

    app.add_middleware(ConsoleGuard, settings=settings)
