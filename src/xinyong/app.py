"""The ASGI application: the public portal, the subjects' accounts, the console and the API, in one app.

Each domain exposes its routers; this module includes them, in the order they are matched (the department
systems' API, the busiest paths, first), on top of the one web shell (`xinyong.web`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import xinyong.models  # noqa: F401  (every table registered: a subject merge looks for references in each)
from xinyong import __version__, health, heap, refcache
from xinyong.accounts import admin as accounts_admin
from xinyong.accounts import portal as accounts_portal
from xinyong.admin import views as admin_views
from xinyong.admin.views import regions as admin_regions
from xinyong.audit import keys as audit_keys
from xinyong.catalog import load_catalog
from xinyong.catalog import pages as catalog_pages
from xinyong.checks import admin as checks_admin
from xinyong.checks import api as checks_api
from xinyong.commitments import admin as commitments_admin
from xinyong.commitments import portal as commitments_portal
from xinyong.config import Settings, load_settings
from xinyong.db import make_engine, make_read_engine, make_read_sessionmaker, make_sessionmaker, writers_bind
from xinyong.evaluation import admin as evaluation_admin
from xinyong.evaluation import portal as evaluation_portal
from xinyong.exchange import admin as exchange_admin
from xinyong.exchange import api as exchange_api
from xinyong.finance import admin as finance_admin
from xinyong.finance import api as finance_api
from xinyong.finance import bank as finance_bank
from xinyong.finance import portal as finance_portal
from xinyong.inspections import admin as inspections_admin
from xinyong.inspections import portal as inspections_portal
from xinyong.intake import admin as intake_admin
from xinyong.integrity import admin as integrity_admin
from xinyong.lists import admin as lists_admin
from xinyong.lists import api as lists_api
from xinyong.lists import portal as lists_portal
from xinyong.measures import admin as measures_admin
from xinyong.monitoring import admin as monitoring_admin
from xinyong.objections import admin as objections_admin
from xinyong.objections import portal as objections_portal
from xinyong.points import portal as points_portal
from xinyong.portal import account as portal_account
from xinyong.portal import api as portal_api
from xinyong.portal import views as portal_views
from xinyong.protect import protector
from xinyong.records import api as records_api
from xinyong.repair import admin as repair_admin
from xinyong.repair import portal as repair_portal
from xinyong.reports import admin as reports_admin
from xinyong.reports import api as reports_api
from xinyong.reports import portal as reports_portal
from xinyong.scenarios import admin as scenarios_admin
from xinyong.scenarios import api as scenarios_api
from xinyong.scenarios import portal as scenarios_portal
from xinyong.web import apidocs, errors, regions, templating
from xinyong.web.cache import TTLCache
from xinyong.web.client import parse_networks
from xinyong.web.metrics import Metrics, RequestMetrics
from xinyong.web.openapi import describe_api
from xinyong.web.ratelimit import AttemptLimiter, RateLimiter
from xinyong.web.security import RequestGuard

STATIC = Path(__file__).parent / "static"

# the public portal and the subjects' accounts: served per region too (web.regions), each page checks its region
PORTAL_ROUTERS = (
    portal_api.router,
    portal_views.router, lists_portal.router, accounts_portal.router, portal_account.router, repair_portal.router, objections_portal.router,
    reports_portal.router, evaluation_portal.router, inspections_portal.router, commitments_portal.router, finance_portal.router,
    scenarios_portal.router, points_portal.router,
)
ROUTERS = (
    # the department systems' and the public JSON API
    checks_api.router, lists_api.router, records_api.router, portal_api.router, health.router, apidocs.router,
    reports_api.router, exchange_api.router, finance_api.router, scenarios_api.router,
    *PORTAL_ROUTERS[1:],
    # the console
    admin_views.router, admin_regions.router, lists_admin.router, checks_admin.router, measures_admin.router, repair_admin.router,
    objections_admin.router, accounts_admin.router, reports_admin.router, evaluation_admin.router, inspections_admin.router,
    monitoring_admin.router, integrity_admin.router, intake_admin.router, commitments_admin.router, exchange_admin.router,
    finance_admin.router, finance_bank.router, scenarios_admin.router,
)  # fmt: skip


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    app = FastAPI(
        title="信用 · 公共信用信息平台 API",
        version=__version__,
        description="部门归集、信用核查、信用信息查询等接口。写入接口须使用部门访问密钥（Authorization: Bearer xy_…）。",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    engine = make_engine(settings.database_url, sqlite_cache_mb=settings.sqlite_cache_mb)
    refcache.configure(engine, settings.reference_cache_seconds)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))
    app.state.writers_bind = writers_bind(engine)  # POSTs to synchronous handlers (web.deps.get_session)
    # The public portal's and public API's reads (web.deps.ReadSession): from the replica when one is configured,
    # else from the primary; read-only either way, and never audited (no audit keys on these sessions).
    read_engine = engine
    if settings.read_database_url:
        read_engine = make_read_engine(settings.read_database_url, sqlite_cache_mb=settings.sqlite_cache_mb)
        refcache.configure(read_engine, settings.reference_cache_seconds)
    app.state.read_engine = read_engine
    app.state.read_session_factory = make_read_sessionmaker(read_engine)
    app.state.protector = protector(settings)
    app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    app.state.metrics_networks = parse_networks(settings.metrics_networks)
    app.state.metrics = Metrics()
    app.state.metrics.registry.register(health.DatabaseFigures(engine))
    if read_engine is not engine and read_engine.dialect.name == "postgresql":
        app.state.metrics.registry.register(health.ReplicaFigures(engine, read_engine))
    app.state.portal_limiter = RateLimiter(settings.portal_rate_limit_requests,
                                           settings.portal_rate_limit_window_seconds)  # fmt: skip
    app.state.identity_limiter = AttemptLimiter(settings.activation_client_attempts, window_seconds=3600)
    app.state.portal_cache = TTLCache(300)
    errors.install(app)
    describe_api(app, settings)
    for router in ROUTERS:
        app.include_router(router, dependencies=[regions.RegionChecked] if router in PORTAL_ROUTERS else None)
    catalog = load_catalog(settings.catalog_dirs)  # a bad catalogue file stops the start, with its reason
    portal_api.document_record_types(app, catalog)
    catalog_pages.install(templating.env)
    apidocs.mount_assets(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(RequestGuard, upload_max_bytes=settings.upload_max_bytes,
                       api_max_bytes=settings.api_max_body_bytes)  # fmt: skip
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)  # refusals of the guard count too
    app.add_middleware(regions.PortalPrefix)  # outermost: /region/<code>/… notes its region for all the others
    return app


def app_from_env() -> FastAPI:
    """The app of a server process (`xinyong serve --workers N`, in each worker)."""
    app = create_app(load_settings())
    heap.settle()
    return app
