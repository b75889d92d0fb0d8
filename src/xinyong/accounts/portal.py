"""Portal pages of subject accounts: sign up, verify, sign in and out, "my credit records"."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from xinyong.accounts import service
from xinyong.disclosure import service as disclosure
from xinyong.evaluation import service as evaluation_service
from xinyong.lists import service as lists_service
from xinyong.objections import service as objections_service
from xinyong.portal import refs
from xinyong.protect import Protector
from xinyong.repair import service as repair_service
from xinyong.web import forms
from xinyong.web.cookies import clear_subject_session, set_subject_session
from xinyong.web.deps import (
    AppProtector,
    AppSettings,
    Client,
    DbSession,
    OptionalAccount,
    SignedInAccount,
    Today,
    load_subject_session,
)
from xinyong.web.errors import on_error_render, redirect
from xinyong.web.ratelimit import TooManyAttempts
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/account", include_in_schema=False)
PENDING_COOKIE = "xy_pending"


def _pending_value(account_id: int, protector: Protector) -> str:
    return f"{account_id}-{protector.lookup_hash(f'pending-account:{account_id}')[:20]}"


def _pending_id(request: Request, protector: Protector) -> int | None:
    raw = request.cookies.get(PENDING_COOKIE, "")
    number, _, _sig = raw.partition("-")
    if number.isdigit() and len(number) < 12 and raw == _pending_value(int(number), protector):
        return int(number)
    return None


@router.get("/signup", name="account.signup")
def signup_form(request: Request, account: OptionalAccount) -> Response:
    return render(request, "portal/account/signup.html", {"form": {}})


@router.post("/signup", name="account.signup.submit")
async def signup(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
                 account: OptionalAccount) -> Response:  # fmt: skip
    form = await forms.read_form(request)
    values = {k: forms.text(form, k, 200) for k in ("code", "name", "contact")}
    # Never echoed back: a code that may be an ID number.
    on_error_render(request, "portal/account/signup.html", {"form": {**values, "code": ""}})
    created = service.sign_up(session, code=values["code"], name=values["name"], contact=values["contact"],
                              password=forms.text(form, "password", 256), protector=protector, settings=settings)  # fmt: skip
    response = redirect(request, "/account/verify", flash_message="验证码已发送至您填写的电子邮箱，请查收")
    response.set_cookie(PENDING_COOKIE, _pending_value(created.id, protector), path="/account", httponly=True,
                        samesite="strict", max_age=3600, secure=settings.session_cookie_secure)  # fmt: skip
    return response


@router.get("/verify", name="account.verify")
def verify_form(request: Request, account: OptionalAccount) -> Response:
    return render(request, "portal/account/verify.html", {})


@router.post("/verify", name="account.verify.submit")
async def verify(request: Request, session: DbSession, protector: AppProtector, account: OptionalAccount) -> Response:
    form = await forms.read_form(request)
    on_error_render(request, "portal/account/verify.html", {})
    account_id = _pending_id(request, protector)
    if account_id is None:
        return render(request, "portal/account/verify.html", {"error": "验证已过期，请重新注册"}, status_code=400)
    service.verify(session, account_id=account_id, code=forms.text(form, "code", 12), protector=protector)
    response = redirect(request, "/account/login", flash_message="账户已验证，请登录")
    response.delete_cookie(PENDING_COOKIE, path="/account")
    return response


@router.get("/login", name="account.login")
def login_form(request: Request, account: OptionalAccount) -> Response:
    return render(request, "portal/account/login.html", {})


@router.post("/login", name="account.login.submit")
async def login(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
                client: Client, account: OptionalAccount) -> Response:  # fmt: skip
    form = await forms.read_form(request)
    on_error_render(request, "portal/account/login.html", {})
    if not request.app.state.login_limiter.allow("subject:" + client):
        raise TooManyAttempts()
    _row, token = service.sign_in(session, code=forms.text(form, "code", 40), password=forms.text(form, "password", 256),
                                  protector=protector, settings=settings, client=client)  # fmt: skip
    response = redirect(request, "/account")
    set_subject_session(request, response, token)
    return response


@router.post("/logout", name="account.logout")
async def logout(request: Request, session: DbSession) -> Response:
    row = load_subject_session(request, session)
    await forms.read_form(request)
    if row is not None:
        service.end_session(row)
    response = redirect(request, "/account/login", flash_message="已安全退出")
    clear_subject_session(response)
    return response


@router.get("", name="account.home")
def home(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, today: Today,
         account: SignedInAccount) -> Response:  # fmt: skip
    subject = service.subject_of(session, account)
    own = service.own_records(session, account, settings=settings, protector=protector)
    published = _published_ids(session, settings, subject, [o.record.id for o in own], today)
    under_objection = objections_service.open_record_ids(session, [o.record.id for o in own])
    items = [{
        "own": o, "ref": refs.record_ref(o.record.id, protector), "is_published": o.record.id in published,
        "under_objection": o.record.id in under_objection,
        "eligibility": repair_service.eligibility_of(session, o.record, settings=settings, today=today)
        if o.record.tier else None,
        "open_repair": repair_service.open_application_for(session, o.record.id),
    } for o in own]  # fmt: skip
    memberships = [{
        "m": m, "eligibility": repair_service.list_eligibility_of(
            session, lists_service.get_entry(session, m.entry_id), settings=settings, today=today),
        "open_repair": repair_service.open_application_for_entry(session, m.entry_id),
    } for m in lists_service.memberships(session, [subject.id], today=today).get(subject.id, [])]  # fmt: skip
    return render(request, "portal/account/home.html", {
        "subject": subject, "account": account, "items": items, "memberships": memberships,
        "applications": repair_service.for_subject(session, subject.id),
        "objections": objections_service.for_subject(session, subject.id),
        "evaluation": evaluation_service.latest_grade(session, subject.id, settings=settings),
    })  # fmt: skip


def _published_ids(session: Session, settings: AppSettings, subject, record_ids: list[int], today) -> set[int]:  # type: ignore[no-untyped-def]
    if not record_ids:
        return set()
    return disclosure.published_among(session, record_ids, settings=settings, today=today,
                                      subject_kind=subject.kind.value)  # fmt: skip
