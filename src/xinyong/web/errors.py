"""One renderer for every error, on every surface.

The surface is told by the path: the JSON API (`/api/…`, `/healthz`), the console (`/admin`) or the portal
(everything else, the subject's account included). A `DomainError` carries its status and Chinese message;
Starlette's HTTP errors, request validation and unexpected exceptions are turned into the same shape. The
API answers `{"error": {"code", "message", …}}`; the console and the portal render their error page, or,
where the handler said so beforehand, send the person back to the form with the message
(`on_error_redirect`) or render the form again with it (`on_error_render`), clearing any cookie the failed
attempt spent (`on_error_clear_cookie`). Nothing here touches the request's database session: by the time an error is rendered it has been rolled back and closed.
"""

from __future__ import annotations

import enum
import sqlite3
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DatabaseError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from xinyong.auth.service import PasswordChangeRequired
from xinyong.errors import DomainError, NotAuthenticated
from xinyong.regions import rules as region_rules
from xinyong.web import flash
from xinyong.web.templating import render

HTTP_MESSAGES = {
    400: "请求格式不正确",
    401: "请提供有效的访问凭证",
    403: "无权执行此操作",
    404: "页面或资源不存在",
    405: "不支持该请求方法",
    411: "请求须注明长度（Content-Length）",
    413: "上传内容过大",
    422: "请求格式不正确",
    429: "请求过于频繁，请稍后再试",
    500: "系统内部错误，请稍后重试；如持续出现请联系平台管理员",
    503: "数据库暂时无法访问，请稍后再试",
}
# An outage of the database (or of the replica the public pages read) is the service's, not a defect of the
# request: 503 with a retry hint, whatever page asked. The server's log still gets the traceback.
UNAVAILABLE_RETRY_SECONDS = 30
# A database file that is not (or no longer) a readable database is an outage too: SQLite's SQLITE_NOTADB ("file
# is not a database") and SQLITE_CORRUPT ("database disk image is malformed"), PostgreSQL's data_corrupted and
# index_corrupted. Other database errors (a constraint, a column that is not there) stay defects.
_SQLITE_UNREADABLE = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_POSTGRES_CORRUPTED = frozenset({"XX001", "XX002"})
CONSOLE = "/admin"


class Surface(enum.StrEnum):
    API = "api"
    CONSOLE = "console"
    PORTAL = "portal"


def surface_of(path: str) -> Surface:
    prefixed = region_rules.split_prefix(path)
    if prefixed is not None:  # a county's portal (/region/<code>/…): the same surfaces under its prefix
        path = prefixed[1]
    if path.startswith("/api/") and not path.startswith("/api/docs"):
        return Surface.API
    if path in ("/healthz", "/readyz", "/metrics"):
        return Surface.API
    if path == CONSOLE or path.startswith(CONSOLE + "/"):
        return Surface.CONSOLE
    return Surface.PORTAL


class SignInRequired(NotAuthenticated):
    """A portal page for signed-in subjects, asked for without a sign-in: the sign-in page follows."""

    code = "sign-in-required"
    message_template = "请先登录信用主体账户"


# ----------------------------------------------------------------------------------------- redirects


def site_path(request: Request, url: str) -> str:
    """A path of this site as the visitor reaches it: under a county's portal prefix (`/region/<code>`, moved
    into root_path by web.regions.PortalPrefix) `/account` is `/region/<code>/account`. Full URLs, paths
    already under the prefix and anything not starting with one slash are left as they are."""
    root = request.scope.get("root_path", "")
    if not root or not url.startswith("/") or url.startswith("//") or url == root or url.startswith(root + "/"):
        return url
    return root + url


