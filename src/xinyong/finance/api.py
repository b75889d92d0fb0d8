"""`/api/v1/finance`: what a financial institution's system does with its key (`Authorization: Bearer fi_…`):
read a subject's data package under its consent, see and take financing demands, report outcomes, pull the
whitelist feed (JSON or CSV)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from xinyong.errors import NotAuthenticated
from xinyong.finance import service
from xinyong.finance.models import Demand
from xinyong.web.deps import AppSettings, DbSession, Id, Today, UoW
from xinyong.web.errors import error_responses
from xinyong.web.openapi import INSTITUTION_KEY_ONLY
from xinyong.web.uow import router as make_router

router = make_router(prefix="/api/v1/finance", tags=["信易贷（金融机构）"])


def institution_key(request: Request, session: DbSession) -> service.Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("请在 Authorization 头中提供金融机构访问密钥（Bearer fi_…）")
    return service.key_caller(service.verify_key(session, token.strip()))


Key = Annotated[service.Caller, Depends(institution_key)]


def _demand(d: Demand, today: Any) -> dict[str, Any]:
    return {"id": d.id, "subject": d.subject_name, "amount": str(d.amount), "term_months": d.term_months,
            "purpose": d.purpose, "collateral": d.collateral, "posted_on": d.posted_on.isoformat(),
            "respond_by": d.respond_by.isoformat(), "status": d.status.value, "overdue": service.is_overdue(d, today),
            "taken_on": d.taken_on.isoformat() if d.taken_on else None,
            "credit_amount": str(d.credit_amount) if d.credit_amount is not None else None,
            "loan_amount": str(d.loan_amount) if d.loan_amount is not None else None,
            "loan_date": d.loan_date.isoformat() if d.loan_date else None, "refusal_reason": d.refusal_reason}  # fmt: skip


@router.get("/subjects/{code}", name="api.finance.package", summary="按授权读取主体的信用信息包", openapi_extra=INSTITUTION_KEY_ONLY,
            responses=error_responses(401, 403, 404, 422, s403="该主体未授权本机构，授权已过期或已撤回，或请求超出授权范围",
                                      s404="没有这一主体"))  # fmt: skip
def package(code: str, key: Key, uow: UoW, settings: AppSettings, today: Today,
            scope: Annotated[str, Query(max_length=400, description="逗号分隔的授权项目；省略时为授权的全部项目")] = ""
            ) -> JSONResponse:  # fmt: skip
    asked = [s for s in scope.split(",") if s.strip()] if scope else None
    # Every look-up is recorded, a refused one too: read and recorded in one writer's transaction (see
    # `service.read_package`), which on SQLite waits for another connection's write instead of failing.
    return JSONResponse(uow.write_in_thread(lambda: service.read_package(
        uow.session, key, code=code[:40], scope=asked, settings=settings, today=today)))  # fmt: skip


@router.get("/demands", name="api.finance.demands", summary="与本机构产品匹配的融资需求及本机构受理的需求",
            openapi_extra=INSTITUTION_KEY_ONLY, responses=error_responses(401))  # fmt: skip
def demands(key: Key, session: DbSession, today: Today) -> JSONResponse:
    return JSONResponse({"demands": [_demand(d, today) for d in service.matching_demands(session, key.institution)]})


@router.post("/demands/{demand_id}/take", name="api.finance.take", summary="受理（抢单）一条融资需求",
             openapi_extra=INSTITUTION_KEY_ONLY, responses=error_responses(401, 404, 409, s409="已被其他机构受理"))  # fmt: skip
def take(demand_id: Id, key: Key, session: DbSession, today: Today) -> JSONResponse:
    return JSONResponse(_demand(service.take_demand(session, key, demand_id, today=today), today))


class Outcome(BaseModel):
    outcome: Literal["credited", "loaned", "refused"] = Field(description="credited 授信 / loaned 放款 / refused 未获批")
    credit_amount: str | None = Field(None, max_length=20, description="授信金额（万元）")
    loan_amount: str | None = Field(None, max_length=20, description="放款金额（万元）")
    loan_date: str | None = Field(None, max_length=10, description="放款日期 YYYY-MM-DD")
    reason: str | None = Field(None, max_length=500, description="未获批原因")


@router.post("/demands/{demand_id}/outcome", name="api.finance.outcome", summary="反馈融资结果",
             openapi_extra=INSTITUTION_KEY_ONLY, responses=error_responses(401, 404, 409, 413, 422))  # fmt: skip
def outcome(demand_id: Id, body: Outcome, key: Key, session: DbSession, today: Today) -> JSONResponse:
    demand = service.answer_demand(session, key, demand_id, outcome=body.outcome, credit_amount=body.credit_amount,
                                   loan_amount=body.loan_amount, loan_date=body.loan_date, reason=body.reason,
                                   today=today)  # fmt: skip
    return JSONResponse(_demand(demand, today))


Version = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="版本号；省略时为最新版本")]


@router.get("/whitelist", name="api.finance.whitelist", summary="信易贷白名单（按日期和版本）", openapi_extra=INSTITUTION_KEY_ONLY,
            responses=error_responses(401, 404, 422))  # fmt: skip
def whitelist(key: Key, session: DbSession, version: Version = None) -> JSONResponse:
    return JSONResponse(service.feed_document(service.get_feed(session, version)))


@router.get("/whitelist.csv", name="api.finance.whitelist_csv", summary="信易贷白名单（CSV）", openapi_extra=INSTITUTION_KEY_ONLY,
            response_class=Response, responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                                                      "description": "白名单（CSV）"}, **error_responses(401, 404, 422)})  # fmt: skip
def whitelist_csv(key: Key, session: DbSession, version: Version = None) -> Response:
    feed = service.get_feed(session, version)
    return Response(service.feed_csv(feed), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="whitelist-v{feed.version}-{feed.as_of.isoformat()}.csv"'})  # fmt: skip
