"""The OpenAPI description served at /api/openapi.json: who may call what, and the limits set by settings.

Routes declare their error answers (web.errors.error_responses) and their credentials (`openapi_extra=
KEY_ONLY` or `KEY_OR_SESSION`); this module adds what a route cannot know: the security schemes, and the
limits that come from the platform's settings (most rows in a batch, the configured check matters), so that
the description says what this server refuses.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from xinyong.config import Settings
from xinyong.web.csrf import HEADER as CSRF_HEADER
from xinyong.web.deps import SESSION_COOKIE
from xinyong.web.errors import ERROR_DESCRIPTIONS, ErrorResponse

KEY_SCHEME = "departmentKey"
SESSION_SCHEME = "consoleSession"
INSTITUTION_SCHEME = "institutionKey"
INSTITUTION_KEY_ONLY: dict[str, Any] = {"security": [{INSTITUTION_SCHEME: []}]}
KEY_ONLY: dict[str, Any] = {"security": [{KEY_SCHEME: []}]}
KEY_OR_SESSION: dict[str, Any] = {"security": [{KEY_SCHEME: []}, {SESSION_SCHEME: []}]}

SECURITY_SCHEMES = {
    KEY_SCHEME: {
        "type": "http", "scheme": "bearer",
        "description": "部门访问密钥：Authorization: Bearer xy_…（由信用办签发，权限范围见各接口）",
    },
    INSTITUTION_SCHEME: {
        "type": "http", "scheme": "bearer",
        "description": "金融机构访问密钥：Authorization: Bearer fi_…（由信用办签发；只能读取主体授权范围内的信息）",
    },
    SESSION_SCHEME: {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
        "description": f"已登录控制台的会话；写操作还须在 {CSRF_HEADER} 请求头中提供会话的 CSRF 令牌",
    },
}  # fmt: skip


def describe_api(app: FastAPI, settings: Settings) -> None:
    """Serve the description with the security schemes and the limits of `settings`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes,
                tags=app.openapi_tags, servers=app.servers,
            )  # fmt: skip
            components = schema.setdefault("components", {})
            components["securitySchemes"] = SECURITY_SCHEMES
            _validation_errors_as_errors(schema)
            _apply_limits(schema, settings)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for item in schema.get("paths", {}).values() for operation in item.values()]


def _validation_errors_as_errors(schema: dict[str, Any]) -> None:
    """FastAPI describes the 422 it adds to every route with parameters as its own `{"detail": [...]}`; this app
    answers it with the error shape of web.errors (code invalid-request, details)."""
    error = {"$ref": f"#/components/schemas/{ErrorResponse.__name__}"}
    schemas = schema["components"].setdefault("schemas", {})
    if ErrorResponse.__name__ not in schemas:
        schemas.update(ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")["$defs"])
        schemas[ErrorResponse.__name__] = ErrorResponse.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas[ErrorResponse.__name__].pop("$defs", None)
    for operation in _operations(schema):
        answer = operation.get("responses", {}).get("422")
        content = (answer or {}).get("content", {}).get("application/json", {})
        if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
            content["schema"] = error
            answer["description"] = ERROR_DESCRIPTIONS[422]
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _apply_limits(schema: dict[str, Any], settings: Settings) -> None:
    schemas = schema["components"]["schemas"]
    matters = list(settings.check_matters)

    def set_on(model: str, field: str, **limits: Any) -> None:
        if model in schemas:
            schemas[model]["properties"][field].update(limits)

    set_on("BatchCreate", "rows", maxItems=settings.api_batch_max_rows)
    set_on("EntriesCreate", "rows", maxItems=settings.api_batch_max_rows)
    set_on("BatchCheckCreate", "items", maxItems=settings.checks_batch_max_rows)
    for model in ("CheckCreate", "BatchCheckCreate", "ReportCreate"):
        set_on(model, "matter", enum=matters)
    # The batch check by file describes its form inline (see checks.api).
    for operation in _operations(schema):
        form = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data", {}).get("schema", {})
        if "matter" in form.get("properties", {}):
            form["properties"]["matter"]["enum"] = matters
