"""The 信易+ registry on the console (信用办): scenarios, their rules, their use counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.finance import service as finance_service
from xinyong.points import service as points_service
from xinyong.scenarios import service
from xinyong.web import forms
from xinyong.web.deps import AppSettings, DbSession, Today, require, writes_first
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)
Reader = Annotated[Actor, require(Permission.FINANCE_READ)]
Writer = Annotated[Actor, require(Permission.SCENARIOS_WRITE)]
PAGE = "/admin/scenarios"


@router.get("/scenarios", name="admin.scenarios")
def registry(request: Request, session: DbSession, settings: AppSettings, today: Today, actor: Reader) -> Response:
    return render(request, "admin/scenarios/registry.html", {
        "scenarios": service.list_scenarios(session), "uses": service.use_counts(session),
        "rule_text": lambda s: service.rule_text(session, s), "grades": service.known_grades(session, settings),
        "lists": service.honour_lists(session), "bands": points_service.model().bands, "kinds": service.PROVIDER_KINDS,
        "today": today, "city_level": finance_service.is_city_level(session, actor),
    })  # fmt: skip



@router.post("/scenarios", name="admin.scenarios.save")
@writes_first
async def save(request: Request, session: DbSession, settings: AppSettings, today: Today, actor: Writer) -> Response:
    form = await forms.read_form(request)
    on_error_redirect(request, PAGE)
    finance_service.ensure_city_level(session, actor)
    scenario = service.save_scenario(
        session, key=forms.text(form, "key", 40), name=forms.text(form, "name", 100),
        provider=forms.text(form, "provider", 200), provider_kind=forms.text(form, "provider_kind", 20),
        benefit=forms.text(form, "benefit", 600), grades=forms.texts(form, "grades", limit=8),
        list_types=forms.texts(form, "list_types", limit=40), points_bands=forms.texts(form, "points_bands", limit=40),
        basis=forms.text(form, "basis", 2000), valid_from=forms.optional_date(forms.text(form, "valid_from", 20), "起始日") or today,
        valid_until=forms.optional_date(forms.text(form, "valid_until", 20), "截止日"), actor=actor, settings=settings)  # fmt: skip
    return redirect(request, PAGE, flash_message=f"已保存场景：{scenario.name}")
