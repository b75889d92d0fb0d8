"""Console pages of subject accounts: look up a subject's accounts and activation codes, issue an activation
code (shown once), revoke an identity proof or a whole account (信用办)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from xinyong.accounts import activation, rules, service
from xinyong.accounts.models import SubjectAccount
from xinyong.admin.web import redirect, render
from xinyong.auth.rules import Actor, Permission
from xinyong.errors import DomainError, PermissionDenied
from xinyong.notify import service as notify
from xinyong.subjects.models import Subject
from xinyong.web.deps import AppProtector, AppSettings, DbSession, require

router = APIRouter(prefix="/admin/subject-accounts", include_in_schema=False)

AccountsRead = Annotated[Actor, require(Permission.SUBJECT_ACCOUNTS_READ)]
AccountsActivate = Annotated[Actor, require(Permission.SUBJECT_ACCOUNTS_ACTIVATE)]
AccountsRevoke = Annotated[Actor, require(Permission.SUBJECT_ACCOUNTS_REVOKE)]
Reason = Annotated[str, Form(max_length=400)]
HOME = "/admin/subject-accounts"


@router.get("", name="admin.subject_accounts.list")
def accounts_page(request: Request, session: DbSession, actor: AccountsRead, subject_id: int | None = None
                  ) -> Response:  # fmt: skip
    context: dict = {"channels": rules.ACTIVATION_CHANNELS}  # type: ignore[type-arg]
    if subject_id is not None:
        subject, accounts = service.accounts_of(session, actor, subject_id)
        context |= {"subject": subject, "accounts": accounts, "codes": activation.codes_for(session, subject.id)}
    return render(request, "accounts/list.html", context)


@router.post("/find", name="admin.subject_accounts.find")
def find(request: Request, session: DbSession, actor: AccountsRead, protector: AppProtector,
         code: Annotated[str, Form(max_length=60)] = "") -> Response:  # fmt: skip
    """A POST, so that an ID number typed here never appears in a URL or an access log."""
    try:
        subject = service.find_subject(session, actor, code=code, protector=protector)
    except DomainError as exc:
        return render(request, "accounts/list.html", {"channels": rules.ACTIVATION_CHANNELS, "error": exc.message},
                      status_code=exc.status_code)  # fmt: skip
    return redirect(request, f"{HOME}?subject_id={subject.id}")


@router.post("/activation-codes", name="admin.subject_accounts.issue")
def issue(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
          actor: AccountsActivate, subject_id: Annotated[int, Form()], channel: Annotated[str, Form(max_length=20)] = ""
          ) -> Response:  # fmt: skip
    try:
        row, code = activation.issue(session, subject_id=subject_id, actor=actor, channel=channel, settings=settings,
                                     protector=protector)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        return redirect(request, f"{HOME}?subject_id={subject_id}", flash=exc.message, kind="error")
    subject = session.get(Subject, row.subject_id)
    assert subject is not None
    session.commit()
    response = render(request, "secret.html", {
        "title": "激活码已签发", "label": "激活码",
        "subject": f"{subject.name}：{rules.ACTIVATION_CHANNELS[channel]}，有效期至 "
                   f"{row.expires_at.astimezone(activation.CHINA):%Y-%m-%d %H:%M}，只能使用一次；此前未使用的激活码已作废。",
        "secret": code, "back": f"{HOME}?subject_id={subject_id}",
    })  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


def _revoke(request: Request, session: DbSession, account_id: int, step: Callable[[], SubjectAccount], done: str
            ) -> Response:  # fmt: skip
    try:
        account = step()
    except DomainError as exc:
        session.rollback()
        target = session.get(SubjectAccount, account_id)
        if target is None or isinstance(exc, PermissionDenied):
            raise
        back = f"{HOME}?subject_id={target.subject_id}"
        return redirect(request, back, flash=exc.message, kind="error")
    session.commit()
    notify.deliver_after_commit(session, request.app.state)
    return redirect(request, f"{HOME}?subject_id={account.subject_id}", flash=done)


@router.post("/{account_id}/revoke-identity", name="admin.subject_accounts.revoke_identity")
def revoke_identity(request: Request, session: DbSession, actor: AccountsRevoke, account_id: int, reason: Reason = ""
                    ) -> Response:  # fmt: skip
    return _revoke(request, session, account_id, lambda: service.revoke_identity(
        session, account_id, actor=actor, reason=reason), "已撤销该账户的身份核验，并通知其注册邮箱")  # fmt: skip


@router.post("/{account_id}/revoke", name="admin.subject_accounts.revoke")
def revoke(request: Request, session: DbSession, actor: AccountsRevoke, account_id: int, reason: Reason = ""
           ) -> Response:  # fmt: skip
    return _revoke(request, session, account_id, lambda: service.revoke_account(
        session, account_id, actor=actor, reason=reason), "已注销该账户，并通知其注册邮箱")  # fmt: skip
