"""What the server counts for Prometheus: requests by route template, method and status, and their latency.

Each app has its own registry (tests make many apps); the middleware wraps the whole app, so refusals of the
request guard (413 …) are counted too. Routes are labelled by their template (`/subjects/{ref}`), never by the
path a client sent: labels stay few, and no ID number or name typed in a URL reaches the metrics. With
`xinyong serve --workers N` each process counts its own requests; a scrape reads the process it reaches."""

from __future__ import annotations

import hmac
from time import perf_counter
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from xinyong.errors import PermissionDenied
from xinyong.web.client import Network, client_address, in_networks

# Seconds: the check API aims at 10 ms, pages at a few hundred, reports and uploads at seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("xinyong_http_requests", "HTTP requests answered, by route template and status",
                                ["method", "route", "status"], registry=self.registry)  # fmt: skip
        self.latency = Histogram("xinyong_http_request_duration_seconds", "Time to answer an HTTP request",
                                 ["method", "route"], buckets=BUCKETS, registry=self.registry)  # fmt: skip
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request; the labelled children are looked up once per label set (`labels()` costs more
        than the increment)."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(method, route, str(status)),
                                              self.latency.labels(method, route))  # fmt: skip
        children[0].inc()
        children[1].observe(seconds)


METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_label(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if template:
        return str(template)
    if str(scope.get("path", "")).startswith("/static/"):
        return "/static"
    return "unmatched"  # 404s and the like: one label, whatever the path


class RequestMetrics:
    """Pure ASGI middleware: counts each HTTP request and its duration once the response has started."""

    def __init__(self, app: Any, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope.get("method", "GET")
            method = method if method in METHODS else "OTHER"  # a client's invented method is no new label
            self.metrics.observe(method, route_label(scope), status, perf_counter() - started)


def ensure_may_scrape(request: Any, *, networks: tuple[Network, ...], token: str | None) -> None:
    """Metrics are for the platform's own monitoring, never the internet: the client must be on one of the
    configured networks (its address as `xinyong.web.client` works it out, behind trusted proxies too), or
    present the configured token (`Authorization: Bearer …`)."""
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return
    if in_networks(client_address(request), networks):
        return
    raise PermissionDenied("监控指标仅对配置的监控网段（XINYONG_METRICS_NETWORKS）或持有令牌的请求开放")
