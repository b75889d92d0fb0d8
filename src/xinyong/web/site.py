"""Health check and the placeholder home page until the portal lands."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import text

from xinyong.web.deps import DbSession

router = APIRouter()


@router.get("/healthz", name="health", include_in_schema=False)
def health(session: DbSession) -> dict[str, str]:
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/", name="portal.home", response_class=HTMLResponse, include_in_schema=False)
def home() -> str:
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>信用 · 公共信用信息平台</title>"
        "</head><body><h1>公共信用信息平台</h1><p>接口文档：<a href='/api/docs'>/api/docs</a></p></body></html>"
    )
