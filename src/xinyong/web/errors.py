"""How the JSON API answers an error: `{"error": {"code", "message", ...}}`, and how the OpenAPI description says so."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyong.errors import DomainError

HTTP_MESSAGES = {
    404: "页面或资源不存在",
    405: "不支持该请求方法",
    413: "上传内容过大",
    429: "请求过于频繁，请稍后再试",
}


UNPARSABLE_BODY = "请求格式不正确：无法解析请求内容（JSON 须为 UTF-8 编码；表单须为 multipart/form-data）"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"location": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
            for err in exc.errors()
        ]
        return JSONResponse(
            {"error": {"code": "invalid-request", "message": "请求格式不正确", "details": details}},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and request.url.path.startswith("/api/"):
            # FastAPI answers a JSON body that is not UTF-8, and Starlette a form it cannot parse, with a bare 400;
            # to a client it is the same mistake as malformed JSON, which is a 422 invalid-request.
            return JSONResponse({"error": {"code": "invalid-request", "message": UNPARSABLE_BODY, "details": []}},
                                status_code=422)  # fmt: skip
        message = HTTP_MESSAGES.get(exc.status_code, str(exc.detail))
        return JSONResponse({"error": {"code": f"http-{exc.status_code}", "message": message}},
                            status_code=exc.status_code)  # fmt: skip


# --------------------------------------------------------------------------------- the OpenAPI description


class ErrorDetail(BaseModel):
    location: str = Field(description="出错的位置，如 body.rows.0")
    message: str


class ErrorProblem(BaseModel):
    row: int = Field(description="行号：表头为第 1 行，0 表示整个文件")
    column: str | None
    code: str
    value: str | None
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="稳定的错误代码，如 not-authenticated、invalid-request、rate-limited")
    message: str = Field(description="中文说明")
    details: list[ErrorDetail] | None = Field(None, description="请求格式错误时，逐项说明（invalid-request）")
    problems: list[ErrorProblem] | None = Field(None, description="上传文件无法读取时的问题（file-rejected）")


class ErrorResponse(BaseModel):  # every refusal of the JSON API
    error: ErrorBody


ERROR_DESCRIPTIONS = {
    401: "未提供访问凭证，或访问密钥无效、已吊销、已过期（响应头 WWW-Authenticate: Bearer）",
    403: "凭证有效，但没有此操作的权限（访问密钥的权限范围、本部门的数据范围）",
    404: "资源不存在，或不属于本部门",
    409: "当前状态下不能执行该操作",
    413: "请求内容超过大小上限",
    422: "请求格式不正确，或内容无法处理",
    429: "请求过于频繁，请按 Retry-After 响应头稍后再试",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status with the error schema. A status's description can be given
    as `s422="…"`."""
    return {
        status: {"model": ErrorResponse, "description": descriptions.get(f"s{status}", ERROR_DESCRIPTIONS[status])}
        for status in statuses
    }
