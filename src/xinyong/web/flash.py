"""One-time messages after a redirect (Post/Redirect/Get), for the console and the portal alike.

The message travels in a short-lived cookie and is shown by the next page that renders; it carries only
text the platform wrote (never HTML: templates escape it)."""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

FLASH_COOKIE = "xy_flash"
KINDS = frozenset({"success", "error", "warning", "info"})


def set_flash(request: Request, response: Response, message: str, kind: str = "success") -> None:
    payload = base64.urlsafe_b64encode(json.dumps([[kind, message[:300]]], ensure_ascii=False).encode()).decode()
    response.set_cookie(FLASH_COOKIE, payload, path="/", httponly=True, samesite="lax",
                        secure=request.app.state.settings.session_cookie_secure)  # fmt: skip


def read_flashes(request: Any) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
        return [(str(kind) if kind in KINDS else "info", str(text)) for kind, text in items][:5]
    except (ValueError, TypeError):
        return []


def consume(request: Any, response: Response) -> None:
    """The page that showed the messages clears them."""
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
