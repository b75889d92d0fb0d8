"""`/api/v1/checks`: credit checks for department systems (API key) and signed-in console users."""

from __future__ import annotations

import io
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.datastructures import UploadFile

from xinyong.auth import service as auth_service
from xinyong.auth.rules import Actor, Permission
from xinyong.checks import files, service
from xinyong.checks.schemas import BatchCheckCreate, BatchCheckRead, CheckCreate, CheckRead, FeedbackCreate
from xinyong.departments import service as departments_service
from xinyong.errors import InvalidInput, NotAuthenticated, PermissionDenied
from xinyong.exports import write_csv
from xinyong.portal.web import Today
from xinyong.web.deps import AppProtector, AppSettings, DbSession, check_csrf, load_user_session

router = APIRouter(prefix="/api/v1", tags=["信用核查"])


def actor_with(api_permission: Permission, user_permission: Permission):  # type: ignore[no-untyped-def]
    """A department system's key (`Authorization: Bearer xy_…`) or a signed-in console user (with the
    session's CSRF token in X-CSRF-Token for writes)."""

    async def dependency(request: Request, session: DbSession) -> Actor:
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise NotAuthenticated("请在 Authorization 头中提供部门访问密钥（Bearer xy_…）")
            key = departments_service.authenticate_api_key(session, token.strip(), scope=api_permission)
            actor = auth_service.actor_for_key(key)
            try:
                session.commit()  # records last_used_at even if the handler fails later
            except OperationalError:
                # SQLite under concurrent writers: last_used_at is best effort, the check must not fail for it.
                session.rollback()
            return actor
        row = load_user_session(request, session)
        if row is None:
            raise NotAuthenticated("请提供部门访问密钥（Bearer xy_…）或先登录控制台")
        actor = auth_service.actor_for_user(row.user)
        if row.user.must_change_password:
            raise auth_service.PasswordChangeRequired()
        if not actor.can(user_permission):
            raise PermissionDenied(f"无权执行此操作（需要 {user_permission.value} 权限）")
        await check_csrf(request, row)
        return actor

    return Depends(dependency)


Checker = Annotated[Actor, actor_with(Permission.API_CHECKS_WRITE, Permission.CHECKS_WRITE)]
Reader = Annotated[Actor, actor_with(Permission.API_CHECKS_WRITE, Permission.CHECKS_READ)]


@router.post("/checks", response_model=CheckRead, name="api.checks.create", summary="信用核查（单个主体）")
def create_check(body: CheckCreate, actor: Checker, session: DbSession, settings: AppSettings,
                 protector: AppProtector, today: Today) -> dict[str, Any]:  # fmt: skip
    documents, rows = service.prepare_checks(session, [service.CheckItem(code=body.code, name=body.name)],
                                             matter=body.matter, actor=actor, settings=settings, protector=protector,
                                             today=today, detail=True)  # fmt: skip
    _store(session, rows)
    return documents[0]


def _store(session: DbSession, rows: list[dict[str, Any]]) -> None:
    """Record the checks in a transaction of their own. The reads are ended first: in SQLite's WAL mode a
    transaction that read and then writes fails at once ("database is locked") when another writer committed
    in between, while one that starts with its write waits for the lock."""
    session.commit()  # nothing written yet: this only ends the read snapshot
    service.store_checks(session, rows)
    session.commit()


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
             summary="批量信用核查（JSON；?format=csv 返回 CSV）")  # fmt: skip
def create_batch(body: BatchCheckCreate, actor: Checker, session: DbSession, settings: AppSettings,
                 protector: AppProtector, today: Today, format: str = "json") -> Response:  # fmt: skip
    items = [service.CheckItem(code=i.code, name=i.name, ref=i.ref) for i in body.items]
    batch_no, documents, rows = service.prepare_batch(session, items, matter=body.matter, actor=actor,
                                                      settings=settings, protector=protector, today=today)  # fmt: skip
    _store(session, rows)
    return _batch_answer(batch_no, body.matter, documents, format)


@router.post("/checks/batch/file", name="api.checks.batch_file",
             summary="批量信用核查（上传 CSV/XLSX：列 统一社会信用代码/名称/序号；表单字段 matter；?format=csv 返回 CSV）")  # fmt: skip
async def create_batch_file(request: Request, actor: Checker, session: DbSession, settings: AppSettings,
                            protector: AppProtector, today: Today, format: str = "json") -> Response:  # fmt: skip
    form = await request.form(max_files=1, max_fields=5)
    upload, matter = form.get("file"), str(form.get("matter") or "")
    if not isinstance(upload, UploadFile):
        raise InvalidInput(reason="请上传文件（表单字段 file）")
    data = await upload.read(settings.upload_max_bytes + 1)
    items, problems = files.read_items(data, filename=upload.filename, settings=settings)
    if problems and not items:
        return JSONResponse({"error": {"code": "file-rejected", "message": problems[0].message,
                                       "problems": [p.as_dict() for p in problems]}}, status_code=422)  # fmt: skip
    batch_no, documents, rows = service.prepare_batch(session, items, matter=matter, actor=actor, settings=settings,
                                                      protector=protector, today=today)  # fmt: skip
    _store(session, rows)
    return _batch_answer(batch_no, matter, documents, format)


@router.get("/checks/stats", name="api.checks.stats", summary="核查、命中与奖惩反馈统计（按部门和事项）")
def stats(actor: Reader, session: DbSession) -> list[dict[str, Any]]:
    return [row.__dict__ for row in service.statistics(session, actor)]


@router.get("/checks/{number}", response_model=CheckRead, name="api.checks.detail", summary="查看核查结果")
def get_check(number: str, actor: Reader, session: DbSession) -> dict[str, Any]:
    return service.get_check(session, number, actor=actor).result


@router.post("/checks/{number}/feedback", name="api.checks.feedback", summary="奖惩结果反馈")
def post_feedback(number: str, body: FeedbackCreate, actor: Checker, session: DbSession) -> dict[str, Any]:
    feedback = service.record_feedback(session, number, measure_code=body.measure_code, is_applied=body.applied,
                                       note=body.note, actor=actor)  # fmt: skip
    session.commit()
    return {"number": number, "measure_code": body.measure_code, "applied": feedback.is_applied, "note": feedback.note}
