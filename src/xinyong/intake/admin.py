"""Console pages of the department catalogue (部门目录清单): read by every console role (a department its own),
kept by the 信用办."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.catalog import load_catalog
from xinyong.departments import service as departments_service
from xinyong.errors import InvalidInput, NotFound
from xinyong.intake import rules, service
from xinyong.web.deps import AppSettings, DbSession, Id, IdQuery, parse_id, require
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)

Reader = Annotated[Actor, require(Permission.MONITORING_READ)]
Writer = Annotated[Actor, require(Permission.DUTIES_WRITE)]
PAGE = "/admin/intake/duties"


@router.get("/intake/duties", name="admin.intake.duties")
def duties(request: Request, session: DbSession, settings: AppSettings, actor: Reader,
           department: IdQuery = None) -> Response:  # fmt: skip
    if department is not None and not actor.can_reach(department):
        raise NotFound(what="该部门")
    rows = service.duties(session, settings, actor=actor, department_id=department)
    departments = [] if actor.is_department_bound else departments_service.list_departments(session, actor)
    return render(request, "admin/intake/duties.html", {
        "rows": rows, "departments": departments, "selected": department,
        "types": list(load_catalog(settings.catalog_dirs).types.values()), "frequencies": rules.FREQUENCIES,
        "can_write": actor.can(Permission.DUTIES_WRITE),
    })  # fmt: skip


@router.post("/intake/duties", name="admin.intake.duties.set")
def duty_set(
    request: Request, session: DbSession, settings: AppSettings, actor: Writer,
    department: Annotated[str, Form(max_length=12)] = "", record_type: Annotated[str, Form(max_length=40)] = "",
    frequency: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, PAGE)
    department_id = parse_id(department)
    if department_id is None:
        raise InvalidInput(reason="请选择部门")
    duty = service.set_duty(session, actor, settings=settings, department_id=department_id, record_type=record_type,
                            frequency=frequency or None)  # fmt: skip
    label = rules.FREQUENCIES[duty.frequency]
    return redirect(request, f"{PAGE}?department={department_id}", flash_message=f"已设置：{duty.record_type}，{label}")


@router.post("/intake/duties/{duty_id}/delete", name="admin.intake.duties.delete")
def duty_delete(request: Request, session: DbSession, actor: Writer, duty_id: Id) -> Response:
    on_error_redirect(request, PAGE)
    service.remove_duty(session, actor, duty_id=duty_id)
    return redirect(request, PAGE, flash_message="已从部门目录清单中移出")
