"""`/api/v1/lists`: entries of lists decided elsewhere, sent by a department system."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from xinyong.auth import service as auth_service
from xinyong.auth.rules import Permission
from xinyong.departments.models import ApiKey
from xinyong.errors import InvalidInput
from xinyong.fields import Text
from xinyong.lists import imports
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, Today, require_api_key
from xinyong.web.errors import ErrorProblem, ErrorResponse, error_responses
from xinyong.web.openapi import KEY_ONLY
from xinyong.web.uow import router as make_router

router = make_router(prefix="/api/v1", tags=["信用名单"])
ListsKey = Annotated[ApiKey, require_api_key(Permission.API_LISTS_WRITE)]


# One entry: field (name or Chinese header) → value.
EntryRow = Annotated[dict[Text, Text | int | None], Field(json_schema_extra={"additionalProperties": False})]


class EntriesCreate(BaseModel):
    rows: list[EntryRow] = Field(
        ..., min_length=1,
        description="每个对象一条名单记录；键为 name, code, doc_no, listed_on, reasons（必填）及 valid_until, kind, "
        "authority, status，或对应的中文表头（如 主体名称、文书号/案号）；一次最多条数见 maxItems",
    )


class EntriesImportRead(BaseModel):
    import_id: int
    status: str = Field(description="completed / failed")
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    failure: str | None
    problems: list[ErrorProblem]


@router.post("/lists/{type_key}/entries", name="api.lists.entries", summary="导入外部认定的名单记录（JSON）",
             response_model=EntriesImportRead, openapi_extra=KEY_ONLY,
             responses={**error_responses(401, 403, 404, 413, s403="访问密钥没有名单导入权限，或本部门不是该名单的导入部门",
                                          s404="没有这一名单类型"),
                        422: {"model": EntriesImportRead | ErrorResponse,
                              "description": "整个请求无法导入（如缺少必填字段）时为导入结果（status 为 failed）；"
                              "请求格式不正确、条数超过上限或该名单须按列入程序办理时为错误"}})  # fmt: skip
def post_entries(type_key: str, body: EntriesCreate, key: ListsKey, session: DbSession, settings: AppSettings,
                 protector: AppProtector, today: Today) -> JSONResponse:  # fmt: skip
    if len(body.rows) > settings.api_batch_max_rows:
        raise InvalidInput(reason=f"一次最多提交 {settings.api_batch_max_rows} 条，请分批提交")
    outcome = imports.import_list_rows(session, body.rows, type_key=type_key, department=key.department,
                                       actor=auth_service.actor_for_key(key), protector=protector, today=today)  # fmt: skip
    problems = [{"row": p.row, "column": p.column, "code": p.code, "value": p.value, "message": p.message}
                for p in imports.problems_of(session, outcome.import_id)]  # fmt: skip
    document: dict[str, Any] = {**outcome.as_dict(), "problems": problems}
    return JSONResponse(document, status_code=422 if outcome.failure else 200)


@router.get("/lists/imports/{import_id}/problems.csv", name="api.lists.import_problems",
            summary="下载名单导入的问题报告（CSV）", response_class=Response, openapi_extra=KEY_ONLY,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "问题报告（CSV）"},
                       **error_responses(401, 403, 404, 422)})  # fmt: skip
def get_problems(import_id: Id, key: ListsKey, session: DbSession) -> Response:
    record = imports.get_import(session, import_id, actor=auth_service.actor_for_key(key))
    return Response(imports.problems_csv(session, record.id), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="list-import-{record.id}-problems.csv"'})  # fmt: skip
