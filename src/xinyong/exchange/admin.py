"""Console page of the exchange (数据交换): read only; the work is done from the command line."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.exchange.overview import overview
from xinyong.web.deps import DbSession, require
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

ExchangeRead = Annotated[Actor, require(Permission.EXCHANGE_READ)]


@router.get("/exchange", name="admin.exchange.index")
def index(request: Request, session: DbSession, actor: ExchangeRead) -> Response:
    return render(request, "admin/exchange/index.html", {"view": overview(session, actor=actor)})
