"""Console pages of credit reports: the registry of issued reports, and a report asked inside a credit check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.reports import service
from xinyong.web import forms
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Today, UoW, require
from xinyong.web.errors import on_error_render
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)
ReportsRead = Annotated[Actor, require(Permission.REPORTS_READ)]
ChecksWrite = Annotated[Actor, require(Permission.CHECKS_WRITE)]
PAGE = "admin/reports/index.html"
EMPTY_FORM = {"code": "", "matter": "", "kind": "public", "from": "", "to": "", "domains": ""}


def _context(session: DbSession, settings: AppSettings, actor: Actor) -> dict[str, object]:
    return {"reports": service.issued_reports(session, actor), "matters": settings.check_matters,
            "form": EMPTY_FORM}  # fmt: skip


@router.get("/reports", name="admin.reports.index")
def index(request: Request, session: DbSession, settings: AppSettings, actor: ReportsRead) -> Response:
    return render(request, PAGE, _context(session, settings, actor))


@router.post("/reports", name="admin.reports.create")
async def create(request: Request, uow: UoW, settings: AppSettings, protector: AppProtector, today: Today,
                 actor: ChecksWrite) -> Response:  # fmt: skip
    form = await forms.read_form(request)
    values = {k: forms.text(form, k, 4000 if k == "domains" else 60) for k in EMPTY_FORM}

    def work() -> Response:
        session = uow.session
        on_error_render(request, PAGE, {**_context(session, settings, actor), "form": values})
        prepared = service.prepare_in_check(
            session, code=values["code"], matter=values["matter"], actor=actor, kind=values["kind"],
            start=values["from"], end=values["to"], domains=values["domains"].splitlines(), settings=settings,
            protector=protector, today=today, now=datetime.now(UTC), base_url=str(request.base_url),
            formats=("pdf",),
        )  # fmt: skip
        uow.write_in_thread(lambda: service.register_in_check(session, prepared, actor=actor))
        issued = prepared.issued
        assert issued.pdf is not None
        return Response(issued.pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{issued.filename("pdf")}"',
            "X-Report-Number": issued.number, "X-Check-Number": str(prepared.check["number"])})  # fmt: skip

    return await run_in_threadpool(work)
