"""Console pages for random inspections: plans (with the ratio asked and drawn per grade), the draw, publication,
results, and the inspector roster with its exclusions."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated

from fastapi import Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.admin import service as admin_service
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import InvalidInput, NotFound
from xinyong.evaluation import service as evaluation_service
from xinyong.inspections import roster, service
from xinyong.records.models import BatchSource
from xinyong.web import forms
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, Today, parse_id, require, writes_first
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

InspectionsRead = Annotated[Actor, require(Permission.INSPECTIONS_READ)]
InspectionsWrite = Annotated[Actor, require(Permission.INSPECTIONS_WRITE)]
InspectionsDecide = Annotated[Actor, require(Permission.INSPECTIONS_DECIDE)]


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(reason=f"请填写{what}（YYYY-MM-DD）") from None


def _grades(session: DbSession, settings: AppSettings) -> list[str]:
    run = evaluation_service.latest_run(session)
    if run is None:
        return []
    _, row = evaluation_service.get_run(session, run.id)
    return [g.symbol for g in evaluation_service.model_of(session, row, settings=settings).grades]


@router.get("/inspections", name="admin.inspections.index")
def index(request: Request, session: DbSession, settings: AppSettings, actor: InspectionsRead) -> Response:
    sectors = service.sectors(settings)
    return render(request, "admin/inspections/index.html", {
        "plans": service.list_plans(session, actor=actor), "grades": _grades(session, settings),
        "defaults": settings.inspections_default_ratios, "sectors": [s for s in sectors.values() if not s.special],
        "domains": [s for s in sectors.values() if s.special],
        "departments": [] if actor.is_department_bound else departments_service.list_departments(session, actor),
    })  # fmt: skip


def _acting(session: DbSession, actor: Actor, requested: str) -> Department:
    """The department a write is made for: the actor's own, or one of its region's (a county plans for its
    departments; another county's answers not found)."""
    department = admin_service.acting_department(session, actor, parse_id(requested))
    if not actor.can_reach(department.id):
        raise NotFound(what="该部门")
    return department


@router.post("/inspections", name="admin.inspections.create")
@writes_first
async def create(request: Request, session: DbSession, settings: AppSettings, actor: InspectionsWrite,
                 today: Today) -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/inspections")
    form = await forms.read_form(request)

    def work() -> str:
        grades = _grades(session, settings)
        draft = service.PlanDraft(
            matter=forms.text(form, "matter", 200),
            period_start=_date(forms.text(form, "period_start", 10), "抽查期间开始日期"),
            period_end=_date(forms.text(form, "period_end", 10), "抽查期间结束日期"),
            kinds=forms.texts(form, "kind", limit=24),
            regions=[r for r in forms.text(form, "regions", 200).replace("，", ",").split(",") if r.strip()],
            sector=forms.text(form, "sector", 40) or None, special_domains=forms.texts(form, "special", limit=40),
            ratios={g: forms.text(form, f"ratio_{g}", 12) for g in grades},
            inspectors=[b for b in forms.text(form, "inspectors", 2000).replace("，", ",").split(",") if b.strip()],
        )  # fmt: skip
        department = _acting(session, actor, forms.text(form, "department", 12))
        plan = service.create_plan(session, draft, department=department, actor=actor, settings=settings, today=today)
        session.flush()
        return f"/admin/inspections/{plan.id}"

    return redirect(request, await run_in_threadpool(work), flash_message="已制定抽查计划，请随机抽取检查对象")


@router.get("/inspections/{plan_id}", name="admin.inspections.detail")
def detail(request: Request, session: DbSession, settings: AppSettings, actor: InspectionsRead, plan_id: Id,
           page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:  # fmt: skip
    plan = service.get_plan(session, plan_id, actor=actor)
    view = service.plan_view(session, plan, settings=settings, with_inspectors=True, page=page)
    return render(request, "admin/inspections/detail.html", {
        "v": view, "plan": plan, "outcomes": service.outcomes(settings), "suggested_seed": secrets.randbelow(10**9),
        "is_own": actor.can_reach(plan.department_id),
    })  # fmt: skip


@router.post("/inspections/{plan_id}/draw", name="admin.inspections.draw")
def draw(request: Request, session: DbSession, settings: AppSettings, actor: InspectionsDecide, today: Today,
         plan_id: Id, seed: Annotated[str, Form(max_length=20)] = "") -> Response:  # fmt: skip
    on_error_redirect(request, f"/admin/inspections/{plan_id}")
    text = seed.strip()
    if not text.isdigit():
        raise InvalidInput(reason="随机种子应为非负整数")
    row = service.draw_plan(session, plan_id, seed=int(text), actor=actor, settings=settings, today=today)
    return redirect(request, f"/admin/inspections/{plan_id}",
                    flash_message=f"已抽取 {row.drawn} 户，种子、名录摘要和结果已记录")  # fmt: skip


@router.post("/inspections/{plan_id}/publish", name="admin.inspections.publish")
def publish(request: Request, session: DbSession, settings: AppSettings, actor: InspectionsDecide, today: Today,
            plan_id: Id) -> Response:  # fmt: skip
    on_error_redirect(request, f"/admin/inspections/{plan_id}")
    plan = service.publish_plan(session, plan_id, actor=actor, settings=settings, today=today)
    return redirect(request, f"/admin/inspections/{plan_id}", flash_message=f"已在门户网站公示，公示至 {plan.publish_until}")


@router.post("/inspections/{plan_id}/results", name="admin.inspections.result")
@writes_first
async def result(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
                 actor: InspectionsWrite, today: Today, plan_id: Id) -> Response:  # fmt: skip
    on_error_redirect(request, f"/admin/inspections/{plan_id}")
    form = await forms.read_form(request)

    def work() -> str:
        assignment_id = parse_id(forms.text(form, "assignment", 20))
        if assignment_id is None:
            raise InvalidInput(reason="请选择检查对象")
        department = _acting(session, actor, forms.text(form, "department", 12))
        done = service.record_result(session, assignment_id, department=department,
                                     outcome=forms.text(form, "outcome", 60), note=forms.text(form, "note", 2000),
                                     inspected_on=_date(forms.text(form, "inspected_on", 10), "检查日期"), actor=actor,
                                     settings=settings, protector=protector, today=today, source=BatchSource.UPLOAD)  # fmt: skip
        return f"已录入检查结果：{done.outcome}"

    return redirect(request, f"/admin/inspections/{plan_id}", flash_message=await run_in_threadpool(work))


@router.get("/inspectors", name="admin.inspectors")
def inspectors(request: Request, session: DbSession, actor: InspectionsRead) -> Response:
    department_id = actor.department_id if actor.is_department_bound else None
    return render(request, "admin/inspections/inspectors.html", {
        "rows": roster.roster_of_department(session, department_id, actor),
        "names": departments_service.names_by_id(session),
        "departments": [] if actor.is_department_bound else departments_service.list_departments(session, actor),
    })  # fmt: skip


@router.post("/inspectors", name="admin.inspectors.add")
def add_inspector(request: Request, session: DbSession, actor: InspectionsWrite,
                  name: Annotated[str, Form(max_length=50)] = "", badge_no: Annotated[str, Form(max_length=40)] = "",
                  department: Annotated[str, Form(max_length=12)] = "") -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/inspectors")
    dept = _acting(session, actor, department)
    inspector = roster.add_inspector(session, department=dept, name=name, badge_no=badge_no, actor=actor)
    return redirect(request, "/admin/inspectors", flash_message=f"已登记检查人员 {inspector.name}（{inspector.badge_no}）")


@router.post("/inspectors/{inspector_id}/exclusions", name="admin.inspectors.exclude")
def add_exclusion(request: Request, session: DbSession, protector: AppProtector, actor: InspectionsWrite,
                  inspector_id: Id, subject_code: Annotated[str, Form(max_length=60)] = "",
                  reason: Annotated[str, Form(max_length=500)] = "") -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/inspectors")
    inspector = roster.get_inspector(session, inspector_id, actor=actor)
    roster.exclude(session, inspector=inspector, subject_code=subject_code, reason=reason, actor=actor,
                   protector=protector)  # fmt: skip
    return redirect(request, "/admin/inspectors", flash_message=f"已登记 {inspector.name} 的回避")
