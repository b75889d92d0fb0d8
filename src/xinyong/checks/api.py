"""`/api/v1/checks`: credit checks for department systems (API key) and signed-in console users."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinyong.actors import Actor, Permission
from xinyong.checks import files, service
from xinyong.checks.schemas import (
    BatchCheckCreate,
    BatchCheckFileCreate,
    BatchCheckRead,
    CheckCreate,
    CheckRead,
    FeedbackCreate,
    FeedbackRead,
)
from xinyong.departments import service as departments_service
from xinyong.errors import InvalidInput
from xinyong.exports import write_csv
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Today, UoW, key_or_user
from xinyong.web.errors import error_responses
from xinyong.web.openapi import KEY_OR_SESSION
from xinyong.web.uow import router as make_router

router = make_router(prefix="/api/v1", tags=["信用核查"])


Checker = Annotated[Actor, key_or_user(Permission.API_CHECKS_WRITE, Permission.CHECKS_WRITE)]
Reader = Annotated[Actor, key_or_user(Permission.API_CHECKS_WRITE, Permission.CHECKS_READ)]
# The answer of a batch check: JSON, or CSV with ?format=csv.
Format = Annotated[Literal["json", "csv"], Query(description="json（默认）或 csv")]
BATCH_ANSWER = {"content": {"text/csv": {"schema": {"type": "string"}}},
                "description": "核查结果：JSON，或 format=csv 时为 CSV（UTF-8，带 BOM）"}  # fmt: skip
WRITE_ERRORS = error_responses(401, 403, 413, 422, s422="请求格式不正确，或办理事项未配置")


@router.post("/checks", response_model=CheckRead, name="api.checks.create", summary="信用核查（单个主体）",
             openapi_extra=KEY_OR_SESSION, responses=WRITE_ERRORS)  # fmt: skip
async def create_check(request: Request, body: CheckCreate, actor: Checker, uow: UoW, settings: AppSettings,
                       protector: AppProtector, today: Today) -> Response:  # fmt: skip
    # On the event loop, without a worker-thread hop: a check by code is a handful of indexed reads (about a
    # millisecond), less than the hop itself; the write waits in a thread only when another writer holds the turn.
    session = uow.session
    documents, rows = service.prepare_checks(session, [service.CheckItem(code=body.code, name=body.name)],
                                             matter=body.matter, actor=actor, settings=settings, protector=protector,
                                             today=today, detail=True)  # fmt: skip
    await uow.write(lambda: _write(request, session, rows))
    # The document is built here from typed values; FastAPI's re-validation against CheckRead is skipped (the
    # tests hold the two together).
    return Response(json.dumps(documents[0], ensure_ascii=False), media_type="application/json")


def _write(request: Request, session: DbSession, rows: list[dict[str, Any]]) -> None:
    _record_key_use(request, session)
    service.store_checks(session, rows)


def _record_key_use(request: Request, session: DbSession) -> None:
    """The key's last use, when a minute old (see actor_with), in the handler's own write."""
    key = getattr(request.state, "key_use_due", None)
    if key is not None:
        departments_service.record_key_use(session, key)
        request.state.key_use_due = None


def _store(request: Request, uow: UoW, rows: list[dict[str, Any]]) -> None:
    """Record the checks in a transaction of their own, in the writers' turn (from a worker thread)."""
    uow.write_in_thread(lambda: _write(request, uow.session, rows))


def _note_read(request: Request, uow: UoW) -> None:
    """After a read-only handler: record the key's use (a store of no checks), best effort."""
    if getattr(request.state, "key_use_due", None) is None:
        return
    uow.try_write_in_thread(lambda: _write(request, uow.session, []))


def _batch_answer(batch_no: str, matter: str, documents: list[dict[str, Any]], fmt: str) -> Response:
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel needs the BOM to read UTF-8
        write_csv(buffer, service.BATCH_COLUMNS, (service.batch_row(i, d) for i, d in enumerate(documents, start=1)))
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{batch_no}.csv"'})  # fmt: skip
    body = {"batch_no": batch_no, "matter": matter, "count": len(documents), "results": documents}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


@router.post("/checks/batch", response_model=BatchCheckRead, name="api.checks.batch",
             summary="批量信用核查（JSON；?format=csv 返回 CSV）", openapi_extra=KEY_OR_SESSION,
             responses={200: BATCH_ANSWER, **WRITE_ERRORS})  # fmt: skip
