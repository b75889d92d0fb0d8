"""The outermost guard of every request: bodies are refused before anything reads them, and every answer
carries the security headers of its kind.

Limits, by what is sent: a form with files (multipart) up to the upload limit; a JSON body under `/api/` up
to the API's limit; any other form up to FORM_MAX_BYTES. A body declared larger is refused from its
Content-Length; one sent in chunks without a length is read here up to the limit on the API (scripts send
those) and refused on the pages (browsers always declare the length). Pages, the console's and the
portal's alike, get a Content-Security-Policy that allows only the platform's own scripts and styles, and
may not be framed."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from xinyong.errors import InvalidInput
from xinyong.regions import rules as region_rules
from xinyong.web.errors import Surface, error_response, surface_of
from xinyong.web.forms import FORM_MAX_BYTES, MULTIPART_OVERHEAD, PayloadTooLarge

Scope = dict[str, Any]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")  # fmt: skip
# Swagger UI sets inline styles on its elements; its scripts are still only the platform's own files.
DOCS_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")  # fmt: skip
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
_PAGES = [(b"x-frame-options", b"DENY")]
# Pages about one person: never kept by the browser's or a proxy's cache.
_PRIVATE_PREFIXES = ("/admin", "/account", "/repair/apply", "/repair/applications", "/objections")


class RequestGuard:
    def __init__(self, app: Any, *, upload_max_bytes: int, api_max_bytes: int) -> None:
        self.app = app
        self.upload_max = upload_max_bytes + MULTIPART_OVERHEAD
        self.api_max = api_max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        surface = surface_of(path)
        prefixed = region_rules.split_prefix(path)  # a county's portal: the same pages under /region/<code>
        send = _with_headers(send, prefixed[1] if prefixed is not None else path)
        query = scope.get("query_string", b"")
        if "\x00" in path or b"\x00" in query or b"%00" in query.lower():
            # No text the platform stores or compares may hold a NUL (PostgreSQL refuses it in any text value).
            await _refuse(scope, receive, send, NulRefused(_nul_fields(path, query)))
            return
        if scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        is_multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
        if is_multipart:
            limit = self.upload_max
        else:
            limit = self.api_max if surface is Surface.API else FORM_MAX_BYTES
        if b"content-length" in headers:
            declared = headers[b"content-length"]
            if not declared.isdigit() or int(declared) > limit:
                await _refuse(scope, receive, send, RequestTooLarge(limit=_megabytes(limit)))
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body
            return
        if surface is not Surface.API:
            await _refuse(scope, receive, send, LengthRequired())
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > limit:
                await _refuse(scope, receive, send, RequestTooLarge(limit=_megabytes(limit)))
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RequestTooLarge(PayloadTooLarge):
    code = "request-too-large"
    message_template = "请求内容超过 {limit} MB 的上限"


class NulRefused(InvalidInput):
    code = "invalid-request"
    message_template = "请求中含有不允许的控制字符"

    def __init__(self, fields: list[str]) -> None:
        super().__init__(reason="")
        self.fields = fields

    def to_dict(self) -> dict[str, object]:
        details = [{"location": f, "message": "不能含有控制字符 NUL"} for f in self.fields]
        return {"code": self.code, "message": self.message, "details": details}


def _nul_fields(path: str, query: bytes) -> list[str]:
    fields = ["path"] if "\x00" in path else []
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace")
    return fields + [f"query.{name}" for name, value in pairs if "\x00" in value or "\x00" in name]


class LengthRequired(InvalidInput):
    code = "length-required"
    status_code = 411
    message_template = "请求须注明长度（Content-Length）"

    def __init__(self) -> None:
        super().__init__(reason="")


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g}"


async def _refuse(scope: Scope, receive: Any, send: Any, exc: Exception) -> None:
    response = error_response(Request(scope, receive), exc)
    await response(scope, receive, send)


def _with_headers(send: Any, path: str) -> Any:
    is_private = path.startswith(_PRIVATE_PREFIXES)
    policy = DOCS_POLICY.encode() if path.startswith("/api/docs") else PAGE_POLICY.encode()

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _ in headers}
            extra = list(_ALWAYS)
            content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
            if content_type.startswith(b"text/html"):
                extra += [*_PAGES, (b"content-security-policy", policy)]
            if is_private:
                extra.append((b"cache-control", b"no-store"))
            message["headers"] = headers + [(n, v) for n, v in extra if n not in present]
        await send(message)

    return sending
