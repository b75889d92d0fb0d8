"""`/api/v1/scenarios`: the public 信易+ catalogue, and the eligibility check a provider's system makes for one
subject in its approval work (a department key with `api:scenarios:check`): yes or no and the rule, never the
record behind it. Each check is counted."""

from __future__ import annotations

from typing import Annotated

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from xinyong.actors import Permission
from xinyong.departments.models import ApiKey
from xinyong.scenarios import service
from xinyong.web.deps import AppProtector, AppSettings, DbSession, ReadSession, Today, require_api_key
from xinyong.web.errors import error_responses
from xinyong.web.openapi import KEY_ONLY
from xinyong.web.uow import router as make_router

router = make_router(prefix="/api/v1/scenarios", tags=["信易+"])
CheckKey = Annotated[ApiKey, require_api_key(Permission.API_SCENARIOS_CHECK)]


@router.get("", name="api.scenarios.catalogue", summary="信易+ 场景目录（公开）")
def catalogue(session: ReadSession, today: Today) -> JSONResponse:
    return JSONResponse({"scenarios": [{
        "key": e.scenario.key, "name": e.scenario.name, "provider": e.scenario.provider, "provider_kind": e.provider_kind,
        "benefit": e.scenario.benefit, "rule": e.rule, "basis": e.scenario.basis, "uses": e.uses,
        "valid_from": e.scenario.valid_from.isoformat(),
        "valid_until": e.scenario.valid_until.isoformat() if e.scenario.valid_until else None,
    } for e in service.catalogue(session, today=today)]})  # fmt: skip


class CheckRequest(BaseModel):
    code: str = Field(..., min_length=1, max_length=40, description="主体的统一社会信用代码或身份证号码")


class CheckAnswer(BaseModel):
    scenario: str
    eligible: bool
    rule: str
    reason: str


@router.post("/{key}/check", name="api.scenarios.check", summary="核验一个主体是否适用该场景（是/否及规则）",
             response_model=CheckAnswer, openapi_extra=KEY_ONLY,
             responses=error_responses(401, 403, 404, 413, 422, s404="没有这一场景或这一主体", s422="场景不在有效期内"))  # fmt: skip
def check(key: str, body: CheckRequest, api_key: CheckKey, session: DbSession, settings: AppSettings,
          protector: AppProtector, today: Today) -> CheckAnswer:  # fmt: skip
    answer = service.check(session, key[:40], code=body.code, asked_by=f"api-key:{api_key.prefix}",
                           protector=protector, settings=settings, today=today)  # fmt: skip
    return CheckAnswer(scenario=key[:40], eligible=answer.eligible, rule=answer.rule, reason=answer.reason)
