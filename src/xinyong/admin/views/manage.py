"""Platform administration: departments, accounts, API keys; the audit trail."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Request
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.admin import service as admin_service
from xinyong.audit import service as audit_service
from xinyong.audit.rules import AuditAction
from xinyong.auth import service as auth_service
from xinyong.auth.rules import ROLE_LABELS, Role
from xinyong.clock import CHINA
from xinyong.db import utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import DomainError, InvalidInput, NotFound
from xinyong.regions import service as regions_service
from xinyong.subjects import service as subjects_service
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, UoW, parse_id, require
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin")

DepartmentsRead = Annotated[Actor, require(Permission.DEPARTMENTS_READ)]
DepartmentsWrite = Annotated[Actor, require(Permission.DEPARTMENTS_WRITE)]
UsersRead = Annotated[Actor, require(Permission.USERS_READ)]
UsersWrite = Annotated[Actor, require(Permission.USERS_WRITE)]
KeysWrite = Annotated[Actor, require(Permission.KEYS_WRITE)]
AuditRead = Annotated[Actor, require(Permission.AUDIT_READ)]
AuditExport = Annotated[Actor, require(Permission.AUDIT_EXPORT)]


def _department(session: DbSession, actor: Actor, text: str) -> Department | None:
    """A department chosen in a form: one the actor reaches (another county's does not exist for it)."""
    if not text:
        return None
    department_id = parse_id(text)
    department = session.get(Department, department_id) if department_id else None
    if department is None or not actor.can_reach(department.id):
        raise NotFound(what="该部门")
    return department


def _regions(session: DbSession, actor: Actor) -> list[regions_service.Node]:
    """The regions a form offers: the actor's own and those below it (all for the city's); none on an install
    with one region."""
    tree = regions_service.tree(session)
    if not tree.is_multi:
        return []
    reachable = regions_service.reachable(session, actor)
    return [node for _depth, node in tree.walk() if reachable is None or node.code in reachable]


# -------------------------------------------------------------------------------------- departments


@router.get("/departments", name="admin.departments.list")
def departments(request: Request, session: DbSession, actor: DepartmentsRead) -> Response:
    return render(request, "admin/departments.html", {"departments": departments_service.list_departments(session, actor),
                                                      "regions": _regions(session, actor)})  # fmt: skip


@router.post("/departments", name="admin.departments.create")
def department_create(
    request: Request, session: DbSession, actor: DepartmentsWrite,
    code: Annotated[str, Form(max_length=40)] = "", name: Annotated[str, Form(max_length=200)] = "",
    region: Annotated[str, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/departments")
    department = departments_service.add_department(session, code=code, name=name, region=region or None,
                                                    actor=actor)  # fmt: skip
    return redirect(request, "/admin/departments", flash_message=f"已登记部门：{department.name}")


@router.post("/departments/{department_id}/active", name="admin.departments.active")
def department_active(
    request: Request, session: DbSession, actor: DepartmentsWrite, department_id: Id,
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/departments")
    if not actor.can_reach(department_id):
        raise NotFound(what="该部门")  # another county's department
    department = departments_service.set_department_active(session, department_id, is_active=active == "1",
                                                           actor=actor)  # fmt: skip
    state = "启用" if department.is_active else "停用"
    return redirect(request, "/admin/departments", flash_message=f"已{state}部门：{department.name}")


# ------------------------------------------------------------------------------------------- users


@router.get("/users", name="admin.users.list")
def users(request: Request, session: DbSession, actor: UsersRead) -> Response:
    return render(request, "admin/users.html", {
        "users": auth_service.list_users(session, actor=actor), "roles": ROLE_LABELS,
        "departments": departments_service.list_departments(session, actor), "regions": _regions(session, actor),
        "now": utcnow(),
    })  # fmt: skip


@router.post("/users", name="admin.users.create")
def user_create(
    request: Request, session: DbSession, settings: AppSettings, actor: UsersWrite,
    username: Annotated[str, Form(max_length=60)] = "", display_name: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=30)] = "", department: Annotated[str, Form(max_length=12)] = "",
    region: Annotated[str, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    """The new account gets a one-time password, shown in this response only."""
    on_error_redirect(request, "/admin/users")
    try:
        parsed = Role(role)
    except ValueError:
        raise InvalidInput(reason="请选择角色") from None
    password = auth_service.generate_password()
    user = auth_service.create_user(
        session, username=username, password=password, role=parsed, department=_department(session, actor, department),
        display_name=display_name, actor=actor, settings=settings, must_change_password=True, region=region or None,
    )  # fmt: skip
    return render(request, "admin/secret.html", {"title": "账户已创建", "subject": f"{user.username}（{parsed.label}）",
                                           "label": "一次性初始密码", "secret": password, "back": "/admin/users"})  # fmt: skip


@router.post("/users/{user_id}", name="admin.users.update")
def user_update(
    request: Request, session: DbSession, actor: UsersWrite, user_id: Id,
    role: Annotated[str, Form(max_length=30)] = "", department: Annotated[str, Form(max_length=12)] = "",
    active: Annotated[str, Form(max_length=5)] = "", unlock: Annotated[str, Form(max_length=5)] = "",
    region: Annotated[str, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/users")
    try:
        parsed = Role(role) if role else None
    except ValueError:
        raise InvalidInput(reason="未知的角色") from None
    user = auth_service.update_user(
        session, user_id, actor=actor, role=parsed, department=_department(session, actor, department),
        is_active=(active == "1") if active in ("0", "1") else None, unlock=unlock == "1", region=region or None,
    )  # fmt: skip
    return redirect(request, "/admin/users", flash_message=f"已更新账户 {user.username}")


@router.post("/users/{user_id}/reset-password", name="admin.users.reset_password")
def user_reset_password(request: Request, session: DbSession, actor: UsersWrite, user_id: Id) -> Response:
    on_error_redirect(request, "/admin/users")
    password = auth_service.reset_password(session, user_id, actor=actor)
    user = auth_service.get_user(session, user_id, actor=actor)
    return render(request, "admin/secret.html", {"title": "密码已重置", "subject": user.username, "label": "一次性密码",
                                           "secret": password, "back": "/admin/users"})  # fmt: skip


# -------------------------------------------------------------------------------------------- keys


@router.get("/keys", name="admin.keys.list")
def keys(request: Request, session: DbSession, actor: KeysWrite) -> Response:
    return render(request, "admin/keys.html", {
        "keys": departments_service.list_api_keys(session, actor=actor),
        "departments": departments_service.list_departments(session, actor),
        "permissions": sorted(p.value for p in Permission if p.is_api), "now": utcnow(),
    })  # fmt: skip


@router.post("/keys", name="admin.keys.create")
def key_create(
    request: Request, session: DbSession, actor: KeysWrite,
    department: Annotated[str, Form(max_length=12)] = "", name: Annotated[str, Form(max_length=100)] = "",
    days: Annotated[str, Form(max_length=5)] = "365", scopes: Annotated[list[str] | None, Form(max_length=10)] = None,
) -> Response:  # fmt: skip
    on_error_redirect(request, "/admin/keys")
    chosen = _department(session, actor, department)
    if chosen is None:
        raise InvalidInput(reason="请选择部门")
    if not days.isdigit() or not 1 <= int(days) <= 3650:
        raise InvalidInput(reason="有效天数应为 1–3650")
    key, token = departments_service.issue_api_key(
        session, department=chosen, name=name, scopes=scopes or None,
        expires_at=utcnow() + timedelta(days=int(days)), actor=actor,
    )  # fmt: skip
    return render(request, "admin/secret.html", {"title": "访问密钥已签发", "subject": f"{chosen.name} · 编号 {key.prefix}",
                                                 "label": "访问密钥", "secret": token, "back": "/admin/keys"})  # fmt: skip


@router.post("/keys/{prefix}/revoke", name="admin.keys.revoke")
def key_revoke(request: Request, session: DbSession, actor: KeysWrite, prefix: str) -> Response:
    on_error_redirect(request, "/admin/keys")
    departments_service.revoke_api_key(session, prefix=prefix[:16], actor=actor)  # another county's key: not found
    return redirect(request, "/admin/keys", flash_message=f"已吊销访问密钥 {prefix[:16]}")


# ------------------------------------------------------------------------------------------- audit


def _audit_query(session: DbSession, protector: AppProtector, actor: Actor, actor_text: str, department: str,
                 subject: str, action: str, since: str, until: str) -> audit_service.AuditQuery:  # fmt: skip
    def day(text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text).replace(tzinfo=CHINA) if text else None
        except ValueError:
            raise InvalidInput(reason="日期格式应为 YYYY-MM-DD") from None

    subject_id = None
    if subject.strip():
        found = subjects_service.find_by_code(session, subject, protector)
        subject_id = found.id if found else -1  # an unknown subject matches nothing
    until_day = day(until)
    return audit_service.AuditQuery(
        actor=actor_text or None, department_id=parse_id(department),
        subject_id=subject_id, action=action or None, since=day(since),
        until=until_day + timedelta(days=1) if until_day else None, within=admin_service.audit_scope(session, actor),
    )  # fmt: skip


@router.get("/audit", name="admin.audit.list")
def audit_list(
    request: Request, session: DbSession, protector: AppProtector, actor: AuditRead,
    who: str = "", department: str = "", subject: str = "", action: str = "", since: str = "", until: str = "",
) -> Response:  # fmt: skip
    filters = {"who": who[:100], "department": department[:12], "subject": subject[:40], "action": action[:48],
               "since": since[:10], "until": until[:10]}  # fmt: skip
    try:
        query = _audit_query(session, protector, actor, filters["who"], filters["department"], filters["subject"],
                             filters["action"], filters["since"], filters["until"])  # fmt: skip
        entries = audit_service.search(session, query, limit=200)
        error = None
    except DomainError as exc:
        entries, error = [], exc.message
    return render(request, "admin/audit.html", {
        "entries": entries, "filters": filters, "error": error, "actions": list(AuditAction),
        "departments": departments_service.list_departments(session, actor), "export_query": urlencode(filters),
    })  # fmt: skip


@router.get("/audit/export.csv", name="admin.audit.export")
def audit_export(
    uow: UoW, protector: AppProtector, actor: AuditExport,
    who: str = "", department: str = "", subject: str = "", action: str = "", since: str = "", until: str = "",
) -> Response:  # fmt: skip
    session = uow.session
    query = _audit_query(session, protector, actor, who[:100], department[:12], subject[:40], action[:48], since[:10],
                         until[:10])  # fmt: skip
    buffer = io.StringIO()
    buffer.write("\ufeff")
    rows = audit_service.write_entries(session, query, buffer)  # read in the page's own (plain) transaction
    # The export itself is in the trail before any of it is sent: once the whole trail is read (its entry counts
    # the rows), in a writer's transaction of its own, which on SQLite waits for another connection's write
    # instead of failing, and does not hold the write lock while the trail is read. If it cannot be written,
    # the request fails and nothing is exported.
    uow.write_in_thread(lambda: audit_service.record_export(session, query, rows, actor=actor))
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="audit.csv"'})  # fmt: skip
