"""Console pages of subject accounts: look up a subject's accounts and activation codes, issue an activation
code (shown once), revoke an identity proof or a whole account (信用办)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from starlette.responses import Response

from xinyong.accounts import activation, rules, service
from xinyong.auth.rules import Actor, Permission
from xinyong.clock import CHINA
from xinyong.errors import NotFound
from xinyong.subjects.models import Subject
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, IdQuery, parse_id, require
from xinyong.web.errors import on_error_redirect, on_error_render, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/admin/subject-accounts", include_in_schema=False)

AccountsRead = Annotated[Actor, require(Permission.SUBJECT_ACCOUNTS_READ)]
AccountsActivate = Annotated[Actor, require(Permission.SUBJECT_ACCOUNTS_ACTIVATE)]
AccountsRevoke = Annotated[Actor, require(Permission.SUBJECT_ACCOUNTS_REVOKE)]
Reason = Annotated[str, Form(max_length=400)]
HOME = "/admin/subject-accounts"
PAGE = "admin/accounts/list.html"


@router.get("", name="admin.subject_accounts.list")
def accounts_page(request: Request, session: DbSession, actor: AccountsRead, subject_id: IdQuery = None) -> Response:
    context: dict[str, Any] = {"channels": rules.ACTIVATION_CHANNELS}
    if subject_id is not None:
        subject, accounts = service.accounts_of(session, actor, subject_id)
        context |= {"subject": subject, "accounts": accounts, "codes": activation.codes_for(session, subject.id)}
    return render(request, PAGE, context)


@router.post("/find", name="admin.subject_accounts.find")
def find(request: Request, session: DbSession, actor: AccountsRead, protector: AppProtector,
         code: Annotated[str, Form(max_length=60)] = "") -> Response:  # fmt: skip
    """A POST, so that an ID number typed here never appears in a URL or an access log."""
    on_error_render(request, PAGE, {"channels": rules.ACTIVATION_CHANNELS})
    subject = service.find_subject(session, actor, code=code, protector=protector)
    return redirect(request, f"{HOME}?subject_id={subject.id}")


@router.post("/activation-codes", name="admin.subject_accounts.issue")
def issue(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
          actor: AccountsActivate, subject_id: Annotated[str, Form(max_length=20)] = "",
          channel: Annotated[str, Form(max_length=20)] = "") -> Response:  # fmt: skip
    chosen = parse_id(subject_id)
    back = f"{HOME}?subject_id={chosen}" if chosen is not None else HOME
    on_error_redirect(request, back)
    if chosen is None:
        raise NotFound(what="该信用主体")
    row, code = activation.issue(session, subject_id=chosen, actor=actor, channel=channel, settings=settings,
                                 protector=protector)  # fmt: skip
    subject = session.get(Subject, row.subject_id)
    assert subject is not None
    response = render(request, "admin/secret.html", {
        "title": "激活码已签发", "label": "激活码",
        "subject": f"{subject.name}：{rules.ACTIVATION_CHANNELS[channel]}，有效期至 "
                   f"{row.expires_at.astimezone(CHINA):%Y-%m-%d %H:%M}，只能使用一次；此前未使用的激活码已作废。",
        "secret": code, "back": back,
    })  # fmt: skip
    response.headers["Cache-Control"] = "no-store"  # the code is shown this once
    return response


@router.post("/{account_id}/revoke-identity", name="admin.subject_accounts.revoke_identity")
def revoke_identity(request: Request, session: DbSession, actor: AccountsRevoke, account_id: Id, reason: Reason = ""
                    ) -> Response:  # fmt: skip
    on_error_redirect(request, f"{HOME}?subject_id={service.get_account(session, actor, account_id).subject_id}")
    account = service.revoke_identity(session, account_id, actor=actor, reason=reason)
    return redirect(request, f"{HOME}?subject_id={account.subject_id}",
                    flash_message="已撤销该账户的身份核验，并通知其注册邮箱")  # fmt: skip


@router.post("/{account_id}/revoke", name="admin.subject_accounts.revoke")
def revoke(request: Request, session: DbSession, actor: AccountsRevoke, account_id: Id, reason: Reason = ""
           ) -> Response:  # fmt: skip
    on_error_redirect(request, f"{HOME}?subject_id={service.get_account(session, actor, account_id).subject_id}")
    account = service.revoke_account(session, account_id, actor=actor, reason=reason)
    return redirect(request, f"{HOME}?subject_id={account.subject_id}", flash_message="已注销该账户，并通知其注册邮箱")
