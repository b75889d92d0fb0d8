"""Portal pages of objections (异议): file one against an own record, follow it, withdraw it."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from xinyong.accounts import service as accounts_service
from xinyong.accounts.deps import SignedInAccount
from xinyong.evidence import service as evidence
from xinyong.evidence.forms import read_evidence_form
from xinyong.objections import service as objections_service
from xinyong.objections.models import GROUNDS, Objection
from xinyong.records.models import Record
from xinyong.subjects import refs
from xinyong.web import forms
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Today, UoW
from xinyong.web.errors import on_error_redirect, on_error_render, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/objections", include_in_schema=False)


@router.get("/file/{ref}", name="objections.file")
def objection_form(request: Request, ref: str, session: DbSession, protector: AppProtector,
                   account: SignedInAccount) -> Response:  # fmt: skip
    record = accounts_service.own_record(session, account, refs.parse_record_ref(ref, protector) or 0)
    return render(request, "portal/objections/file.html", {"record": record, "ref": ref, "grounds": GROUNDS,
                                                           "form": {}})  # fmt: skip


@router.post("/file/{ref}", name="objections.file.submit")
async def objection_file(request: Request, ref: str, uow: UoW, settings: AppSettings,
                         protector: AppProtector, today: Today, account: SignedInAccount) -> Response:  # fmt: skip
    session = uow.session
    form, incoming = await read_evidence_form(request, settings)
    data = objections_service.ObjectionInput(
        ground=forms.text(form, "ground", 30), reason=forms.text(form, "reason", 4000),
        contact_name=forms.text(form, "contact_name", 100), contact_phone=forms.text(form, "contact_phone", 40),
    )  # fmt: skip
    record_id = refs.parse_record_ref(ref, protector) or 0

    def work() -> Objection:
        record = accounts_service.own_record(session, account, record_id)  # an unknown or foreign record: 404
        on_error_render(request, "portal/objections/file.html", {"record": record, "ref": ref, "grounds": GROUNDS,
                                                                  "form": data.__dict__})  # fmt: skip
        return objections_service.file_objection(session, account=account, record_id=record_id, data=data,
                                                 files=incoming, settings=settings, today=today)  # fmt: skip

    objection = await uow.run_as_writer(work)
    return redirect(request, f"/objections/{objection.number}", flash_message=f"异议已提交，编号 {objection.number}")


@router.get("/{number}", name="objections.detail")
def objection_page(request: Request, number: str, session: DbSession, account: SignedInAccount) -> Response:
    objection = objections_service.get_for_account(session, account, number)
    return render(request, "portal/objections/detail.html", {
        "o": objection, "record": session.get(Record, objection.record_id), "grounds": GROUNDS,
        "evidence": evidence.list_for(session, f"objection:{objection.id}"),
        "changes": objections_service.corrections(session, objection),
    })  # fmt: skip


@router.post("/{number}/withdraw", name="objections.withdraw")
async def objection_withdraw(request: Request, number: str, uow: UoW, account: SignedInAccount
                             ) -> Response:  # fmt: skip
    session = uow.session
    await forms.read_form(request)

    def work() -> str:
        target = f"/objections/{objections_service.get_for_account(session, account, number).number}"
        on_error_redirect(request, target)
        objections_service.withdraw_objection(session, account=account, number=number)
        return target

    return redirect(request, await uow.run_as_writer(work), flash_message="异议已撤回")
