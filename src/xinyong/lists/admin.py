"""Console pages for credit lists: entries and their procedure, list types, imports of external lists."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.admin import service as admin_service
from xinyong.departments import service as departments_service
from xinyong.errors import InvalidInput
from xinyong.files import safe_filename
from xinyong.lists import imports, rules, service
from xinyong.lists.models import EntryState, ListOrigin, ListType
from xinyong.web import forms
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, Today, UoW, parse_id, require
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

ListsRead = Annotated[Actor, require(Permission.LISTS_READ)]
ListsWrite = Annotated[Actor, require(Permission.LISTS_WRITE)]
ListsDecide = Annotated[Actor, require(Permission.LISTS_DECIDE)]
Text = Annotated[str, Form(max_length=2000)]


@router.get("/lists", name="admin.lists.index")
def index(request: Request, session: DbSession, actor: ListsRead, state: str = "", type: str = "") -> Response:
    entries = service.find_entries(session, actor, state=state[:16] or None, type_key=type[:40] or None)
    return render(request, "admin/lists/index.html", {
        "entries": entries, "types": service.list_types(session), "states": list(EntryState), "state": state,
        "type_key": type,
        "departments": [] if actor.is_department_bound else departments_service.list_departments(session, actor),
    })  # fmt: skip


@router.get("/lists/types", name="admin.lists.types")
def types_page(request: Request, session: DbSession, actor: ListsRead) -> Response:
    return render(request, "admin/lists/types.html", {"types": service.visible_types(session, actor), "department_names": {
        d.code: d.name for d in departments_service.list_departments(session)}})  # fmt: skip


@router.post("/lists", name="admin.lists.propose")
def propose(
    request: Request, session: DbSession, actor: ListsWrite, protector: AppProtector, today: Today,
    type_key: Annotated[str, Form(max_length=40)] = "", subject_code: Annotated[str, Form(max_length=60)] = "",
    reasons: Text = "", basis: Text = "", department: Annotated[str, Form(max_length=12)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/lists")
    dept = admin_service.acting_department(session, actor, parse_id(department))
    entry = service.propose(session, type_key=type_key, subject_code=subject_code, reasons=reasons, basis=basis,
                            department=dept, actor=actor, protector=protector, today=today)  # fmt: skip
    return redirect(request, f"/admin/lists/{entry.id}", flash_message="已提出列入建议，请向当事人告知")


@router.get("/lists/{entry_id}", name="admin.lists.detail")
def detail(request: Request, session: DbSession, actor: ListsRead, entry_id: Id) -> Response:
    entry = service.get_entry(session, entry_id, actor=actor)
    return render(request, "admin/lists/detail.html", {
        "entry": entry, "list_type": session.get(ListType, entry.list_type_id),
        "events": service.events_of(session, entry.id), "actions": [a.value for a in rules.allowed_actions(entry.state)],
        "action_labels": rules.ACTION_LABELS,
    })  # fmt: skip


def _step(request: Request, entry_id: Id, run, done: str) -> Response:  # type: ignore[no-untyped-def]
    """Run one procedure step; an illegal move comes back as the reason, nothing changed."""
    on_error_redirect(request, f"/admin/lists/{entry_id}")
    run()
    return redirect(request, f"/admin/lists/{entry_id}", flash_message=done)


@router.post("/lists/{entry_id}/notify", name="admin.lists.notify")
def notify(request: Request, session: DbSession, actor: ListsWrite, settings: AppSettings, today: Today,
           entry_id: Id, rights: Text = "") -> Response:  # fmt: skip
    return _step(request, entry_id, lambda: service.notify(
        session, entry_id, rights=rights, actor=actor, settings=settings, today=today), "已告知，异议期开始计算")  # fmt: skip


@router.post("/lists/{entry_id}/objection", name="admin.lists.objection")
def objection(request: Request, session: DbSession, actor: ListsWrite, today: Today, entry_id: Id,
              text: Text = "") -> Response:  # fmt: skip
    return _step(request, entry_id, lambda: service.record_objection(
        session, entry_id, text=text, actor=actor, today=today), "已登记异议，请在决定中答复")  # fmt: skip


@router.post("/lists/{entry_id}/decide", name="admin.lists.decide")
def decide(request: Request, session: DbSession, actor: ListsDecide, settings: AppSettings, today: Today,
           entry_id: Id, decision_no: Annotated[str, Form(max_length=128)] = "", answer: Text = "") -> Response:  # fmt: skip
    return _step(request, entry_id, lambda: service.decide(
        session, entry_id, decision_no=decision_no, answer=answer, actor=actor, settings=settings, today=today),
        "已决定列入，请在期限内公示")  # fmt: skip


@router.post("/lists/{entry_id}/withdraw", name="admin.lists.withdraw")
def withdraw(request: Request, session: DbSession, actor: ListsDecide, today: Today, entry_id: Id,
             reason: Text = "") -> Response:  # fmt: skip
    return _step(request, entry_id, lambda: service.withdraw(
        session, entry_id, reason=reason, actor=actor, today=today), "已决定不予列入")  # fmt: skip


@router.post("/lists/{entry_id}/publish", name="admin.lists.publish")
def publish(request: Request, session: DbSession, actor: ListsWrite, today: Today, entry_id: Id) -> Response:
    return _step(request, entry_id, lambda: service.publish(session, entry_id, actor=actor, today=today),
                 "已公示")  # fmt: skip


@router.post("/lists/{entry_id}/remove", name="admin.lists.remove")
def remove(request: Request, session: DbSession, actor: ListsDecide, today: Today, entry_id: Id,
           reason: Text = "") -> Response:  # fmt: skip
    return _step(request, entry_id, lambda: service.remove(
        session, entry_id, reason=reason, actor=actor, today=today), "已移出名单")  # fmt: skip


# ------------------------------------------------------------------------------------------ imports


@router.get("/list-imports", name="admin.lists.imports")
def imports_page(request: Request, session: DbSession, actor: ListsRead) -> Response:
    return render(request, "admin/lists/imports.html", {
        "imports": imports.recent_imports(session, actor), "types": service.list_types(session, origin=ListOrigin.IMPORTED),
        "departments": [] if actor.is_department_bound else departments_service.list_departments(session, actor),
        "type_names": {t.id: t.name for t in service.list_types(session)},
    })  # fmt: skip


@router.post("/list-imports", name="admin.lists.import")
async def import_upload(request: Request, uow: UoW, actor: ListsWrite, settings: AppSettings,
                        protector: AppProtector, today: Today) -> Response:  # fmt: skip
    session = uow.session
    on_error_redirect(request, "/admin/list-imports")
    form = await request.form(max_files=1, max_fields=10)
    upload, type_key = forms.upload(form, "file"), forms.text(form, "type_key", 40)
    if upload is None:
        raise InvalidInput(reason="请选择要上传的名单文件")
    data = await upload.read(settings.upload_max_bytes + 1)

    def work() -> imports.ImportOutcome:
        dept = admin_service.acting_department(session, actor, parse_id(forms.text(form, "department", 20)))
        workdir = Path(tempfile.mkdtemp(prefix="xinyong-list-"))
        try:
            path = workdir / "upload"  # never the client's name
            path.write_bytes(data)
            return imports.import_list_file(session, path, type_key=type_key, department=dept, actor=actor,
                                            settings=settings, protector=protector, today=today,
                                            filename=safe_filename(upload.filename))  # fmt: skip
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    # One transaction (lists are small), begun as a writer's in a worker thread: beside a running records import
    # it waits for the chunk in progress instead of failing when one commits between its reads and its writes.
    outcome = await uow.run_as_writer(work)
    flash = (f"文件未能导入：{outcome.failure}" if outcome.failure else
             f"已导入 {outcome.rows} 行：新增 {outcome.created}，更新 {outcome.updated}，未变 {outcome.unchanged}，退回 {outcome.rejected}")  # fmt: skip
    return redirect(request, f"/admin/list-imports/{outcome.import_id}", flash_message=flash,
                    kind="error" if outcome.failure else "success")  # fmt: skip


@router.get("/list-imports/{import_id}", name="admin.lists.import_detail")
def import_detail(request: Request, session: DbSession, actor: ListsRead, import_id: Id) -> Response:
    record = imports.get_import(session, import_id, actor=actor)
    return render(request, "admin/lists/import.html", {"record": record, "problems": imports.problems_of(session, record.id)[:200],
                                                 "list_type": session.get(ListType, record.list_type_id)})  # fmt: skip


@router.get("/list-imports/{import_id}/problems.csv", name="admin.lists.import_problems")
def import_problems(session: DbSession, actor: ListsRead, import_id: Id) -> Response:
    record = imports.get_import(session, import_id, actor=actor)
    return Response(imports.problems_csv(session, record.id), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="list-import-{record.id}-problems.csv"'})  # fmt: skip
