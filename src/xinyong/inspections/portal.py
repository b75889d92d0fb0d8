"""Public pages of random inspections (一公开): published plans, their draws and their results."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from xinyong.inspections import service
from xinyong.web import regions
from xinyong.web.deps import AppSettings, DbSession, Today
from xinyong.web.ratelimit import Limited
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)


@router.get("/inspections", name="portal.inspections")
def plans(request: Request, session: DbSession, today: Today) -> Response:
    return render(request, "portal/inspections/index.html", {"plans": service.public_plans(session, today=today, scope=regions.current_scope(request))})


@router.get("/inspections/{number}", name="portal.inspection", dependencies=[Limited])
def plan(request: Request, session: DbSession, settings: AppSettings, today: Today, number: str,
         page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:  # fmt: skip
    found = service.public_plan(session, number, today=today, scope=regions.current_scope(request))
    view = service.plan_view(session, found, settings=settings, with_inspectors=False, page=page)
    return render(request, "portal/inspections/detail.html", {"v": view, "plan": found})