def create_batch(request: Request, body: BatchCheckCreate, actor: Checker, uow: UoW, settings: AppSettings,
                 protector: AppProtector, today: Today, format: Format = "json") -> Response:  # fmt: skip
    items = [service.CheckItem(code=i.code, name=i.name, ref=i.ref) for i in body.items]
    batch_no, documents, rows = service.prepare_batch(uow.session, items, matter=body.matter, actor=actor,
                                                      settings=settings, protector=protector, today=today)  # fmt: skip
    _store(request, uow, rows)
    return _batch_answer(batch_no, body.matter, documents, format)


@router.post("/checks/batch/file", name="api.checks.batch_file", response_model=BatchCheckRead,
             summary="批量信用核查（上传 CSV/XLSX：列 统一社会信用代码/名称/序号；表单字段 matter；?format=csv 返回 CSV）",
             openapi_extra={**KEY_OR_SESSION, "requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": BatchCheckFileCreate.model_json_schema()}}}},
             responses={200: BATCH_ANSWER, **error_responses(
                 401, 403, 413, 422, s422="文件无法读取（error.code 为 file-rejected，error.problems 逐条说明）、"
                 "未上传文件，或办理事项未配置")})  # fmt: skip
async def create_batch_file(request: Request, actor: Checker, uow: UoW, settings: AppSettings,
                            protector: AppProtector, today: Today, format: Format = "json") -> Response:  # fmt: skip
    try:
        form = await request.form(max_files=1, max_fields=5)
    except StarletteHTTPException as exc:  # a malformed form, or more parts than the two it takes
        raise InvalidInput(reason="上传表单无法解析，或字段过多（只接受 file 和 matter 两个字段）") from exc
    upload, matter = form.get("file"), str(form.get("matter") or "")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(reason="请上传文件（表单字段 file）")
    data = await upload.read(settings.upload_max_bytes + 1)
    items, problems = files.read_items(data, filename=upload.filename, settings=settings)
    if problems and not items:
        return JSONResponse({"error": {"code": "file-rejected", "message": problems[0].message,
                                       "problems": [p.as_dict() for p in problems]}}, status_code=422)  # fmt: skip

    def work() -> tuple[str, list[dict[str, Any]]]:  # thousands of subjects: off the event loop
        batch_no, documents, rows = service.prepare_batch(uow.session, items, matter=matter, actor=actor,
                                                          settings=settings, protector=protector, today=today)  # fmt: skip
        _store(request, uow, rows)
        return batch_no, documents

    batch_no, documents = await run_in_threadpool(work)
    return _batch_answer(batch_no, matter, documents, format)


@router.get("/checks/stats", name="api.checks.stats", summary="核查、命中与奖惩反馈统计（按部门和事项）",
            openapi_extra=KEY_OR_SESSION, responses=error_responses(401, 403))  # fmt: skip
def stats(request: Request, actor: Reader, uow: UoW) -> list[dict[str, Any]]:
    rows = [row.__dict__ for row in service.statistics(uow.session, actor)]
    _note_read(request, uow)
    return rows


@router.get("/checks/{number}", response_model=CheckRead, name="api.checks.detail", summary="查看核查结果",
            openapi_extra=KEY_OR_SESSION, responses=error_responses(401, 403, 404, s404="没有该核查记录，或不属于本部门"))  # fmt: skip
def get_check(request: Request, number: str, actor: Reader, uow: UoW) -> dict[str, Any]:
    result = service.get_check(uow.session, number, actor=actor).result
    _note_read(request, uow)
    return result


@router.post("/checks/{number}/feedback", name="api.checks.feedback", summary="奖惩结果反馈",
             response_model=FeedbackRead, openapi_extra=KEY_OR_SESSION,
             responses=error_responses(401, 403, 404, 413, 422, s404="没有该核查记录，或不属于本部门",
                                       s422="请求格式不正确，或反馈与核查结果不符（措施不在本次核查返回的措施中、未说明理由）"))  # fmt: skip
def post_feedback(request: Request, number: str, body: FeedbackCreate, actor: Checker, uow: UoW) -> dict[str, Any]:
    # `key_or_user` read on the event loop, in a plain transaction: the check is read again and the feedback
    # written in a writer's transaction of their own (in this worker thread, in the writers' turn).
    def work() -> dict[str, Any]:
        feedback = service.record_feedback(uow.session, number, measure_code=body.measure_code,
                                           is_applied=body.applied, note=body.note, actor=actor)  # fmt: skip
        _record_key_use(request, uow.session)
        return {"number": number, "measure_code": body.measure_code, "applied": feedback.is_applied,
                "note": feedback.note}  # fmt: skip

    return uow.write_in_thread(work)
