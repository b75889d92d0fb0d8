"""Console pages for the measure list: read by every account, edited by platform administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.lists import service as lists_service
from xinyong.measures import rules, service
from xinyong.measures.models import MeasureEffect, MeasureKind
from xinyong.web import forms
from xinyong.web.deps import AppSettings, DbSession, read_form, require, writes_first
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

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
    return render(request, "admin/checks/measures.html", {"measures": service.visible_measures(session, actor),
                                                    **_options(session, settings)})  # fmt: skip


@router.post("/measures", name="admin.measures.create")
@writes_first
async def create(request: Request, session: DbSession, settings: AppSettings, actor: MeasuresWrite) -> Response:
    form = await read_form(request)  # the console form's bounds, as read before the write lock (deps.get_session)
    on_error_redirect(request, "/admin/measures")
    draft = _draft(dict(form), forms.texts(form, "list_types", limit=40))
    measure = await run_in_threadpool(lambda: service.create_measure(session, draft, actor=actor, settings=settings))
    return redirect(request, f"/admin/measures/{measure.code}", flash_message=f"已新增措施 {measure.code}")


@router.get("/measures/{code}", name="admin.measures.detail")
def detail(request: Request, session: DbSession, settings: AppSettings, actor: MeasuresRead, code: str) -> Response:
    versions = service.history(session, code[:32], actor=actor)
    return render(request, "admin/checks/measure.html", {"versions": versions, "current": versions[0],
                                                   **_options(session, settings)})  # fmt: skip


@router.post("/measures/{code}", name="admin.measures.revise")
@writes_first
async def revise(request: Request, session: DbSession, settings: AppSettings, actor: MeasuresWrite,
                 code: str) -> Response:  # fmt: skip
    form = await read_form(request)  # the console form's bounds, as read before the write lock (deps.get_session)
    on_error_redirect(request, f"/admin/measures/{code[:32]}")
    draft = _draft(dict(form), forms.texts(form, "list_types", limit=40))
    measure = await run_in_threadpool(lambda: service.revise_measure(session, code[:32], draft, actor=actor,
                                                                     settings=settings))  # fmt: skip
    return redirect(request, f"/admin/measures/{measure.code}", flash_message=f"已保存为第 {measure.version} 版")


@router.post("/measures/{code}/retire", name="admin.measures.retire")
def retire(request: Request, session: DbSession, actor: MeasuresWrite, code: str, reason: Long = "") -> Response:
    on_error_redirect(request, f"/admin/measures/{code[:32]}")
    service.retire_measure(session, code[:32], reason=reason, actor=actor)
    return redirect(request, "/admin/measures", flash_message=f"已停用措施 {code[:32]}")
