"""Portal pages of credit reports: 下载信用报告 on a profile, the account's reports, the verification page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from xinyong.accounts.deps import OptionalAccount, SignedInAccount
from xinyong.reports import service, signing
from xinyong.reports.models import ReportKind
from xinyong.web import forms
from xinyong.web.deps import AppProtector, AppSettings, Today, UoW
from xinyong.web.errors import on_error_render, redirect
from xinyong.web.ratelimit import Limited
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)
ACCOUNT_PAGE = "portal/reports/account.html"


def _download(issued: service.Issued, fmt: str) -> Response:
    body, media = (issued.pdf, "application/pdf") if fmt == "pdf" else (issued.json, "application/json")
    assert body is not None
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{issued.filename(fmt)}"', "X-Report-Number": issued.number,
        "Cache-Control": "no-store"})  # fmt: skip


def _format(value: str | None) -> str:
    return "json" if value == "json" else "pdf"


@router.get("/reports/public/{ref}", name="reports.public", dependencies=[Limited])
def public_report(request: Request, ref: str, uow: UoW, settings: AppSettings, protector: AppProtector, today: Today,
                  account: OptionalAccount, format: str | None = None) -> Response:  # fmt: skip
    fmt = _format(format)
    issued = service.prepare_public(uow.session, ref, account=account, settings=settings, protector=protector,
                                    today=today, now=datetime.now(UTC), base_url=str(request.base_url),
                                    formats=(fmt,))  # fmt: skip
    actor = service.account_label(account) if account is not None and account.subject_id == issued.subject.id else None
    uow.write_in_thread(lambda: service.register(uow.session, issued, actor=actor))
    return _download(issued, fmt)


def _account_context(settings: AppSettings, account: SignedInAccount, today: Today) -> dict[str, object]:
    return {"account": account, "kinds": [(k.value, k.label) for k in ReportKind], "today": today.isoformat(),
            "form": {"kind": "public", "from": "", "to": "", "domains": ""}}  # fmt: skip


@router.get("/account/reports", name="account.reports")
def account_page(request: Request, uow: UoW, settings: AppSettings, account: SignedInAccount, today: Today
                 ) -> Response:  # fmt: skip
    return render(request, ACCOUNT_PAGE, {**_account_context(settings, account, today),
                                          "subject": account.subject})  # fmt: skip


@router.post("/account/reports", name="account.reports.create")
async def account_report(request: Request, uow: UoW, settings: AppSettings, protector: AppProtector, today: Today,
                         account: SignedInAccount) -> Response:  # fmt: skip
    form = await forms.read_form(request)
    values = {"kind": forms.text(form, "kind", 20), "from": forms.text(form, "from", 20),
              "to": forms.text(form, "to", 20), "domains": forms.text(form, "domains", 4000)}  # fmt: skip
    on_error_render(request, ACCOUNT_PAGE, {**_account_context(settings, account, today), "form": values,
                                            "subject": account.subject})  # fmt: skip
    fmt = _format(forms.text(form, "format", 10))

    def work() -> service.Issued:  # rendering takes a while: off the event loop, the write in the writers' turn
        issued = service.prepare_for_account(
            uow.session, account, kind=values["kind"], start=values["from"], end=values["to"],
            domains=values["domains"].splitlines(), settings=settings, protector=protector, today=today,
            now=datetime.now(UTC), base_url=str(request.base_url), formats=(fmt,),
        )  # fmt: skip
        uow.write_in_thread(lambda: service.register(uow.session, issued, actor=service.account_label(account)))
        return issued

    return _download(await run_in_threadpool(work), fmt)


@router.get("/reports/verify", name="reports.verify.form")
def verify_form(request: Request, number: str | None = None) -> Response:
    if number:
        return redirect(request, f"/reports/verify/{re.sub(r'[^0-9A-Za-z]', '', number)[:40] or '-'}")
    return render(request, "portal/reports/verify.html", {"result": None, "number": ""})


@router.get("/reports/verify/{number}", name="reports.verify", dependencies=[Limited])
def verify_page(request: Request, number: str, uow: UoW, settings: AppSettings) -> Response:
    on_error_render(request, "portal/reports/verify.html", {"result": None, "number": number[:40]})
    result = service.verify_number(uow.session, number, settings=settings)
    return render(request, "portal/reports/verify.html", {"result": result, "number": result.number})


@router.get("/reports/certificate.pem", name="reports.certificate")
def certificate(settings: AppSettings) -> Response:
    return Response(signing.certificate_pem(settings), media_type="application/x-pem-file",
                    headers={"Content-Disposition": 'attachment; filename="report-signing-certificate.pem"'})  # fmt: skip
