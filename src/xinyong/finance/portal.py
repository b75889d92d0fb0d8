"""The enterprise's 信易贷 page: authorise an institution for a named scope and period, see every access made
under each consent, revoke at once; post a financing demand and follow it."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from starlette.responses import Response

from xinyong.accounts.deps import SignedInAccount
from xinyong.accounts.models import SubjectAccount
from xinyong.finance import service
from xinyong.web import forms
from xinyong.web.deps import AppSettings, DbSession, Id, Today, UoW, parse_id
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/account/finance", include_in_schema=False)
PAGE = "/account/finance"


def _verified(request: Request, account: SubjectAccount) -> Response | None:
    if not account.is_identity_verified:
        return redirect(request, "/account", flash_message="请先完成主体身份核验，再办理信易贷授权和融资需求", kind="warning")
    return None


@router.get("", name="account.finance")
def page(request: Request, session: DbSession, settings: AppSettings, today: Today, account: SignedInAccount) -> Response:
    if (refused := _verified(request, account)) is not None:
        return refused
    cfg = service.config()
    return render(request, "portal/finance/account.html", {
        "consents": service.consents_of(session, account, settings=settings, today=today),
        "institutions": service.list_institutions(session, active_only=True), "scope_items": service.scope_items(settings),
        "demands": service.demands_of(session, account), "purposes": cfg.purposes, "today": today,
        "default_until": today + timedelta(days=90), "is_overdue": service.is_overdue,
        "max_days": cfg.max_consent_days, "sla": cfg.service_level_workdays,
    })  # fmt: skip



@router.post("/consents", name="account.finance.consent")
async def consent(request: Request, uow: UoW, settings: AppSettings, today: Today,
                  account: SignedInAccount) -> Response:  # fmt: skip
    form = await forms.read_form(request)
    on_error_redirect(request, PAGE)
    institution_id = parse_id(forms.text(form, "institution", 20))
    scope = forms.texts(form, "scope", limit=60, most=30)
    valid_until = forms.optional_date(forms.text(form, "valid_until", 20), "授权截止日期")
    # The subject is the account's own, whatever else the form carries.
    await uow.run_as_writer(lambda: service.grant_consent(uow.session, account, institution_id=institution_id, scope=scope,
                                                          valid_until=valid_until, settings=settings, today=today))  # fmt: skip
    return redirect(request, PAGE, flash_message="已授权。您可随时在本页查看每一次查询，并随时撤回授权")


@router.post("/consents/{consent_id}/revoke", name="account.finance.revoke")
async def revoke(request: Request, consent_id: Id, uow: UoW, account: SignedInAccount) -> Response:
    await forms.read_form(request)
    on_error_redirect(request, PAGE)
    await uow.run_as_writer(lambda: service.revoke_consent(uow.session, account, consent_id))
    return redirect(request, PAGE, flash_message="授权已撤回，该机构此后的查询将被拒绝")


@router.post("/demands", name="account.finance.demand")
async def demand(request: Request, uow: UoW, today: Today, account: SignedInAccount) -> Response:
    form = await forms.read_form(request)
    on_error_redirect(request, PAGE)
    await uow.run_as_writer(lambda: service.post_demand(
        uow.session, account, amount=forms.text(form, "amount", 30), term_months=forms.text(form, "term", 10),
        purpose=forms.text(form, "purpose", 40), collateral=forms.text(form, "collateral", 400), today=today))  # fmt: skip
    return redirect(request, PAGE, flash_message="融资需求已发布，匹配的金融机构将在服务时限内受理")
