"""`/api/v1/lists`: entries of lists decided elsewhere, sent by a department system."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from xinyong.auth import service as auth_service
from xinyong.auth.rules import Permission
from xinyong.departments.models import ApiKey
from xinyong.errors import InvalidInput
from xinyong.lists import imports
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, Today, require_api_key
from xinyong.web.uow import router as make_router

router = make_router(prefix="/api/v1", tags=["信用名单"])
ListsKey = Annotated[ApiKey, require_api_key(Permission.API_LISTS_WRITE)]


class EntriesCreate(BaseModel):
    rows: list[dict[str, str | int | None]] = Field(
        ..., description="每个对象一条名单记录；键为 name, code, doc_no, listed_on, reasons（必填）及 valid_until, kind, "
        "authority, status，或对应的中文表头（如 主体名称、文书号/案号）",
    )


@router.post("/lists/{type_key}/entries", name="api.lists.entries", summary="导入外部认定的名单记录（JSON）")
def post_entries(type_key: str, body: EntriesCreate, key: ListsKey, session: DbSession, settings: AppSettings,
                 protector: AppProtector, today: Today) -> JSONResponse:  # fmt: skip
    if not body.rows:
        raise InvalidInput(reason="rows 不能为空")
    if len(body.rows) > settings.api_batch_max_rows:
        raise InvalidInput(reason=f"一次最多提交 {settings.api_batch_max_rows} 条，请分批提交")
    outcome = imports.import_list_rows(session, body.rows, type_key=type_key, department=key.department,
                                       actor=auth_service.actor_for_key(key), protector=protector, today=today)  # fmt: skip
    problems = [{"row": p.row, "column": p.column, "code": p.code, "value": p.value, "message": p.message}
                for p in imports.problems_of(session, outcome.import_id)]  # fmt: skip
    document: dict[str, Any] = {**outcome.as_dict(), "problems": problems}
    return JSONResponse(document, status_code=422 if outcome.failure else 200)


@router.get("/lists/imports/{import_id}/problems.csv", name="api.lists.import_problems",
            summary="下载名单导入的问题报告（CSV）", response_class=Response)  # fmt: skip
def get_problems(import_id: Id, key: ListsKey, session: DbSession) -> Response:
    record = imports.get_import(session, import_id, actor=auth_service.actor_for_key(key))
    return Response(imports.problems_csv(session, record.id), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="list-import-{record.id}-problems.csv"'})  # fmt: skip