def redirect(request: Request, url: str, *, flash_message: str | None = None, kind: str = "success") -> Response:
    """Post/Redirect/Get: 303 to a page that shows the message once. A script that posted the form
    (X-Requested-With) gets the target as JSON instead, to go there itself without losing the message.
    A path keeps the portal's prefix (`site_path`): views write `/account`, a county's visitor stays in the county."""
    response: Response
    url = site_path(request, url)
    if request.headers.get("x-requested-with") == "XMLHttpRequest":
        response = JSONResponse({"location": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if flash_message:
        flash.set_flash(request, response, flash_message, kind)
    return response


def on_error_redirect(request: Request, url: str) -> None:
    """Declare, before acting, where a refusal sends the person: back to `url`, the reason shown there."""
    request.state.error_redirect = url


def on_error_render(request: Request, template: str, context: dict[str, Any]) -> None:
    """Declare, before acting, that a refusal renders `template` again with `context`, the reason as
    `error` and the error's status."""
    request.state.error_page = (template, context)


def on_error_clear_cookie(request: Request, name: str, *, path: str = "/") -> None:
    """Declare, before acting, a cookie that a refusal clears as well: a one-time token that the failed
    attempt has spent (an identity service's sign-in transaction)."""
    request.state.error_clear_cookies = [*getattr(request.state, "error_clear_cookies", ()), (name, path)]


# ---------------------------------------------------------------------------------------- rendering


UNPARSABLE_BODY = "请求格式不正确：无法解析请求内容（JSON 须为 UTF-8 编码；表单须为 multipart/form-data）"


def _describe(exc: Exception, path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, error document, headers) of any exception."""
    headers: dict[str, str] = {}
    if isinstance(exc, DomainError):
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return exc.status_code, exc.to_dict(), headers
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        if errors and any(err.get("loc", ("",))[0] == "path" for err in errors):
            # A path that cannot name anything (`/batches/abc`, an id past the database's range) names nothing, whatever the body holds.
            return 404, {"code": "not-found", "message": HTTP_MESSAGES[404]}, headers
        details = [{"location": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
                   for err in errors]  # fmt: skip
        return 422, {"code": "invalid-request", "message": HTTP_MESSAGES[422], "details": details}, headers
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 400 and surface_of(path) is Surface.API:
            # FastAPI answers a JSON body that is not UTF-8, and Starlette a form it cannot parse, with a bare 400;
            # to a client it is the same mistake as malformed JSON, which is a 422 invalid-request.
            return 422, {"code": "invalid-request", "message": UNPARSABLE_BODY, "details": []}, headers
        headers.update(exc.headers or {})
        message = HTTP_MESSAGES.get(exc.status_code, "请求无法完成")
        return exc.status_code, {"code": f"http-{exc.status_code}", "message": message}, headers
    if isinstance(exc, OperationalError | DisconnectionError | PoolTimeout) or _unreadable_database(exc):
        headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return 503, {"code": "database-unavailable", "message": HTTP_MESSAGES[503]}, headers
    return 500, {"code": "internal-error", "message": HTTP_MESSAGES[500]}, headers


def _unreadable_database(exc: Exception) -> bool:
    if not isinstance(exc, DatabaseError):
        return False
    original = exc.orig
    sqlite_code = getattr(original, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in _SQLITE_UNREADABLE
    return getattr(original, "sqlstate", None) in _POSTGRES_CORRUPTED


def error_response(request: Request, exc: Exception) -> Response:
    response = _answer(request, exc)
    for name, path in getattr(request.state, "error_clear_cookies", ()):
        response.delete_cookie(name, path=path)
    return response


def _answer(request: Request, exc: Exception) -> Response:
    status, document, headers = _describe(exc, request.url.path)
    surface = surface_of(request.url.path)
    if surface is Surface.API:
        if status == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return JSONResponse({"error": document}, status_code=status, headers=headers)
    page = getattr(request.state, "error_page", None)
    if page is not None and status < 500:
        template, context = page
        return render(request, template, {**context, "error": document["message"]}, status_code=status,
                      headers=headers)  # fmt: skip
    if surface is Surface.CONSOLE:
        if isinstance(exc, PasswordChangeRequired):
            return redirect(request, f"{CONSOLE}/account/password", flash_message=document["message"], kind="warning")
        if isinstance(exc, NotAuthenticated):
            query = f"?{request.url.query}" if request.url.query else ""
            target = f"{CONSOLE}/login" + (f"?next={quote(request.url.path + query)}" if request.method == "GET" else "")
            return redirect(request, target, flash_message="请先登录" if request.cookies.get("xy_session") else None,
                            kind="warning")  # fmt: skip
    elif isinstance(exc, NotAuthenticated):
        return redirect(request, "/account/login", flash_message=document["message"], kind="warning")
    back = getattr(request.state, "error_redirect", None)
    if back is not None and status < 500 and request.method not in ("GET", "HEAD"):
        return redirect(request, back, flash_message=document["message"], kind="error")
    template = "admin/error.html" if surface is Surface.CONSOLE else "portal/error.html"
    return render(request, template, {"status": status, "message": document["message"],
                                      "is_rate_limited": status == 429}, status_code=status, headers=headers)  # fmt: skip


def install(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        return error_response(request, exc)

    for kind in (DomainError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, handle)
    # Anything else is a defect: the person gets the page of their surface with a 500, and the server's log
    # the traceback (Starlette re-raises it after this handler answered).
    app.add_exception_handler(Exception, handle)


# --------------------------------------------------------------------------------- the OpenAPI description


class ErrorDetail(BaseModel):
    location: str = Field(description="出错的位置，如 body.rows.0")
    message: str


class ErrorProblem(BaseModel):
    row: int = Field(description="行号：表头为第 1 行，0 表示整个文件")
    column: str | None
    code: str
    value: str | None
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="稳定的错误代码，如 not-authenticated、invalid-request、rate-limited")
    message: str = Field(description="中文说明")
    details: list[ErrorDetail] | None = Field(None, description="请求格式错误时，逐项说明（invalid-request）")
    problems: list[ErrorProblem] | None = Field(None, description="上传文件无法读取时的问题（file-rejected）")


class ErrorResponse(BaseModel):  # every refusal of the JSON API
    error: ErrorBody


ERROR_DESCRIPTIONS = {
    400: "请求参数无效（如游标格式不正确、被修改或不属于本调用方）",
    401: "未提供访问凭证，或访问密钥无效、已吊销、已过期（响应头 WWW-Authenticate: Bearer）",
    403: "凭证有效，但没有此操作的权限（访问密钥的权限范围、本部门的数据范围）",
    404: "资源不存在，或不属于本部门",
    409: "当前状态下不能执行该操作",
    413: "请求内容超过大小上限",
    422: "请求格式不正确，或内容无法处理",
    429: "请求过于频繁，请按 Retry-After 响应头稍后再试",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status with the error schema. A status's description can be given
    as `s422="…"`."""
    return {
        status: {"model": ErrorResponse, "description": descriptions.get(f"s{status}", ERROR_DESCRIPTIONS[status])}
        for status in statuses
    }
