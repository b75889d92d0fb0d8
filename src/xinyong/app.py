"""The ASGI application: portal, admin console and API served by one app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from xinyong import __version__, refcache
from xinyong.audit import keys as audit_keys
from xinyong.config import Settings
from xinyong.db import make_engine, make_sessionmaker
from xinyong.protect import protector
from xinyong.web.errors import install_error_handlers
from xinyong.web.limits import BodySizeLimit

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="信用 · 公共信用信息平台 API",
        version=__version__,
        description="部门归集、信用信息查询等接口。写入接口须使用部门访问密钥（Authorization: Bearer xy_…）。",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    engine = make_engine(settings.database_url, sqlite_cache_mb=settings.sqlite_cache_mb)
    refcache.configure(engine, settings.reference_cache_seconds)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))
    app.state.protector = protector(settings)
    install_error_handlers(app)

    from xinyong.admin.web import install_admin
    from xinyong.checks.web import install as install_checks
    from xinyong.portal.web import install_portal
    from xinyong.records.api import router as records_router
    from xinyong.repair.web import install as install_repair
    from xinyong.web.site import router as site_router

    # Routes are matched in order: the department systems' APIs, the busiest paths, come first.
    install_checks(app)  # credit lists, the measure list and credit checks: API, console and portal routes
    app.include_router(records_router)
    app.include_router(site_router)
    install_portal(app)  # public portal pages, public API, HTML error pages for portal paths
    install_admin(app)  # the console at /admin: its routes, HTML errors and security headers (after the portal's)
    install_repair(app)  # credit repair, objections, subject accounts: portal and console routes
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.upload_max_bytes + 1024 * 1024, api_max_bytes=settings.api_max_body_bytes
    )
    return app


def app_from_env() -> FastAPI:
    return create_app(Settings())
