"""The sign-in cookies of the console and of subject accounts, and where a sign-in may send one next."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from xinyong.web.deps import SESSION_COOKIE, SUBJECT_COOKIE
from xinyong.web.errors import CONSOLE


def set_console_session(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_max_hours * 3600, path="/", httponly=True,
                        samesite="lax", secure=settings.session_cookie_secure)  # fmt: skip


def clear_console_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def set_subject_session(request: Request, response: Response, token: str) -> None:
    settings = request.app.state.settings
    response.set_cookie(SUBJECT_COOKIE, token, max_age=settings.subject_session_hours * 3600, path="/",
                        httponly=True, samesite="lax", secure=settings.session_cookie_secure)  # fmt: skip


def clear_subject_session(response: Response) -> None:
    response.delete_cookie(SUBJECT_COOKIE, path="/")


def safe_next(url: str | None) -> str:
    """Only paths inside the console: no other host, no scheme, no protocol-relative URL."""
    if url and url.startswith(CONSOLE + "/") and not url.startswith("//") and "\\" not in url and "://" not in url:
        return url
    return CONSOLE
