"""Console pages of objections: the queue with deadlines, one objection, the decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import FileResponse, Response

from xinyong.actors import Actor, Permission
from xinyong.clock import today as china_today
from xinyong.departments.models import Department
from xinyong.errors import NotFound
from xinyong.evidence import service as evidence
from xinyong.objections import service as objections_service
from xinyong.objections.models import GROUNDS, ObjectionStatus
from xinyong.records.models import Record
from xinyong.subjects.models import Subject
from xinyong.web.deps import AppSettings, DbSession, Id, require
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin/objections", include_in_schema=False)

ObjectionsRead = Annotated[Actor, require(Permission.OBJECTIONS_READ)]
ObjectionsDecide = Annotated[Actor, require(Permission.OBJECTIONS_DECIDE)]


@router.get("", name="admin.objections.list")
def queue(request: Request, session: DbSession, actor: ObjectionsRead, status: str = "") -> Response:
    today = china_today()
    return render(request, "admin/objections/queue.html", {
        "items": objections_service.queue(session, actor, status=status or None, today=today), "today": today,
        "status": status, "grounds": GROUNDS, "statuses": list(ObjectionStatus),
        "departments": {d.id: d.name for d in session.query(Department).all()},
    })  # fmt: skip


@router.get("/{objection_id}", name="admin.objections.detail")
def detail(request: Request, session: DbSession, actor: ObjectionsRead, objection_id: Id) -> Response:
    objection = objections_service.get_for_staff(session, actor, objection_id)
    return render(request, "admin/objections/detail.html", {
        "o": objection, "record": session.get(Record, objection.record_id), "today": china_today(),
        "subject": session.get(Subject, objection.subject_id), "grounds": GROUNDS,
        "department": session.get(Department, objection.department_id),
        "evidence": evidence.list_for(session, f"objection:{objection.id}"),
        "changes": objections_service.corrections(session, objection),
    })  # fmt: skip


@router.get("/{objection_id}/evidence/{evidence_id}", name="admin.objections.evidence")
def evidence_file(session: DbSession, settings: AppSettings, actor: ObjectionsRead, objection_id: Id, evidence_id: Id
             ) -> Response:  # fmt: skip
    objection = objections_service.get_for_staff(session, actor, objection_id)
    row = evidence.get_for(session, f"objection:{objection.id}", evidence_id)
    path = evidence.path_of(settings, row)
    if not path.is_file():
        raise NotFound(what="该材料文件")
    return FileResponse(path, media_type=row.media_type, filename=f"evidence-{row.id}{path.suffix}",
                        content_disposition_type="attachment")  # fmt: skip


@router.post("/{objection_id}/decide", name="admin.objections.decide")
def decide(
    request: Request, session: DbSession, actor: ObjectionsDecide, objection_id: Id,
    outcome: Annotated[str, Form(max_length=20)] = "", reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, f"/admin/objections/{objection_id}")
    objection = objections_service.decide_objection(session, objection_id, actor=actor, outcome=outcome,
                                                    reason=reason, today=china_today())  # fmt: skip
    return redirect(request, f"/admin/objections/{objection_id}", flash_message=f"异议已办结：{objection.status.label}")
