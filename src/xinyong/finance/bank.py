"""The console surface of a financial institution's officers (role 金融机构信贷员): the demands matching its
products and those it took (take, report the outcome), and the subjects that authorised it, whose data package
is read under their consent (each read recorded, as through the API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.finance import service
from xinyong.web import forms
from xinyong.web.deps import AppSettings, DbSession, Id, Today, UoW, require, writes_first
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)
Officer = Annotated[Actor, require(Permission.INSTITUTION_WORK)]
PAGE = "/admin/bank"


@router.get("/bank", name="admin.bank")
def workbench(request: Request, session: DbSession, settings: AppSettings, today: Today, actor: Officer) -> Response:
    caller = service.officer_caller(session, actor)
    return render(request, "admin/finance/bank.html", {
        "institution": caller.institution, "demands": service.matching_demands(session, caller.institution),
        "consents": service.consents_for(session, caller, today=today), "items": service.scope_items(settings),
        "today": today, "is_overdue": service.is_overdue,
    })  # fmt: skip


@router.get("/bank/subjects/{code}", name="admin.bank.package")
def package(request: Request, code: str, uow: UoW, settings: AppSettings, today: Today,
            actor: Officer) -> Response:  # fmt: skip
    caller = service.officer_caller(uow.session, actor)
    # Read and recorded (a refusal too) in one writer's transaction, as through the API (see finance.api).
    document = uow.write_in_thread(lambda: service.read_package(uow.session, caller, code=code[:40], scope=None,
                                                                 settings=settings, today=today))  # fmt: skip
    return render(request, "admin/finance/package.html", {"p": document, "items": service.scope_items(settings)})


@router.post("/bank/demands/{demand_id}/take", name="admin.bank.take")
@writes_first
async def take(request: Request, demand_id: Id, session: DbSession, today: Today, actor: Officer) -> Response:
    await forms.read_form(request)
    on_error_redirect(request, PAGE)
    demand = service.take_demand(session, service.officer_caller(session, actor), demand_id, today=today)
    return redirect(request, PAGE, flash_message=f"已受理 {demand.subject_name} 的融资需求")


@router.post("/bank/demands/{demand_id}/outcome", name="admin.bank.outcome")
@writes_first
async def outcome(request: Request, demand_id: Id, session: DbSession, today: Today, actor: Officer) -> Response:
    form = await forms.read_form(request)
    on_error_redirect(request, PAGE)
    demand = service.answer_demand(
        session, service.officer_caller(session, actor), demand_id, outcome=forms.text(form, "outcome", 20),
        credit_amount=forms.text(form, "credit_amount", 20) or None, loan_amount=forms.text(form, "loan_amount", 20) or None,
        loan_date=forms.text(form, "loan_date", 20) or None, reason=forms.text(form, "reason", 600) or None, today=today)  # fmt: skip
    return redirect(request, PAGE, flash_message=f"已反馈结果：{demand.status.label}")
