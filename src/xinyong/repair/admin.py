"""Console pages of credit repair: the queue with deadlines, an application, the decisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import FileResponse, Response

from xinyong.actors import Actor, Permission
from xinyong.clock import today as china_today
from xinyong.departments.models import Department
from xinyong.errors import DomainError, NotFound, PermissionDenied
from xinyong.evidence import service as evidence
from xinyong.records.models import Record
from xinyong.repair import rules
from xinyong.repair import service as repair_service
from xinyong.repair.models import RepairStatus
from xinyong.subjects.models import Subject
from xinyong.web.deps import AppSettings, DbSession, Id, require
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin/repairs", include_in_schema=False)

RepairsRead = Annotated[Actor, require(Permission.REPAIRS_READ)]
RepairsAccept = Annotated[Actor, require(Permission.REPAIRS_ACCEPT)]  # the platform's step
RepairsDecide = Annotated[Actor, require(Permission.REPAIRS_DECIDE)]  # the owning department's step
CommitmentsDecide = Annotated[Actor, require(Permission.COMMITMENTS_DECIDE)]
Text = Annotated[str, Form(max_length=2000)]


@router.get("", name="admin.repairs.list")
def queue(request: Request, session: DbSession, actor: RepairsRead, status: str = "", overdue: str = "") -> Response:
    today = china_today()
    items = repair_service.queue(session, actor, status=status or None, overdue_only=overdue == "1", today=today)
    departments = {d.id: d.name for d in session.query(Department).all()}
    return render(request, "admin/repair/queue.html", {
        "items": items, "today": today, "status": status, "overdue": overdue == "1", "departments": departments,
        "overdue_of": lambda a: repair_service.overdue_kind(a, today), "statuses": list(RepairStatus),
        "overdue_counts": repair_service.overdue_by_department(session, actor, today=today),
    })  # fmt: skip


@router.get("/{application_id}", name="admin.repairs.detail")
def detail(request: Request, session: DbSession, actor: RepairsRead, application_id: Id) -> Response:
    application = repair_service.get_for_staff(session, actor, application_id)
    record = session.get(Record, application.record_id) if application.record_id else None
    entry = repair_service.entry_of(session, application)
    return render(request, "admin/repair/detail.html", {
        "a": application, "record": record, "entry": entry,
        "list_type": repair_service.list_type_of(session, entry) if entry else None, "subject": session.get(Subject, application.subject_id),
        "department": session.get(Department, application.department_id),
        "events": repair_service.events(session, application), "labels": rules.ACTION_LABELS,
        "status_labels": {s.value: s.label for s in RepairStatus},
        "evidence": evidence.list_for(session, f"repair:{application.id}"),
        "commitment": repair_service.commitment_of(session, application),
        "allowed": rules.allowed_actions(application.status), "overdue": repair_service.overdue_kind(
            application, china_today()),
    })  # fmt: skip


@router.get("/{application_id}/evidence/{evidence_id}", name="admin.repairs.evidence")
def evidence_file(session: DbSession, settings: AppSettings, actor: RepairsRead, application_id: Id, evidence_id: Id
             ) -> Response:  # fmt: skip
    application = repair_service.get_for_staff(session, actor, application_id)
    row = evidence.get_for(session, f"repair:{application.id}", evidence_id)
    path = evidence.path_of(settings, row)
    if not path.is_file():
        raise NotFound(what="该材料文件")
    return FileResponse(path, media_type=row.media_type, filename=f"evidence-{row.id}{path.suffix}",
                        content_disposition_type="attachment")  # fmt: skip


def _act(request: Request, application_id: Id, step: Callable[[], Any],
         done: str | Callable[[Any], str]) -> Response:  # fmt: skip
    """One step of the workflow from a console form: run it, then redirect with what happened or why not."""
    try:
        result = step()
    except PermissionDenied:
        raise  # not this person's step (another body's, or the other step of one they took): the 403 page
    except DomainError:
        on_error_redirect(request, f"/admin/repairs/{application_id}")  # the input or the state: back, with why
        raise
    return redirect(request, f"/admin/repairs/{application_id}", flash_message=done(result) if callable(done) else done)


@router.post("/{application_id}/accept", name="admin.repairs.accept")
def accept(request: Request, session: DbSession, settings: AppSettings, actor: RepairsAccept, application_id: Id
           ) -> Response:  # fmt: skip
    return _act(request, application_id, lambda: repair_service.accept_application(
        session, application_id, actor=actor, settings=settings, today=china_today()), "已受理，转部门审核")  # fmt: skip


@router.post("/{application_id}/return", name="admin.repairs.return")
def return_(request: Request, session: DbSession, actor: RepairsAccept, application_id: Id, missing: Text = ""
            ) -> Response:  # fmt: skip
    return _act(request, application_id, lambda: repair_service.return_application(
        session, application_id, actor=actor, missing=missing, today=china_today()), "已退回补正")  # fmt: skip


@router.post("/{application_id}/approve", name="admin.repairs.approve")
def approve(request: Request, session: DbSession, actor: RepairsDecide, application_id: Id, opinion: Text = ""
            ) -> Response:  # fmt: skip
    def done(application: Any) -> str:
        effect = "该名单记录已移出" if application.list_entry_id is not None else "该记录已停止公示"
        return f"已同意修复，{effect}"

    return _act(request, application_id, lambda: repair_service.approve_application(
        session, application_id, actor=actor, opinion=opinion, today=china_today()), done)  # fmt: skip


@router.post("/{application_id}/refuse", name="admin.repairs.refuse")
def refuse(request: Request, session: DbSession, actor: RepairsRead, application_id: Id, reason: Text = "",
           next_steps: Text = "") -> Response:  # fmt: skip
    # Either step's refusal (不予受理 by the platform, 不予修复 by the department): the service knows which by the state.
    return _act(request, application_id, lambda: repair_service.refuse_application(
        session, application_id, actor=actor, reason=reason, next_steps=next_steps, today=china_today()),
        "已作出不予修复决定")  # fmt: skip


@router.post("/{application_id}/restore", name="admin.repairs.restore")
def restore(request: Request, session: DbSession, settings: AppSettings, actor: CommitmentsDecide, application_id: Id,
            reason: Text = "") -> Response:  # fmt: skip
    return _act(request, application_id, lambda: repair_service.restore_publication(
        session, application_id, actor=actor, reason=reason, today=china_today(), settings=settings),
        "已认定违反承诺，恢复公示")  # fmt: skip
