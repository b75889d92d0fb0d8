"""Console pages for credit checks: the check form, the printable result, feedback, batch and counts."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.checks import files, service
from xinyong.errors import InvalidInput
from xinyong.exports import write_csv
from xinyong.web import forms
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Today, UoW, require
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

ChecksRead = Annotated[Actor, require(Permission.CHECKS_READ)]
ChecksWrite = Annotated[Actor, require(Permission.CHECKS_WRITE)]


@router.get("/checks", name="admin.checks.index")
def index(request: Request, session: DbSession, settings: AppSettings, actor: ChecksRead) -> Response:
    return render(request, "admin/checks/index.html", {"matters": settings.check_matters,
                                                 "checks": service.recent_checks(session, actor)})  # fmt: skip


@router.post("/checks", name="admin.checks.create")
def create(
    request: Request, uow: UoW, settings: AppSettings, protector: AppProtector, actor: ChecksWrite,
    today: Today, matter: Annotated[str, Form(max_length=40)] = "", code: Annotated[str, Form(max_length=60)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/checks")
    session = uow.session
    documents, rows = service.prepare_checks(session, [service.CheckItem(code=code or None, name=name or None)],
                                             matter=matter, actor=actor, settings=settings, protector=protector,
                                             today=today, detail=True)  # fmt: skip
    uow.write_in_thread(lambda: service.store_checks(session, rows))
    return redirect(request, f"/admin/checks/{documents[0]['number']}")


@router.get("/checks/stats", name="admin.checks.stats")
def stats(request: Request, session: DbSession, actor: ChecksRead) -> Response:
    return render(request, "admin/checks/stats.html", {"rows": service.statistics(session, actor)})


@router.post("/checks/batch", name="admin.checks.batch")
async def batch(request: Request, uow: UoW, settings: AppSettings, protector: AppProtector,
                actor: ChecksWrite, today: Today) -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/checks")
    form = await request.form(max_files=1, max_fields=10)
    upload, matter = forms.upload(form, "file"), forms.text(form, "matter", 40)
    if upload is None:
        raise InvalidInput(reason="请选择要核查的主体名单文件")
    data = await upload.read(settings.upload_max_bytes + 1)

    def work() -> Response:  # thousands of subjects: off the event loop
        items, problems = files.read_items(data, filename=upload.filename, settings=settings)
        if not items:
            raise InvalidInput(reason=problems[0].message if problems else "文件中没有要核查的主体")
        batch_no, documents, rows = service.prepare_batch(uow.session, items, matter=matter, actor=actor,
                                                          settings=settings, protector=protector, today=today)  # fmt: skip
        uow.write_in_thread(lambda: service.store_checks(uow.session, rows))
        buffer = io.StringIO()
        buffer.write("\ufeff")  # Excel needs the BOM to read UTF-8
        write_csv(buffer, service.BATCH_COLUMNS, (service.batch_row(i, d) for i, d in enumerate(documents, start=1)))
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{batch_no}.csv"'})  # fmt: skip

    return await run_in_threadpool(work)


def _context(session: DbSession, actor: Actor, number: str) -> dict[str, object]:
    check = service.get_check(session, number, actor=actor)
    return {"check": check, "doc": check.result, "feedback": service.feedback_of(session, check.id)}


@router.get("/checks/{number}", name="admin.checks.detail")
def detail(request: Request, session: DbSession, actor: ChecksRead, number: str) -> Response:
    return render(request, "admin/checks/detail.html", _context(session, actor, number))


@router.get("/checks/{number}/print", name="admin.checks.print")
def printable(request: Request, session: DbSession, actor: ChecksRead, number: str) -> Response:
    return render(request, "admin/checks/print.html", _context(session, actor, number))


@router.post("/checks/{number}/feedback", name="admin.checks.feedback")
def feedback(
    request: Request, session: DbSession, actor: ChecksWrite, number: str,
    measure_code: Annotated[str, Form(max_length=32)] = "", applied: Annotated[str, Form(max_length=3)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    target = f"/admin/checks/{number[:24]}"
    on_error_redirect(request, target)
    service.record_feedback(session, number, measure_code=measure_code or None, is_applied=applied == "1",
                            note=note, actor=actor)  # fmt: skip
    return redirect(request, target, flash_message="已登记奖惩结果反馈")
