"""Health check. The portal's pages live in `xinyong.portal.views`."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from xinyong.web.deps import DbSession

router = APIRouter()


@router.get("/healthz", name="health", include_in_schema=False)
def health(session: DbSession) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
