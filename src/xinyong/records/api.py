from __future__ import annotations

import io
from typing import Annotated

from fastapi.responses import JSONResponse, Response

from xinyong.auth.rules import Permission
from xinyong.auth.service import actor_for_key
from xinyong.departments.models import ApiKey
from xinyong.errors import InvalidInput
from xinyong.records import report, service
from xinyong.records.models import BatchSource
from xinyong.records.schemas import BatchCreate, BatchRead, RecordRevoked, RevokeCreate
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, Today, require_api_key
from xinyong.web.errors import ErrorResponse, error_responses
from xinyong.web.openapi import KEY_ONLY
from xinyong.web.uow import router as make_router

router = make_router(prefix="/api/v1", tags=["归集"])

# Writes are audited by the records service (batch started/finished, record revoked), in its transactions.
WriteKey = Annotated[ApiKey, require_api_key(Permission.API_RECORDS_WRITE)]
ReadKey = Annotated[ApiKey, require_api_key(Permission.API_RECORDS_READ)]
# Database ids are 32-bit integers: a larger one would fail in PostgreSQL rather than be not found.
CSV_ANSWER = {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "问题报告（UTF-8 CSV，带 BOM）"}


@router.post(
    "/records/{record_type}/batch",
    response_model=BatchRead,
    name="api.records.batch",
    summary="批量报送信用记录（JSON）",
    openapi_extra=KEY_ONLY,
    responses={
        **error_responses(401, 403, 404, 413, s404="没有这一记录类别",
                         s403="密钥没有报送权限，或指定了今天以外的报送日期而没有补录权限（api:records:backdate）"),
        422: {
            "model": BatchRead | ErrorResponse,
            "description": "整个请求无法导入（如缺少必填字段列、报送日期晚于今天）时为批次报告（status 为 failed）；"
            "请求格式不正确或行数超过上限时为错误",
        },
    },
)
def post_batch(
    record_type: str, body: BatchCreate, key: WriteKey, session: DbSession, settings: AppSettings,
    protector: AppProtector, today: Today,
) -> JSONResponse:  # fmt: skip
    if len(body.rows) > settings.api_batch_max_rows:
        raise InvalidInput(reason=f"一次最多报送 {settings.api_batch_max_rows} 行，请分批提交")
    result = service.import_rows(
        session, body.rows, settings=settings, protector=protector, record_type=record_type,
        department=key.department, actor=actor_for_key(key), source=BatchSource.API,
        reported_on=body.reported_on, backdate_reason=body.backdate_reason, today=today,
    )  # fmt: skip
    document = report.result_document(session, result)
    return JSONResponse(document, status_code=422 if result.failure else 200)


@router.get("/batches/{batch_id}", response_model=BatchRead, name="api.batches.detail", summary="导入批次报告",
            openapi_extra=KEY_ONLY, responses=error_responses(401, 403, 404, 422))  # fmt: skip
def get_batch(batch_id: Id, key: ReadKey, session: DbSession) -> dict[str, object]:
    batch = service.get_batch(session, batch_id, department=key.department)
    return report.batch_document(session, batch)


@router.get(
    "/batches/{batch_id}/problems.csv",
    name="api.batches.problems_csv",
    summary="下载导入批次的问题报告（CSV）",
    response_class=Response,
    openapi_extra=KEY_ONLY,
    responses={200: CSV_ANSWER, **error_responses(401, 403, 404, 422)},
)
def get_batch_problems_csv(batch_id: Id, key: ReadKey, session: DbSession) -> Response:
    batch = service.get_batch(session, batch_id, department=key.department)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel needs the BOM to read UTF-8
    report.write_problems_csv(session, batch.id, buffer)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="batch-{batch.id}-problems.csv"'},
    )


@router.post(
    "/records/{record_type}/revoke", response_model=RecordRevoked, name="api.records.revoke", summary="撤销一条记录",
    openapi_extra=KEY_ONLY,
    responses=error_responses(401, 403, 404, 409, 413, 422, s404="本部门没有该文书号的记录", s409="该记录已撤销"),
)
def revoke(record_type: str, body: RevokeCreate, key: WriteKey, session: DbSession) -> RecordRevoked:
    record = service.revoke_record(
        session, department=key.department, record_type=record_type, doc_no=body.doc_no, reason=body.reason,
        actor=f"api-key:{key.prefix}",
    )  # fmt: skip
    return RecordRevoked(doc_no=record.doc_no, status=record.status.value, version=record.version)
