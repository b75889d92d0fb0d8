"""One Jinja2 environment for every page: the public portal, the subject's account and the console.

Autoescaping is on for .html: every value a department, a subject or a user typed is escaped on output.
Each surface adds what its base template needs (`surface_context`): the console its viewer and CSRF token,
the portal the signed-in account and the pre-sign-in form token; both get the flash messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import NoMatchFound

from xinyong.actors import Permission
from xinyong.clock import CHINA
from xinyong.web import csrf, flash

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SITE_NAME = "信用信息公示平台"

templates = Jinja2Templates(directory=str(TEMPLATES))
env = templates.env
env.globals["Permission"] = Permission
env.globals["csrf_field"] = csrf.FIELD
env.globals["site_name"] = SITE_NAME


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def china_time(value: Any) -> str:
    return value.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if value else "—"


env.filters["percent"] = percent
env.filters["china_time"] = china_time

# ------------------------------------------------------------------------------------------ url_for

_MARK = "\x00"
_PLAIN = re.compile(r"[A-Za-z0-9._~-]+")  # codes, signed references, record types: nothing a URL treats specially
_url_shapes: dict[tuple[str, str, tuple[str, ...]], str | None] = {}


@pass_context
def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> str:
    """Starlette's `url_for`, remembered per route and parameter names. Each call walks the whole routing
    table, and a result page links every card: thirty calls cost a few milliseconds a page. The route is
    looked up once with markers in place of the values, which then fill the markers; other values (a path,
    characters a URL treats specially) and routes whose parameters are not strings take the ordinary way."""
    request: Request = context["request"]
    if not all(isinstance(v, str) and _PLAIN.fullmatch(v) for v in path_params.values()):
        return str(request.url_for(name, **path_params))
    key = (str(request.base_url), name, tuple(sorted(path_params)))
    if key not in _url_shapes:
        if len(_url_shapes) > 1024:
            _url_shapes.clear()
        try:
            shape = str(request.url_for(name, **{k: f"{_MARK}{k}{_MARK}" for k in path_params}))
        except (NoMatchFound, ValueError, AssertionError):  # e.g. an int parameter refuses a marker
            shape = None
        is_usable = shape is not None and all(shape.count(f"{_MARK}{k}{_MARK}") == 1 for k in path_params)
        _url_shapes[key] = shape if is_usable else None
    shape = _url_shapes[key]
    if shape is None:
        return str(request.url_for(name, **path_params))
    for k, v in path_params.items():
        shape = shape.replace(f"{_MARK}{k}{_MARK}", v)
    return shape


env.globals["url_for"] = url_for


@pass_context
def site_path(context: dict[str, Any], path: str, /) -> str:
    """`path` (`/account/login`) as this visitor reaches it: under a county's portal prefix
    (web.regions.PortalPrefix moves it into root_path) the prefix comes first, so a link stays in the county."""
    request: Request = context["request"]
    return request.scope.get("root_path", "") + path


env.globals["site_path"] = site_path

# ----------------------------------------------------------------------------------------- viewers


@dataclass(frozen=True)
class Viewer:
    """Who is signed in to the console, as plain values: a page (an error page above all) renders it after
    the request's database session has ended."""

    display_name: str
    role_label: str
    department_name: str | None
    must_change_password: bool
    # An account of a deactivated department only reads its own history: every page says so.
    department_inactive: bool = False


def _console_context(request: Request) -> dict[str, Any]:
    return {"viewer": getattr(request.state, "viewer", None), "actor": getattr(request.state, "actor", None)}


def _portal_context(request: Request) -> dict[str, Any]:
    flashes = flash.read_flashes(request)
    context = {"account_signed_in": getattr(request.state, "account_signed_in", False),
               "notice": flashes[0] if flashes else None}  # fmt: skip
    region = getattr(request.state, "portal_region", None)  # a county's portal (web.regions): its name heads it
    if region is not None:
        context["site_name"] = f"{region.name}{SITE_NAME}"
        context["portal_region"] = region
    return context


class _PageToken:
    """The CSRF token, worked out only if the page has a form (so that pages without one set no cookie)."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf.page_token(self.request)

    def __html__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return True


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200,
           headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    """Render `name` ("admin/…" or "portal/…") with the surface's context; the caller's keys win."""
    surface = _console_context(request) if name.startswith("admin/") else _portal_context(request)
    base = {**surface, "flashes": flash.read_flashes(request), "csrf_token": _PageToken(request)}
    response = templates.TemplateResponse(request, name, {**base, **(context or {})}, status_code=status_code,
                                          headers=headers)  # fmt: skip
    flash.consume(request, response)
    csrf.remember(request, response)
    if getattr(request.state, "form_token", None) or getattr(request.state, "session_csrf", None):
        # A page for one person (signed in, or holding a form token): never kept by a shared cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
