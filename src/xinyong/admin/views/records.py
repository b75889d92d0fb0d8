"""Dashboard, batches, uploads, records and subjects: a department's daily work."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.admin import service
from xinyong.catalog import load_catalog
from xinyong.codes import mask_id_numbers, mask_if_id_like
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import InvalidInput
from xinyong.files import safe_filename
from xinyong.records import report
from xinyong.records import service as records_service
from xinyong.records.models import BatchSource
from xinyong.web.cookies import safe_next
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, IdQuery, parse_id, require
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin")

Dashboard = Annotated[Actor, require(Permission.DASHBOARD_READ)]
BatchesRead = Annotated[Actor, require(Permission.BATCHES_READ)]
RecordsRead = Annotated[Actor, require(Permission.RECORDS_READ)]
RecordsWrite = Annotated[Actor, require(Permission.RECORDS_WRITE)]
SubjectsRead = Annotated[Actor, require(Permission.SUBJECTS_READ)]
SubjectsReveal = Annotated[Actor, require(Permission.SUBJECTS_REVEAL)]


def _departments_for(session: DbSession, actor: Actor) -> list[Department]:
    """The departments a filter or a form offers: none for a department's account, those of its region for a
    county's."""
    return [] if actor.is_department_bound else departments_service.list_departments(session, actor)


@router.get("", name="admin.dashboard")
def dashboard(request: Request, session: DbSession, actor: Dashboard, department: IdQuery = None) -> Response:
    board = service.dashboard(session, actor, department_id=department)
    return render(request, "admin/dashboard.html", {"board": board, "departments": _departments_for(session, actor)})


@router.get("/batches", name="admin.batches.list")
def batches(request: Request, session: DbSession, actor: BatchesRead, department: IdQuery = None) -> Response:
    items = service.list_batches(session, actor, department_id=department)  # marks stale runs
    return render(request, "admin/batches.html", {"batches": items, "departments": _departments_for(session, actor),
                                            "selected": department})  # fmt: skip


