"""Console pages of 信易贷 for the 信用办: institutions and their keys, the whitelist rule and its versions,
unanswered demands, and statistics per institution and month."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from xinyong.actors import Actor, Permission
from xinyong.auth import service as auth_service
from xinyong.auth.models import User
from xinyong.auth.rules import Role
from xinyong.finance import rules, service
from xinyong.finance.models import Institution
from xinyong.web import forms
from xinyong.web.deps import AppSettings, DbSession, Id, Today, UoW, require, writes_first
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin", include_in_schema=False)
Reader = Annotated[Actor, require(Permission.FINANCE_READ)]
Writer = Annotated[Actor, require(Permission.FINANCE_WRITE)]
PAGE = "/admin/finance"


@router.get("/finance", name="admin.finance")
def board(request: Request, session: DbSession, settings: AppSettings, today: Today, actor: Reader) -> Response:
    stats, totals = service.statistics(session)
    latest = service.latest_feed(session)
    institutions = service.list_institutions(session)
    return render(request, "admin/finance/board.html", {
        "institutions": institutions, "keys": {i.id: service.keys_of(session, i.id) for i in institutions},
        "officers": {i.id: service.officers_of(session, i.id) for i in institutions},
        "purposes": service.config().purposes, "stats": stats, "totals": totals, "overdue": service.overdue_demands(session, today),
        "rule": service.current_rule(session), "latest": latest, "today": today,
        "city_level": service.is_city_level(session, actor),
    })  # fmt: skip


@router.post("/finance/institutions", name="admin.finance.institution_add")
@writes_first
async def institution_add(request: Request, session: DbSession, actor: Writer) -> Response:
    form = await forms.read_form(request)
    on_error_redirect(request, PAGE)
    service.ensure_city_level(session, actor)
    institution = service.register_institution(
        session, code=forms.text(form, "code", 40), name=forms.text(form, "name", 200),
        purposes=forms.texts(form, "purposes", limit=40, most=20), min_amount=forms.text(form, "min_amount", 20),
        max_amount=forms.text(form, "max_amount", 20), actor=actor)  # fmt: skip
    return redirect(request, PAGE, flash_message=f"已登记金融机构：{institution.name}")


@router.post("/finance/institutions/{institution_id}/keys", name="admin.finance.key_issue")
@writes_first
async def key_issue(request: Request, institution_id: Id, session: DbSession, actor: Writer) -> Response:
    form = await forms.read_form(request)
    on_error_redirect(request, PAGE)
    service.ensure_city_level(session, actor)
    institution = service.get_institution(session, institution_id)
    key, secret = service.issue_key(session, institution, name=forms.text(form, "name", 100), actor=actor)
    return render(request, "admin/secret.html", {"title": "金融机构访问密钥", "subject": f"{institution.name} · {key.name}",
                                                 "label": "访问密钥", "secret": secret, "back": PAGE})  # fmt: skip


@router.post("/finance/institutions/{institution_id}/officers", name="admin.finance.officer_add")
async def officer_add(request: Request, institution_id: Id, uow: UoW, settings: AppSettings,
                      actor: Writer) -> Response:  # fmt: skip
    form = await forms.read_form(request)
    on_error_redirect(request, PAGE)

    def work() -> tuple[Institution, User]:  # the password's hashing: in a worker thread
        service.ensure_city_level(uow.session, actor)
        institution = service.get_institution(uow.session, institution_id)
        user = auth_service.create_user(uow.session, username=forms.text(form, "username", 40),
                                        password=forms.text(form, "password", 256), role=Role.INSTITUTION_OFFICER,
                                        department=None, display_name=forms.text(form, "display_name", 100) or None,
                                        actor=actor, settings=settings, must_change_password=True)  # fmt: skip
        service.add_officer(uow.session, institution, user_id=user.id, actor=actor)
        return institution, user

    institution, user = await uow.run_as_writer(work)
    return redirect(request, PAGE, flash_message=f"已为{institution.name}开设信贷员账户 {user.username}（首次登录须修改密码）")


@router.post("/finance/whitelist", name="admin.finance.whitelist")
async def whitelist(request: Request, uow: UoW, settings: AppSettings, today: Today, actor: Writer) -> Response:
    form = await forms.read_form(request)
    on_error_redirect(request, PAGE)
    rule = rules.WhitelistRule(
        grades=tuple(forms.texts(form, "grades", limit=8, most=10)),
        require_lists=tuple(s for s in forms.text(form, "require_lists", 200).replace("，", ",").split(",") if s.strip()),
        exclude_negative=forms.text(form, "exclude_negative", 5) == "1")  # fmt: skip

    def select() -> tuple[rules.WhitelistRule, list[dict[str, Any]]]:
        # Every graded subject of the latest evaluation: seconds for a city. In a worker thread, before the write lock.
        service.ensure_city_level(uow.session, actor)
        return service.prepare_whitelist(uow.session, rule=rule, settings=settings, today=today)

    checked, entries = await run_in_threadpool(select)
    feed = await uow.run_as_writer(lambda: service.store_whitelist(uow.session, rule=checked, entries=entries,
                                                                   today=today, actor=actor))  # fmt: skip
    return redirect(request, PAGE, flash_message=f"已发布白名单第 {feed.version} 版（{len(feed.entries)} 个主体）")
