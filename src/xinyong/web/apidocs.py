"""The API's documentation page, served entirely from the platform (the intranet has no CDN).

Swagger UI's files come from the `fastapi-offline` package (installed with the platform, nothing fetched
at run time); the page itself loads them and one small script of ours, so that it runs under the same
Content-Security-Policy as every page (no inline script)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from xinyong.web.uow import router as make_router

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
router = make_router(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>开放接口文档 · 公共信用信息平台</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/static/apidocs/init.js"></script>
</body>
</html>
"""


@router.get("/api/docs", name="api.docs")
async def docs() -> HTMLResponse:
    return HTMLResponse(PAGE)


def mount_assets(app: FastAPI) -> None:
    app.mount("/api/docs/assets", StaticFiles(directory=ASSETS), name="api.docs.assets")
