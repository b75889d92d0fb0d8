"""The region tree in the console (区划管理): each region with its departments and portal host; the city's
信用办 registers regions, sets their portal hosts and moves departments between them; a county's sees its own
subtree, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Form, Request
from sqlalchemy import select
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import NotFound, PermissionDenied
from xinyong.regions import rules as region_rules
from xinyong.regions import service as regions_service
from xinyong.web.deps import DbSession, parse_id, require
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)
PAGE = "/admin/regions"

RegionsRead = Annotated[Actor, require(Permission.DEPARTMENTS_READ)]
RegionsWrite = Annotated[Actor, require(Permission.DEPARTMENTS_WRITE)]


@dataclass(frozen=True)
class Row:
    depth: int
    code: str
    name: str
    display_name: str
    level: str
    host: str | None
    portal: str  # the path of its portal under the platform's host
    departments: list[Department]


def _can_manage(session: DbSession, actor: Actor) -> bool:
    """The city's 信用办 (or an account of the whole platform) with the write permission."""
    if not actor.can(Permission.DEPARTMENTS_WRITE):
        return False
    root = regions_service.tree(session).root
    try:
        regions_service.ensure_manages(session, actor, root.code if root is not None else "")
    except PermissionDenied:
        return False
    return True


@router.get("/regions", name="admin.regions.list")
def regions_page(request: Request, session: DbSession, actor: RegionsRead) -> Response:
    tree = regions_service.tree(session)
    reach = regions_service.reachable(session, actor)
    by_region: dict[str | None, list[Department]] = {}
    for department in session.scalars(select(Department).order_by(Department.name)):
        by_region.setdefault(department.region, []).append(department)
    rows = [Row(depth, node.code, node.name, tree.display_name(node.code),
                region_rules.LEVEL_TITLES[region_rules.level(node.code)], node.host,
                f"{region_rules.PORTAL_PREFIX}/{node.code}/", by_region.get(node.code, []))
            for depth, node in tree.walk() if reach is None or node.code in reach]  # fmt: skip
    top = min((r.depth for r in rows), default=0)  # a county's 信用办 sees its subtree from its own level
    can_manage = _can_manage(session, actor)
    unassigned = by_region.get(None, []) if reach is None else []
    departments = departments_service.list_departments(session, actor) if can_manage else []
    return render(request, "admin/regions.html", {
        "rows": rows, "top": top, "can_manage": can_manage, "unassigned": unassigned, "departments": departments,
        "is_empty": tree.root is None, "levels": region_rules.LEVEL_TITLES,
    })  # fmt: skip


@router.post("/regions", name="admin.regions.create")
def region_create(
    request: Request, session: DbSession, actor: RegionsWrite,
    code: Annotated[str, Form(max_length=40)] = "", name: Annotated[str, Form(max_length=200)] = "",
    parent: Annotated[str, Form(max_length=40)] = "", host: Annotated[str, Form(max_length=300)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, PAGE)
    regions_service.ensure_manages(session, actor, code or "")
    region = regions_service.add_region(session, code=code, name=name or None, parent=parent or None,
                                        host=host or None, actor=actor)  # fmt: skip
    return redirect(request, PAGE, flash_message=f"已登记行政区划：{region.name}（{region.code}）")


@router.post("/regions/move", name="admin.regions.move")
def department_move(
    request: Request, session: DbSession, actor: RegionsWrite,
    department: Annotated[str, Form(max_length=12)] = "", region: Annotated[str, Form(max_length=40)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, PAGE)
    department_id = parse_id(department)
    if department_id is None:
        raise NotFound(what="该部门")
    regions_service.ensure_manages(session, actor, region or "")
    moved = departments_service.move_department(session, department_id, region=region.strip(), actor=actor)
    target = regions_service.tree(session).display_name(moved.region or "") or moved.region
    return redirect(request, PAGE, flash_message=f"已将{moved.name}调整至{target}（此前的数据仍归属原区划）")


@router.post("/regions/{code}", name="admin.regions.update")
def region_update(
    request: Request, session: DbSession, actor: RegionsWrite, code: str,
    name: Annotated[str, Form(max_length=200)] = "", host: Annotated[str, Form(max_length=300)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, PAGE)
    regions_service.ensure_manages(session, actor, code)
    region = regions_service.update_region(session, code[:32], name=name if name.strip() else None,
                                           host=host if host.strip() else None, clear_host=not host.strip(),
                                           actor=actor)  # fmt: skip
    return redirect(request, PAGE, flash_message=f"已保存行政区划：{region.name}（{region.code}）")
