"""One CSRF defence for every form and every signed-in JSON call.

A signed-in person's token is their session's (`UserSession.csrf_token` on the console,
`SubjectSession.csrf_token` on the portal), set on `request.state.session_csrf` by whichever loader
signed them in. Before sign-in (login and sign-up forms, the progress look-up) the token is a random value
kept in a strict same-site cookie and echoed in the form (double submit). Either way it comes back in the
form field `csrf_token` or the `X-CSRF-Token` header, and is compared in constant time."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.responses import Response

from xinyong.errors import PermissionDenied

FIELD = "csrf_token"
HEADER = "x-csrf-token"
FORM_COOKIE = "xy_form"


class CsrfFailed(PermissionDenied):
    code = "csrf-failed"
    message_template = "页面已过期或请求来源不可信，请刷新页面后重试"


def _cookie_token(request: Any) -> str:
    token = request.cookies.get(FORM_COOKIE, "")
    return token if 20 <= len(token) <= 64 else ""


def page_token(request: Any) -> str:
    """The token a page embeds in its forms."""
    session_token = getattr(request.state, "session_csrf", None)
    if session_token:
        return str(session_token)
    if not getattr(request.state, "form_token", None):
        request.state.form_token = _cookie_token(request) or secrets.token_urlsafe(24)
    return str(request.state.form_token)


def remember(request: Any, response: Response) -> None:
    """Set the pre-sign-in cookie when the page handed out a token that is not in it yet."""
    token = getattr(request.state, "form_token", None)
    if token and token != request.cookies.get(FORM_COOKIE):
        response.set_cookie(FORM_COOKIE, token, path="/", httponly=True, samesite="strict",
                            secure=request.app.state.settings.session_cookie_secure)  # fmt: skip


def verify(request: Any, submitted: str | None) -> None:
    expected = getattr(request.state, "session_csrf", None) or _cookie_token(request)
    if not expected or not submitted or not hmac.compare_digest(str(expected).encode(), submitted.encode()):
        raise CsrfFailed()
