"""Portal pages of 信用承诺: the templates the 信用办 publishes (anyone may read them), and, for a signed-in subject
whose identity is proven, making a commitment (the full text shown and agreed), its commitments, and the
printable copy of one it made online."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from xinyong.accounts.deps import SignedInAccount
from xinyong.accounts.models import SubjectAccount
from xinyong.commitments import service
from xinyong.departments import service as departments_service
from xinyong.subjects.models import Subject
from xinyong.web import regions
from xinyong.web.deps import AppProtector, AppSettings, DbSession, Id, ReadSession, Today, parse_id
from xinyong.web.errors import on_error_render, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)
Short = Annotated[str, Form(max_length=200)]


def _published(request: Request, session: Session, settings: AppSettings) -> list[Any]:
    """The templates this portal's region publishes (a county's own choice, else its city's); the city's portal:
    the platform's."""
    region = regions.current(request)
    return service.templates(settings, session, region=region.code if region is not None else None)


@router.get("/commitments/templates", name="portal.commitments.templates")
def templates(request: Request, session: ReadSession, settings: AppSettings) -> Response:
    return render(request, "portal/commitments/templates.html", {"templates": _published(request, session, settings)})


def _unverified(request: Request, account: SubjectAccount) -> Response | None:
    if account.is_identity_verified:
        return None
    return redirect(request, "/account", flash_message="请先完成主体身份核验，再以本主体名义作出信用承诺", kind="warning")


@router.get("/account/commitments", name="account.commitments")
def own(request: Request, session: DbSession, settings: AppSettings, account: SignedInAccount) -> Response:
    refused = _unverified(request, account)
    if refused:
        return refused
    rows = service.own_commitments(session, account, settings=settings)
    online = service.online_of(session, [c.record.id for c in rows])
    return render(request, "portal/commitments/own.html", {
        "rows": rows, "online": online, "templates": _published(request, session, settings),
    })  # fmt: skip


def _form_context(request: Request, session: Session, settings: AppSettings, account: SubjectAccount,
                  key: str) -> dict[str, Any]:  # fmt: skip
    template = service.config(settings).template(key)
    subject = session.get(Subject, account.subject_id)
    scope = regions.current_scope(request)  # a county's portal offers the county's departments (its records stay there)
    departments = [d for d in departments_service.list_departments(session)
                   if d.is_active and (scope is None or d.id in scope.current)]  # fmt: skip
    assert subject is not None
    return {"t": template, "hash": service.template_hash(template), "subject": subject,
            "identity": service.identity_shown(subject), "departments": departments}  # fmt: skip


@router.get("/account/commitments/new/{key}", name="account.commitments.new")
def new(request: Request, session: DbSession, settings: AppSettings, account: SignedInAccount, key: str) -> Response:
    refused = _unverified(request, account)
    if refused:
        return refused
    return render(request, "portal/commitments/new.html", _form_context(request, session, settings, account, key[:64]))


@router.post("/account/commitments/new/{key}", name="account.commitments.make")
def make(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, today: Today,
         account: SignedInAccount, key: str, department: Short = "", subject_code: Short = "", agreed: Short = "",
         content_hash: Short = "") -> Response:  # fmt: skip
    # The form names no subject: the signed-in account decides who commits. A `subject_code` is only read to
    # refuse a request that claims another subject.
    on_error_render(request, "portal/commitments/new.html", _form_context(request, session, settings, account, key[:64]))
    online = service.make_online(
        session, account=account, template_key=key[:64], department_id=parse_id(department), agreed=agreed == "yes",
        shown_hash=content_hash, settings=settings, protector=protector, today=today, claimed_code=subject_code,
    )  # fmt: skip
    return redirect(request, f"/account/commitments/{online.id}",
                    flash_message=f"已作出信用承诺，承诺编码 {online.code}")  # fmt: skip


@router.get("/account/commitments/{online_id}", name="account.commitments.copy")
def copy(request: Request, session: DbSession, settings: AppSettings, account: SignedInAccount, online_id: Id) -> Response:
    refused = _unverified(request, account)
    if refused:
        return refused
    online, item = service.own_copy(session, account, online_id, settings=settings)
    subject = session.get(Subject, online.subject_id)
    identity = service.identity_shown(subject) if subject is not None else ("", "")
    return render(request, "portal/commitments/copy.html", {"o": online, "c": item, "identity": identity})
