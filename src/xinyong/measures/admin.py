"""Console pages for the measure list: read by every account, edited by platform administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from xinyong.admin.web import redirect, render
from xinyong.auth.rules import Actor, Permission
from xinyong.errors import DomainError
from xinyong.lists import service as lists_service
from xinyong.measures import rules, service
from xinyong.measures.models import MeasureEffect, MeasureKind
from xinyong.web.deps import AppSettings, DbSession, require

router = APIRouter(prefix="/admin")

MeasuresRead = Annotated[Actor, require(Permission.LISTS_READ)]
MeasuresWrite = Annotated[Actor, require(Permission.MEASURES_WRITE)]
Short = Annotated[str, Form(max_length=40)]
Long = Annotated[str, Form(max_length=2000)]


def _draft(request_form: dict[str, object], list_types: list[str]) -> rules.MeasureDraft:
    text = {k: str(v or "") for k, v in request_form.items()}
    return rules.MeasureDraft(matter=text.get("matter", ""), content=text.get("content", ""),
                              list_types=tuple(list_types), basis=text.get("basis", ""), level=text.get("level", ""),
                              kind=text.get("kind", ""), effect=text.get("effect", ""),
                              frequency=text.get("frequency") or None)  # fmt: skip


def _options(session: DbSession, settings: AppSettings) -> dict[str, object]:
    return {"matters": settings.check_matters, "levels": rules.LEVELS, "kinds": list(MeasureKind),
            "effects": list(MeasureEffect), "types": lists_service.list_types(session)}  # fmt: skip


@router.get("/measures", name="admin.measures.index")
def index(request: Request, session: DbSession, settings: AppSettings, actor: MeasuresRead) -> Response:
    return render(request, "checks/measures.html", {"measures": service.current_measures(session),
                                                    **_options(session, settings)})  # fmt: skip


@router.post("/measures", name="admin.measures.create")
async def create(request: Request, session: DbSession, settings: AppSettings, actor: MeasuresWrite) -> Response:
    form = await request.form(max_fields=40)
    try:
        measure = service.create_measure(session, _draft(dict(form), [str(v) for v in form.getlist("list_types")]),
                                         actor=actor, settings=settings)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        return redirect(request, "/admin/measures", flash=exc.message, kind="error")
    session.commit()
    return redirect(request, f"/admin/measures/{measure.code}", flash=f"已新增措施 {measure.code}")


@router.get("/measures/{code}", name="admin.measures.detail")
def detail(request: Request, session: DbSession, settings: AppSettings, actor: MeasuresRead, code: str) -> Response:
    versions = service.history(session, code[:32])
    return render(request, "checks/measure.html", {"versions": versions, "current": versions[0],
                                                   **_options(session, settings)})  # fmt: skip


@router.post("/measures/{code}", name="admin.measures.revise")
async def revise(request: Request, session: DbSession, settings: AppSettings, actor: MeasuresWrite,
                 code: str) -> Response:  # fmt: skip
    form = await request.form(max_fields=40)
    try:
        measure = service.revise_measure(session, code[:32], _draft(dict(form), [str(v) for v in form.getlist("list_types")]),
                                         actor=actor, settings=settings)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        return redirect(request, f"/admin/measures/{code[:32]}", flash=exc.message, kind="error")
    session.commit()
    return redirect(request, f"/admin/measures/{measure.code}", flash=f"已保存为第 {measure.version} 版")


@router.post("/measures/{code}/retire", name="admin.measures.retire")
def retire(request: Request, session: DbSession, actor: MeasuresWrite, code: str, reason: Long = "") -> Response:
    try:
        service.retire_measure(session, code[:32], reason=reason, actor=actor)
    except DomainError as exc:
        session.rollback()
        return redirect(request, f"/admin/measures/{code[:32]}", flash=exc.message, kind="error")
    session.commit()
    return redirect(request, "/admin/measures", flash=f"已停用措施 {code[:32]}")
