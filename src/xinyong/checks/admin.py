"""Console pages for credit checks: the check form, the printable result, feedback, batch and counts."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from xinyong.admin.web import redirect, render
from xinyong.auth.rules import Actor, Permission
from xinyong.checks import files, service
from xinyong.errors import DomainError, InvalidInput
from xinyong.exports import write_csv
from xinyong.portal.web import Today
from xinyong.web.deps import AppProtector, AppSettings, DbSession, require

router = APIRouter(prefix="/admin")

ChecksRead = Annotated[Actor, require(Permission.CHECKS_READ)]
ChecksWrite = Annotated[Actor, require(Permission.CHECKS_WRITE)]


@router.get("/checks", name="admin.checks.index")
def index(request: Request, session: DbSession, settings: AppSettings, actor: ChecksRead) -> Response:
    return render(request, "checks/index.html", {"matters": settings.check_matters,
                                                 "checks": service.recent_checks(session, actor)})  # fmt: skip


@router.post("/checks", name="admin.checks.create")
def create(
    request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, actor: ChecksWrite,
    today: Today, matter: Annotated[str, Form(max_length=40)] = "", code: Annotated[str, Form(max_length=60)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    try:
        documents, rows = service.prepare_checks(session, [service.CheckItem(code=code or None, name=name or None)],
                                                 matter=matter, actor=actor, settings=settings, protector=protector,
                                                 today=today, detail=True)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        return redirect(request, "/admin/checks", flash=exc.message, kind="error")
    store_checks(session, rows)
    doc = documents[0]
    return redirect(request, f"/admin/checks/{doc['number']}")


@router.get("/checks/stats", name="admin.checks.stats")
def stats(request: Request, session: DbSession, actor: ChecksRead) -> Response:
    return render(request, "checks/stats.html", {"rows": service.statistics(session, actor)})


@router.post("/checks/batch", name="admin.checks.batch")
async def batch(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
                actor: ChecksWrite, today: Today) -> Response:  # fmt: skip
    form = await request.form(max_files=1, max_fields=10)
    upload, matter = form.get("file"), str(form.get("matter") or "")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput(reason="请选择要核查的主体名单文件")
        items, problems = files.read_items(await upload.read(settings.upload_max_bytes + 1), filename=upload.filename,
                                           settings=settings)  # fmt: skip
        if not items:
            raise InvalidInput(reason=problems[0].message if problems else "文件中没有要核查的主体")
        batch_no, documents, rows = service.prepare_batch(session, items, matter=matter, actor=actor,
                                                          settings=settings, protector=protector, today=today)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        return redirect(request, "/admin/checks", flash=exc.message, kind="error")
    store_checks(session, rows)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel needs the BOM to read UTF-8
    write_csv(buffer, service.BATCH_COLUMNS, (service.batch_row(i, d) for i, d in enumerate(documents, start=1)))
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{batch_no}.csv"'})  # fmt: skip


def store_checks(session: DbSession, rows: list[dict[str, object]]) -> None:
    """Record the checks in a transaction of their own (see checks.api._store: SQLite cannot turn a reader
    into a writer once another writer has committed)."""
    session.commit()  # nothing written yet: this only ends the read snapshot
    service.store_checks(session, rows)
    session.commit()


def _context(session: DbSession, actor: Actor, number: str) -> dict[str, object]:
    check = service.get_check(session, number, actor=actor)
    return {"check": check, "doc": check.result, "feedback": service.feedback_of(session, check.id)}


@router.get("/checks/{number}", name="admin.checks.detail")
def detail(request: Request, session: DbSession, actor: ChecksRead, number: str) -> Response:
    return render(request, "checks/detail.html", _context(session, actor, number))


@router.get("/checks/{number}/print", name="admin.checks.print")
def printable(request: Request, session: DbSession, actor: ChecksRead, number: str) -> Response:
    return render(request, "checks/print.html", _context(session, actor, number))


@router.post("/checks/{number}/feedback", name="admin.checks.feedback")
def feedback(
    request: Request, session: DbSession, actor: ChecksWrite, number: str,
    measure_code: Annotated[str, Form(max_length=32)] = "", applied: Annotated[str, Form(max_length=3)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    target = f"/admin/checks/{number[:24]}"
    try:
        service.record_feedback(session, number, measure_code=measure_code or None, is_applied=applied == "1",
                                note=note, actor=actor)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        return redirect(request, target, flash=exc.message, kind="error")
    session.commit()
    return redirect(request, target, flash="已登记奖惩结果反馈")
