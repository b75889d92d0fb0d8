"""Health check: the server answers and its database too."""

from __future__ import annotations

from sqlalchemy import text

from xinyong.web.deps import DbSession
from xinyong.web.uow import router as make_router

router = make_router()


@router.get("/healthz", name="health", include_in_schema=False)
def health(session: DbSession) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
