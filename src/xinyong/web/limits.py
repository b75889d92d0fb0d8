"""A cap on request bodies for the whole app, enforced before the app reads them.

Handlers parse JSON and forms into memory, so an oversized body must be refused before it is read in
full: by its Content-Length when it declares one; a body sent in chunks without one is read here, up to
the cap, and handed on only if it fits (browsers always declare the length, so this path is for scripts).
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]


class BodySizeLimit:
    """`api_max_bytes` for the JSON API under /api/, `max_bytes` (uploads) everywhere else."""

    def __init__(self, app: Any, *, max_bytes: int, api_max_bytes: int) -> None:
        self.app = app
        self.upload_max = max_bytes
        self.api_max = api_max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.api_max if scope.get("path", "").startswith("/api/") else self.upload_max
        headers = dict(scope.get("headers", ()))
        if b"content-length" in headers:
            try:
                declared = int(headers[b"content-length"])
            except ValueError:
                declared = limit + 1
            if declared > limit:
                await _refuse(send, limit)
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Any, limit: int) -> None:
    limit_mb = limit / (1024 * 1024)
    body = json.dumps(
        {"error": {"code": "request-too-large", "message": f"请求内容超过 {limit_mb:g} MB 的上限"}},
        ensure_ascii=False,
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