@router.get("/batches/{batch_id}", name="admin.batches.detail")
def batch_detail(request: Request, session: DbSession, actor: BatchesRead, batch_id: Id,
                 page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:  # fmt: skip
    batch = service.get_batch(session, actor, batch_id)
    problems = report.problem_page(session, batch, page)
    return render(request, "admin/batch.html", {"batch": batch, "problems": problems,
                                          "titles": report.column_titles(batch.record_type),
                                          "department": session.get(Department, batch.department_id)})  # fmt: skip


@router.get("/batches/{batch_id}/problems.csv", name="admin.batches.problems_csv")
def batch_problems_csv(session: DbSession, actor: BatchesRead, batch_id: Id) -> Response:
    batch = service.get_batch(session, actor, batch_id)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel needs the BOM to read UTF-8
    report.write_problems_csv(session, batch.id, buffer)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="batch-{batch.id}-problems.csv"'})  # fmt: skip


# ------------------------------------------------------------------------------------------- upload


@router.get("/upload", name="admin.upload.form")
def upload_form(request: Request, session: DbSession, settings: AppSettings, actor: RecordsWrite) -> Response:
    return render(request, "admin/upload.html", {
        "record_types": load_catalog(settings.catalog_dirs).types.values(),
        "departments": _departments_for(session, actor), "max_mb": settings.upload_max_bytes // (1024 * 1024),
    })  # fmt: skip


@router.post("/upload", name="admin.upload.submit")
async def upload_submit(
    request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, actor: RecordsWrite
) -> Response:
    # The form was parsed by the CSRF check, after the request guard checked its size.
    on_error_redirect(request, "/admin/upload")
    form = await request.form(max_files=2, max_fields=50)
    upload = form.get("file")
    record_type = str(form.get("record_type") or "")
    department_text = str(form.get("department") or "")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput(reason="请选择要上传的文件")
    rtype = load_catalog(settings.catalog_dirs).get(record_type)
    department = service.acting_department(session, actor, parse_id(department_text))
    reported_on = records_service.parse_reported_on(str(form.get("reported_on") or ""))
    display_name = safe_filename(upload.filename)
    head = await upload.read(8192)
    suffix = service.check_upload(display_name, head)
    workdir = Path(tempfile.mkdtemp(prefix="xinyong-upload-"))
    try:
        path = workdir / f"upload{suffix}"  # never the client's name: no path can be smuggled in
        size = len(head)
        with path.open("wb") as out:
            out.write(head)
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > settings.upload_max_bytes:
                    raise InvalidInput(reason=f"文件超过 {settings.upload_max_bytes // (1024 * 1024)} MB 的上限")
                out.write(chunk)
        # Minutes of work for a large file: in a worker thread, never on the event loop. The import commits
        # chunk by chunk itself (a batch job with its own boundaries, see records.service).
        result = await run_in_threadpool(
            records_service.import_file, session, path, settings=settings, protector=protector,
            record_type=rtype.key, department=department, actor=actor, source=BatchSource.UPLOAD,
            filename=display_name, reported_on=reported_on, backdate_reason=str(form.get("backdate_reason") or "")[:450],
        )  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if result.failure:
        outcome = f"导入未完成（已处理 {result.rows} 行）" if result.status == "incomplete" else "文件未能导入"
        return redirect(request, f"/admin/batches/{result.batch_id}", kind="error",
                        flash_message=f"{outcome}：{result.failure['message']}")  # fmt: skip
    return redirect(request, f"/admin/batches/{result.batch_id}",
                    flash_message=f"已导入 {result.rows} 行：新增 {result.created}，更新 {result.updated}，"
                                  f"未变 {result.unchanged}，退回 {result.rejected}")  # fmt: skip


# ------------------------------------------------------------------------------------------ records


@router.get("/records", name="admin.records.search")
def records_search(request: Request, session: DbSession, actor: RecordsRead, doc_no: str = "") -> Response:
    items = service.find_records(session, actor, doc_no=doc_no[:128] or None)
    shown = mask_id_numbers(doc_no)[:128]  # the page, and the revoke forms' way back, never echo an ID number
    return render(request, "admin/records.html", {"records": items, "doc_no": shown,
                                                  "back": f"/admin/records?{urlencode({'doc_no': shown})}"})  # fmt: skip


@router.post("/records/{record_id}/revoke", name="admin.records.revoke")
def record_revoke(
    request: Request, session: DbSession, actor: RecordsWrite, record_id: Id,
    reason: Annotated[str, Form(max_length=450)] = "", back: Annotated[str, Form(max_length=300)] = "",
) -> Response:  # fmt: skip
    target = safe_next(back) if back else "/admin/records"
    on_error_redirect(request, target)
    record = service.revoke_record(session, actor, record_id=record_id, reason=reason)
    return redirect(request, target, flash_message=f"已撤销记录 {record.doc_no}")


# ----------------------------------------------------------------------------------------- subjects


@router.get("/subjects", name="admin.subjects.search")
def subjects_search(
    request: Request, session: DbSession, protector: AppProtector, actor: SubjectsRead, q: str = ""
) -> Response:
    found = service.search_subjects(session, actor, q, protector)
    # An ID number searched for is not written back into the page.
    return render(request, "admin/subjects.html", {"subjects": found, "q": mask_if_id_like(mask_id_numbers(q)[:100])})


@router.get("/subjects/{subject_id}", name="admin.subjects.detail")
def subject_detail(request: Request, session: DbSession, actor: SubjectsRead, subject_id: Id) -> Response:
    subject = service.get_subject(session, actor, subject_id)
    records = service.find_records(session, actor, subject_id=subject.id) if actor.can(Permission.RECORDS_READ) else []
    return render(request, "admin/subject.html", {"subject": subject, "records": records})


@router.post("/subjects/{subject_id}/reveal", name="admin.subjects.reveal")
def subject_reveal(
    request: Request, session: DbSession, protector: AppProtector, actor: SubjectsReveal, subject_id: Id,
    reason: Annotated[str, Form(max_length=450)] = "",
) -> Response:  # fmt: skip
    """Shows the full ID number once, in this response (not stored in a redirect); the look-up is audited."""
    on_error_redirect(request, f"/admin/subjects/{subject_id}")
    subject, id_number = service.reveal_id_number(session, actor, subject_id=subject_id, reason=reason,
                                                  protector=protector)  # fmt: skip
    records = service.find_records(session, actor, subject_id=subject.id)
    return render(request, "admin/subject.html", {"subject": subject, "records": records, "revealed": id_number,
                                                  "reason": reason})  # fmt: skip
