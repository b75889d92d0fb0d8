"""Per-region portals from one instance (市县信用一张网): a county's own 信用 site, by path prefix
(`/region/<code>/…`) or by its host name, showing that county's records with the county's name.

`PortalPrefix` (ASGI middleware) takes the prefix off the path and moves it into the scope's `root_path`, so
routing sees the usual paths and every `url_for` link keeps the prefix; it notes the code in the scope's
state. `portal_region` (a dependency of every portal route) then answers which region the page is for: None
for the platform's own (city) portal, which shows everything exactly as a single-region install does.
The console (`/admin`) is never served under a prefix, and is never scoped by host: its accounts are."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from xinyong.actors import DepartmentScope
from xinyong.departments import service as departments_service
from xinyong.errors import NotFound
from xinyong.regions import rules
from xinyong.regions import service as regions_service
from xinyong.web.deps import SessionOpener, get_session, get_session_opener

STATE_PREFIX = "portal_prefix"  # the code of /region/<code>/ in the scope's state, when the path had one
CONSOLE = "/admin"


class PortalPrefix:
    """`/region/<code>/rest` is served as `/rest` under root_path `/region/<code>` (a pure ASGI middleware: no
    per-request work beyond one regular-expression match on the path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            split = rules.split_prefix(scope["path"])
            if split is not None:
                code, rest = split
                if rest != CONSOLE and not rest.startswith(CONSOLE + "/"):  # the console: never under a prefix
                    # The path keeps the prefix (the ASGI reading: routing takes root_path off it).
                    state = {**scope.get("state", {}), STATE_PREFIX: code}
                    root = scope.get("root_path", "") + f"{rules.PORTAL_PREFIX}/{code}"
                    scope = {**scope, "root_path": root, "state": state}
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class PortalRegion:
    """The region a portal page is for (never the platform's own region: that is None, and shows all)."""

    code: str
    name: str  # as a visitor reads it: 湖州市长兴县
    scope: DepartmentScope
    by_prefix: bool

    def clause(self, department: Any, created: Any = None) -> ColumnElement[bool]:
        """Made inside the region: an IN list on the department column (the first of the records' unique index)."""
        return self.scope.clause(department, created)


def _strict_hosts_allow(request: Request, host: str) -> bool:
    public = request.app.state.settings.reports_public_url
    return bool(public) and (urlsplit(public).hostname or "").lower() == host


def resolve(request: Request, session: Session) -> PortalRegion | None:
    """The region of this portal request; NotFound for an unregistered code under the prefix, and (with
    XINYONG_PORTAL_STRICT_HOSTS) for a host name that maps to no region."""
    state = request.scope.get("state") or {}
    code = state.get(STATE_PREFIX)
    tree = regions_service.tree(session)
    if code is not None:
        node = tree.get(code)
        if node is None:
            raise NotFound(f"未找到行政区划 {code} 的信用门户：该区划未在本平台登记")
        by_prefix = True
    else:
        host = rules.request_host(request.headers.get("host"))
        node = tree.by_host(host) if host else None
        if node is None:
            if request.app.state.settings.portal_strict_hosts and not _strict_hosts_allow(request, host):
                raise NotFound("本站未配置该域名的信用门户，请通过信用主管部门公布的网址访问")
            return None
        by_prefix = False
    root = tree.root
    if root is not None and node.code == root.code:
        return None  # the platform's own portal: everything, as before regions
    return PortalRegion(node.code, tree.display_name(node.code), departments_service.scope_of(session, tree.subtree(node.code)),
                        by_prefix)  # fmt: skip


async def portal_region(request: Request, opened: Annotated[SessionOpener, Depends(get_session_opener)]
                        ) -> PortalRegion | None:  # fmt: skip
    """Once per request (kept on request.state, where the templates read the region's name).

    Read in a session of its own, closed before the page's work begins, so that a request holds one connection at
    most: held until the request ended, beside the page's own session, it made every page of the subjects' accounts
    hold two connections of one pool, and about fifteen such pages at once (the pool's size) stalled the server. A
    page that uses the primary (`get_session`) reads its region there, so that a replica's outage never stops a
    subject's account, form or report; the public pages, which read the read session or nothing, read it there.
    The regions and departments are kept in the reference cache, so most requests read nothing; a worker thread
    does the reading, so that the event loop never waits for a connection."""
    if not hasattr(request.state, "portal_region"):
        request.state.portal_region = await run_in_threadpool(_resolve_apart, request, opened,
                                                              _uses_the_primary(request))  # fmt: skip
    return request.state.portal_region  # type: ignore[no-any-return]


def _resolve_apart(request: Request, opened: SessionOpener, primary: bool) -> PortalRegion | None:
    with opened(primary) as session:
        return resolve(request, session)


_PRIMARY_USERS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()  # by endpoint


def _uses_the_primary(request: Request) -> bool:
    """Whether the request's route depends on `get_session`, the primary's (directly or through its dependencies)."""
    route, endpoint = request.scope.get("route"), request.scope.get("endpoint")
    if route is None or endpoint is None:
        return False
    known = _PRIMARY_USERS.get(endpoint)
    if known is None:
        known = False
        stack = [getattr(route, "dependant", None)]
        while stack:
            dependant = stack.pop()
            if dependant is None:
                continue
            if dependant.call is get_session:
                known = True
                break
            stack.extend(dependant.dependencies)
        _PRIMARY_USERS[endpoint] = known
    return known


def current(request: Request) -> PortalRegion | None:
    """The region `portal_region` resolved for this request (a dependency of every portal router, so resolved
    before any endpoint runs). A route without it is a mistake that must fail, not show every county's data."""
    try:
        return request.state.portal_region  # type: ignore[no-any-return]
    except AttributeError:
        raise RuntimeError("a portal route without the portal_region dependency") from None


def current_scope(request: Request) -> DepartmentScope | None:
    """The departments whose records this portal page shows (None: the city's portal, all of them)."""
    region = current(request)
    return region.scope if region is not None else None


CurrentRegion = Annotated[PortalRegion | None, Depends(portal_region)]
RegionChecked = Depends(portal_region)  # for include_router(dependencies=[…]): every portal route checks it
