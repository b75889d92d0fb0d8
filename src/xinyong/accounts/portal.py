"""Portal pages of subject accounts: sign up, verify, sign in and out, "my credit records"."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from xinyong.accounts import service
from xinyong.accounts import web as w
from xinyong.disclosure import service as disclosure
from xinyong.errors import DomainError
from xinyong.lists import service as lists_service
from xinyong.notify import service as notify
from xinyong.objections import service as objections_service
from xinyong.portal import refs
from xinyong.portal.web import Today
from xinyong.repair import service as repair_service
from xinyong.web.deps import AppProtector, AppSettings, DbSession

router = APIRouter(prefix="/account", include_in_schema=False)
PENDING_COOKIE = "xy_pending"


def _pending_value(account_id: int, protector) -> str:  # type: ignore[no-untyped-def]
    return f"{account_id}-{protector.lookup_hash(f'pending-account:{account_id}')[:20]}"


def _pending_id(request: Request, protector) -> int | None:  # type: ignore[no-untyped-def]
    raw = request.cookies.get(PENDING_COOKIE, "")
    number, _, _sig = raw.partition("-")
    if number.isdigit() and len(number) < 12 and raw == _pending_value(int(number), protector):
        return int(number)
    return None


@router.get("/signup", name="account.signup")
def signup_form(request: Request, session: DbSession) -> Response:
    w.subject_session(request, session)
    return w.page(request, "account/signup.html", {"form": {}})


@router.post("/signup", name="account.signup.submit")
async def signup(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector) -> Response:
    w.subject_session(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    values = {k: w.text(form, k, 200) for k in ("code", "name", "contact")}
    try:
        account = service.sign_up(session, code=values["code"], name=values["name"], contact=values["contact"],
                                  password=w.text(form, "password", 256), protector=protector, settings=settings)  # fmt: skip
    except DomainError as exc:
        session.rollback()
        values["code"] = ""  # never echo a code that may be an ID number
        return w.page(request, "account/signup.html", {"form": values, "error": exc.message},
                      status_code=exc.status_code)  # fmt: skip
    session.commit()
    notify.deliver_after_commit(session, request.app.state)
    response = w.see_other(request, "/account/verify", "验证码已发送至您填写的电子邮箱，请查收")
    response.set_cookie(PENDING_COOKIE, _pending_value(account.id, protector), path="/account", httponly=True,
                        samesite="strict", max_age=3600, secure=settings.session_cookie_secure)  # fmt: skip
    return response


@router.get("/verify", name="account.verify")
def verify_form(request: Request, session: DbSession) -> Response:
    w.subject_session(request, session)
    return w.page(request, "account/verify.html", {})


@router.post("/verify", name="account.verify.submit")
async def verify(request: Request, session: DbSession, protector: AppProtector) -> Response:
    w.subject_session(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    account_id = _pending_id(request, protector)
    if account_id is None:
        return w.page(request, "account/verify.html", {"error": "验证已过期，请重新注册"}, status_code=400)
    try:
        service.verify(session, account_id=account_id, code=w.text(form, "code", 12), protector=protector)
    except DomainError as exc:
        session.commit()  # the wrong attempt is counted
        return w.page(request, "account/verify.html", {"error": exc.message}, status_code=exc.status_code)
    session.commit()
    response = w.see_other(request, "/account/login", "账户已验证，请登录")
    response.delete_cookie(PENDING_COOKIE, path="/account")
    return response


@router.get("/login", name="account.login")
def login_form(request: Request, session: DbSession) -> Response:
    w.subject_session(request, session)
    return w.page(request, "account/login.html", {})


@router.post("/login", name="account.login.submit")
async def login(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector) -> Response:
    w.subject_session(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    if not request.app.state.login_limiter.allow("subject:" + w.client_of(request)):
        return w.page(request, "account/login.html", {"error": "登录尝试过于频繁，请稍后再试"}, status_code=429)
    try:
        _row, token = service.sign_in(session, code=w.text(form, "code", 40), password=w.text(form, "password", 256),
                                      protector=protector, settings=settings, client=w.client_of(request))  # fmt: skip
    except DomainError as exc:
        session.commit()  # failure counters stay
        return w.page(request, "account/login.html", {"error": exc.message}, status_code=exc.status_code)
    session.commit()
    response = w.see_other(request, "/account")
    response.set_cookie(w.SUBJECT_COOKIE, token, max_age=settings.subject_session_hours * 3600, path="/",
                        httponly=True, samesite="lax", secure=settings.session_cookie_secure)  # fmt: skip
    response.delete_cookie(w.FORM_COOKIE, path="/")
    return response


@router.post("/logout", name="account.logout")
async def logout(request: Request, session: DbSession) -> Response:
    row = w.subject_session(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    if row is not None:
        service.end_session(row)
        session.commit()
    response = w.see_other(request, "/account/login", "已安全退出")
    response.delete_cookie(w.SUBJECT_COOKIE, path="/")
    return response


@router.get("", name="account.home")
def home(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector, today: Today
         ) -> Response:  # fmt: skip
    row = w.subject_session(request, session)
    if row is None:
        return w.see_other(request, "/account/login")
    account = row.account
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
    return w.page(request, "account/home.html", {
        "subject": subject, "account": account, "items": items, "memberships": memberships,
        "applications": repair_service.for_subject(session, subject.id),
        "objections": objections_service.for_subject(session, subject.id),
    })  # fmt: skip


def _published_ids(session, settings, subject, record_ids, today) -> set[int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from xinyong.records.models import Record

    if not record_ids:
        return set()
    clause = disclosure.published_clause(session, disclosure.load_policy(settings), today,
                                         subject_kind=subject.kind.value)  # fmt: skip
    return set(session.scalars(select(Record.id).where(Record.id.in_(record_ids), clause)))
