"""Portal pages of subject accounts: sign up, confirm the contact, sign in and out, prove the subject's identity
(activation code, the identity service), "my credit records", disputing another claim."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from xinyong.accounts import activation, identity, oidc, rules, service
from xinyong.accounts import web as w
from xinyong.accounts.models import SubjectAccount
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
OIDC_COOKIE = "xy_oidc"
OIDC_CALLBACK = "/account/identity/oidc/callback"


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
    response = w.see_other(request, "/account/verify", "验证码已发送至您填写的电子邮箱，请查收（只用于确认邮箱）")
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
    response = w.see_other(request, "/account/login", "电子邮箱已确认。请登录，并完成主体身份核验")
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
    try:
        own = service.own_records(session, account, settings=settings, protector=protector)
    except service.IdentityNotVerified:
        return _identity_page(request, session, settings, protector, account)
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
        "claims": service.other_claims(session, account), "mask_contact": rules.mask_contact,
    })  # fmt: skip


def _published_ids(session, settings, subject, record_ids, today) -> set[int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from xinyong.records.models import Record

    if not record_ids:
        return set()
    clause = disclosure.published_clause(session, disclosure.load_policy(settings), today,
                                         subject_kind=subject.kind.value)  # fmt: skip
    return set(session.scalars(select(Record.id).where(Record.id.in_(record_ids), clause)))


# ---------------------------------------------------------------------------------- identity


def _identity_page(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
                   account: SubjectAccount, *, error: str | None = None, status_code: int = 200) -> Response:  # fmt: skip
    subject = service.subject_of(session, account)
    return w.page(request, "account/identity.html", {
        "subject": subject, "account": account, "methods": identity.enabled(settings), "settings": settings,
        "public_ref": refs.subject_ref(subject, protector), "error": error,
    }, status_code=status_code)  # fmt: skip


@router.get("/identity", name="account.identity")
def identity_form(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector) -> Response:
    row = w.subject_session(request, session)
    if row is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    if row.account.is_identity_verified:
        return w.see_other(request, "/account", "本账户已完成主体身份核验")
    return _identity_page(request, session, settings, protector, row.account)


@router.post("/identity/activation", name="account.identity.activation")
async def identity_activation(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector
                              ) -> Response:  # fmt: skip
    row = w.subject_session(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    if row is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    if not identity.is_enabled(settings, activation.METHOD):
        return _identity_page(request, session, settings, protector, row.account, error="本平台未启用激活码核验",
                              status_code=404)  # fmt: skip
    if not request.app.state.identity_limiter.allow("activation:" + w.client_of(request)):
        return _identity_page(request, session, settings, protector, row.account,
                              error="激活码提交过于频繁，请一小时后再试", status_code=429)  # fmt: skip
    try:
        activation.redeem(session, row.account, code=w.text(form, "code", 64), settings=settings, protector=protector)
    except DomainError as exc:
        session.commit()  # the wrong entry is counted
        return _identity_page(request, session, settings, protector, row.account, error=exc.message,
                              status_code=exc.status_code)  # fmt: skip
    session.commit()
    notify.deliver_after_commit(session, request.app.state)
    return w.see_other(request, "/account", "主体身份核验已完成")


@router.post("/identity/oidc", name="account.identity.oidc")
async def identity_oidc(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector
                        ) -> Response:  # fmt: skip
    row = w.subject_session(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    if row is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    if not identity.is_enabled(settings, oidc.METHOD):
        return _identity_page(request, session, settings, protector, row.account,
                              error="本平台未启用统一身份认证核验", status_code=404)  # fmt: skip
    redirect_uri = settings.oidc_redirect_uri or str(request.url_for("account.identity.oidc.callback"))
    try:
        url, sealed = oidc.begin(settings, protector, account=row.account, portal_session=row,
                                 redirect_uri=redirect_uri)  # fmt: skip
    except DomainError as exc:
        return _identity_page(request, session, settings, protector, row.account, error=exc.message,
                              status_code=exc.status_code)  # fmt: skip
    response = w.see_other(request, url)
    response.set_cookie(OIDC_COOKIE, sealed, max_age=oidc.TRANSACTION_SECONDS, path=OIDC_CALLBACK, httponly=True,
                        samesite="lax", secure=settings.session_cookie_secure)  # fmt: skip
    return response


@router.get("/identity/oidc/callback", name="account.identity.oidc.callback")
def identity_oidc_callback(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector
                           ) -> Response:  # fmt: skip
    row = w.subject_session(request, session)
    if row is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    params = {k: request.query_params.get(k, "")[:2000] for k in ("code", "state", "error")}
    try:
        if not identity.is_enabled(settings, oidc.METHOD):
            raise oidc.OidcFailed(reason="本平台未启用统一身份认证核验")
        oidc.complete(session, settings, protector, account=row.account, portal_session=row,
                      sealed=request.cookies.get(OIDC_COOKIE, ""), params=params)  # fmt: skip
    except DomainError as exc:
        session.commit()  # a proof for another subject is kept in the audit trail
        response = _identity_page(request, session, settings, protector, row.account, error=exc.message,
                                  status_code=exc.status_code)  # fmt: skip
    else:
        session.commit()
        notify.deliver_after_commit(session, request.app.state)
        response = w.see_other(request, "/account", "主体身份核验已完成")
    response.delete_cookie(OIDC_COOKIE, path=OIDC_CALLBACK)  # one try per transaction
    return response


@router.post("/claims/{claim_id}/dispute", name="account.claims.dispute")
async def dispute(request: Request, claim_id: int, session: DbSession) -> Response:
    row = w.subject_session(request, session)
    form = await w.read_form(request)
    w.check_csrf(request, form)
    if row is None:
        return w.see_other(request, "/account/login", "请先登录信用主体账户", "warning")
    service.dispute_claim(session, row.account, claim_id=claim_id)
    session.commit()
    notify.deliver_after_commit(session, request.app.state)
    return w.see_other(request, "/account", "该账户已停用，平台已通知其注册邮箱")
