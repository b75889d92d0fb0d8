"""The public 信易+ catalogue on the portal."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from xinyong.scenarios import service
from xinyong.web.deps import ReadSession, Today
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)


@router.get("/scenarios", name="portal.scenarios")
def catalogue(request: Request, session: ReadSession, today: Today) -> Response:
    return render(request, "portal/scenarios/catalogue.html", {"entries": service.catalogue(session, today=today)})
