"""Wiring the portal into the app: templates, routers, the rate limiter and HTML error pages."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import NoMatchFound

from xinyong.config import Settings
from xinyong.disclosure import service as disclosure
from xinyong.errors import DomainError
from xinyong.portal.ratelimit import RateLimited, RateLimiter

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# Jinja2Templates autoescapes .html templates: every department-sent value is escaped on output.
templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.globals["site_name"] = "信用信息公示平台"

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


templates.env.globals["url_for"] = url_for


async def get_today() -> date:
    """The publication day (Beijing). A dependency, so tests can pin it. Async, like every dependency that
    does no I/O: FastAPI runs plain functions in a worker thread, a hop that costs more than the work."""
    return disclosure.today_in_china()


Today = Annotated[date, Depends(get_today)]


def client_address(request: Request, settings: Settings) -> str:
    if settings.portal_trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else "unknown"


async def limit(request: Request) -> None:
    """Dependency: count this request against the client's search/profile budget."""
    limiter: RateLimiter = request.app.state.portal_limiter
    limiter.hit(client_address(request, request.app.state.settings))


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith(("/api/", "/admin")) and request.url.path != "/healthz"


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200,
           headers: dict[str, str] | None = None) -> Response:  # fmt: skip
    return templates.TemplateResponse(request, f"portal/{name}", context, status_code=status_code, headers=headers)


class TTLCache:
    """Tiny cache for expensive page parts (home page counts)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, compute: Any) -> Any:
        now = time.monotonic()
        hit = self._values.get(key)
        if hit and now - hit[0] < self.seconds:
            return hit[1]
        value = compute()
        self._values[key] = (now, value)
        return value


def install_portal(app: FastAPI) -> None:
    """Routers, the limiter and HTML error pages for portal paths (the API keeps its JSON errors)."""
    from xinyong.portal.api import router as api_router
    from xinyong.portal.views import router as pages_router

    settings: Settings = app.state.settings
    app.state.portal_limiter = RateLimiter(settings.portal_rate_limit_requests,
                                           settings.portal_rate_limit_window_seconds)  # fmt: skip
    app.state.portal_cache = TTLCache(300)
    app.include_router(api_router)
    app.include_router(pages_router)

    json_domain = app.exception_handlers[DomainError]
    json_http = app.exception_handlers[StarletteHTTPException]

    async def domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if not wants_html(request):
            response = await json_domain(request, exc)
            if headers:
                response.headers.update(headers)
            return response
        return render(request, "error.html", {"status": exc.status_code, "message": exc.message,
                                              "is_rate_limited": isinstance(exc, RateLimited)},
                      status_code=exc.status_code, headers=headers)  # fmt: skip

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not wants_html(request):
            return await json_http(request, exc)
        from xinyong.web.errors import HTTP_MESSAGES

        message = HTTP_MESSAGES.get(exc.status_code, "请求无法完成")
        return render(request, "error.html", {"status": exc.status_code, "message": message,
                                              "is_rate_limited": False}, status_code=exc.status_code)  # fmt: skip

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
