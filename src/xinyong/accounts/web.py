"""Portal plumbing for subject accounts: the session cookie, CSRF on portal forms, bounded form parsing,
PRG notices. Kept apart from the console's (`web.deps`): different cookies, different people."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from xinyong.accounts import service
from xinyong.accounts.models import SubjectSession
from xinyong.errors import InvalidInput, PermissionDenied
from xinyong.portal.web import render
from xinyong.repair.uploads import IncomingFile
from xinyong.web.deps import PayloadTooLarge

SUBJECT_COOKIE = "xy_subject"
FORM_COOKIE = "xy_portal_form"  # double-submit token for forms shown before sign-in
NOTICE_COOKIE = "xy_notice"
CSRF_FIELD = "csrf_token"
FORM_MAX_BYTES = 64 * 1024


class FormExpired(PermissionDenied):
    code = "csrf-failed"
    message_template = "页面已过期或请求来源不可信，请刷新页面后重试"


def subject_session(request: Request, session: Session) -> SubjectSession | None:
    if not hasattr(request.state, "subject_session"):
        token = request.cookies.get(SUBJECT_COOKIE, "")
        request.state.subject_session = service.load_session(session, token) if token else None
    return request.state.subject_session


def form_token(request: Request) -> str:
    row = getattr(request.state, "subject_session", None)
    if row is not None:
        return row.csrf_token
    if not hasattr(request.state, "form_token"):
        token = request.cookies.get(FORM_COOKIE, "")
        request.state.form_token = token if 20 <= len(token) <= 64 else secrets.token_urlsafe(24)
    return request.state.form_token


async def read_form(request: Request, *, max_bytes: int = FORM_MAX_BYTES, max_files: int = 0) -> FormData:
    """The form, refused before parsing when the body is larger than allowed or of unknown length."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise InvalidInput(reason="请求须注明长度（Content-Length）")
    if int(length) > max_bytes:
        raise PayloadTooLarge(limit=max(1, max_bytes // (1024 * 1024)))
    return await request.form(max_files=max_files, max_fields=40)


def check_csrf(request: Request, form: FormData) -> None:
    submitted = form.get(CSRF_FIELD)
    submitted = submitted if isinstance(submitted, str) else ""
    row = getattr(request.state, "subject_session", None)
    expected = row.csrf_token if row is not None else request.cookies.get(FORM_COOKIE, "")
    if not expected or not submitted or not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise FormExpired()


def text(form: FormData, name: str, limit: int = 4000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


async def files(form: FormData, name: str, *, max_bytes: int, max_files: int) -> list[IncomingFile]:
    """Uploaded files of one field; each read up to one byte past the limit, so an oversized file is
    recognised without being held whole."""
    items = [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]
    if len(items) > max_files:
        raise InvalidInput(reason=f"一次最多上传 {max_files} 个文件")
    return [IncomingFile(item.filename or "", await item.read(max_bytes + 1)) for item in items]


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    context = {"csrf_token": form_token(request), "account_session": getattr(request.state, "subject_session", None),
               "notice": _read_notice(request), **context}  # fmt: skip
    response = render(request, name, context, status_code=status_code)
    if context["account_session"] is None:
        response.set_cookie(FORM_COOKIE, context["csrf_token"], path="/", httponly=True, samesite="strict",
                            secure=request.app.state.settings.session_cookie_secure)  # fmt: skip
    if request.cookies.get(NOTICE_COOKIE):
        response.delete_cookie(NOTICE_COOKIE, path="/")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def see_other(request: Request, url: str, notice: str | None = None, kind: str = "success") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if notice:
        payload = base64.urlsafe_b64encode(json.dumps([kind, notice[:300]], ensure_ascii=False).encode()).decode()
        response.set_cookie(NOTICE_COOKIE, payload, path="/", httponly=True, samesite="lax",
                            secure=request.app.state.settings.session_cookie_secure)  # fmt: skip
    return response


def _read_notice(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw:
        return None
    try:
        kind, message = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
        return str(kind), str(message)
    except (ValueError, TypeError):
        return None


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"
