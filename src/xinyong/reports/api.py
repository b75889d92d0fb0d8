"""`POST /api/v1/reports`: a department's system asks for a credit report inside a credit check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Request
from fastapi.responses import Response

from xinyong.actors import Permission
from xinyong.auth import service as auth_service
from xinyong.departments.models import ApiKey
from xinyong.reports import service
from xinyong.reports.schemas import ReportCreate, SignedReport
from xinyong.web.deps import AppProtector, AppSettings, Today, UoW, require_api_key
from xinyong.web.errors import error_responses
from xinyong.web.openapi import KEY_ONLY
from xinyong.web.uow import router as make_router

router = make_router(prefix="/api/v1", tags=["信用报告"])
ReportKey = Annotated[ApiKey, require_api_key(Permission.API_REPORTS_WRITE)]


ANSWER = {
    "description": "带签名的 JSON 报告（format=json），或带电子签章的 PDF（format=pdf）",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SignedReport"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {"X-Report-Number": {"description": "报告编号", "schema": {"type": "string"}},
                "X-Check-Number": {"description": "信用核查编号", "schema": {"type": "string"}}},
}  # fmt: skip


@router.post(
    "/reports", name="api.reports.create", summary="在信用核查中申请信用报告（公开版或专项信用报告）",
    description="按办理事项做一次信用核查并出具报告：核查与报告均登记、记入审计日志。需要权限 api:reports:write。",
    response_model=SignedReport, openapi_extra=KEY_ONLY,
    responses={200: ANSWER, **error_responses(
        401, 403, 404, 413, 422, s403="密钥没有 api:reports:write 权限，或代码是自然人的（自然人的报告只能由本人申请）",
        s404="没有该代码的信用主体",
        s422="请求格式不正确、代码无效、办理事项未配置、查询期或领域有误")},
)  # fmt: skip
def create_report(request: Request, body: ReportCreate, key: ReportKey, uow: UoW, settings: AppSettings,
                  protector: AppProtector, today: Today) -> Response:  # fmt: skip
    actor = auth_service.actor_for_key(key)
    prepared = service.prepare_in_check(
        uow.session, code=body.code, matter=body.matter, actor=actor, kind=body.kind, start=body.date_from,
        end=body.date_to, domains=body.domains, settings=settings, protector=protector, today=today,
        now=datetime.now(UTC), base_url=str(request.base_url), formats=(body.format,),
    )  # fmt: skip
    uow.write_in_thread(lambda: service.register_in_check(uow.session, prepared, actor=actor))
    issued = prepared.issued
    headers = {"X-Report-Number": issued.number, "X-Check-Number": str(prepared.check["number"])}
    if body.format == "pdf":
        assert issued.pdf is not None
        return Response(issued.pdf, media_type="application/pdf", headers={
            **headers, "Content-Disposition": f'attachment; filename="{issued.filename("pdf")}"'})  # fmt: skip
    return Response(issued.json, media_type="application/json", headers=headers)
