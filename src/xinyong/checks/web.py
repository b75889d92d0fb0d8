"""Wiring lists, measures and checks into the app: API, console and portal routers."""

from __future__ import annotations

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    from xinyong.checks import admin as checks_admin
    from xinyong.checks import api as checks_api
    from xinyong.lists import admin as lists_admin
    from xinyong.lists import api as lists_api
    from xinyong.lists import portal as lists_portal
    from xinyong.measures import admin as measures_admin

    for router in (checks_api.router, lists_api.router, lists_portal.router):
        app.include_router(router)
    for router in (lists_admin.router, checks_admin.router, measures_admin.router):
        app.include_router(router, include_in_schema=False)
