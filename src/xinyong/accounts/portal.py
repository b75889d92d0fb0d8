"""Portal pages of subject accounts: sign up, confirm the contact, sign in and out, prove the subject's identity
(activation code, the identity service), "my credit records", disputing another claim."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from xinyong.accounts import activation, identity, oidc, service
from xinyong.accounts.deps import OptionalAccount, SignedInAccount, load_subject_session
from xinyong.errors import NotFound
from xinyong.protect import Protector
from xinyong.web import forms
from xinyong.web.cookies import clear_subject_session, set_subject_session
from xinyong.web.deps import AppProtector, AppSettings, Client, DbSession, Id, UoW
from xinyong.web.errors import on_error_clear_cookie, on_error_render, redirect, site_path
from xinyong.web.ratelimit import TooManyAttempts
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(prefix="/account", include_in_schema=False)
PENDING_COOKIE = "xy_pending"
OIDC_COOKIE = "xy_oidc"
OIDC_CALLBACK = "/account/identity/oidc/callback"


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
async def signup(request: Request, uow: UoW, settings: AppSettings, protector: AppProtector,
                 account: OptionalAccount) -> Response:  # fmt: skip
    form = await forms.read_form(request)
    values = {k: forms.text(form, k, 200) for k in ("code", "name", "contact")}
    # Never echoed back: a code that may be an ID number.
    on_error_render(request, "portal/account/signup.html", {"form": {**values, "code": ""}})
    # The password's hashing and the writes: in a worker thread (see UnitOfWork.run_as_writer), as below.
    created = await uow.run_as_writer(lambda: service.sign_up(
        uow.session, code=values["code"], name=values["name"], contact=values["contact"],
        password=forms.text(form, "password", 256), protector=protector, settings=settings))  # fmt: skip
    response = redirect(request, "/account/verify", flash_message="验证码已发送至您填写的电子邮箱，请查收（只用于确认邮箱）")
    response.set_cookie(PENDING_COOKIE, _pending_value(created.id, protector), path=site_path(request, "/account"),
                        httponly=True,
                        samesite="strict", max_age=3600, secure=settings.session_cookie_secure)  # fmt: skip
    return response


@router.get("/verify", name="account.verify")
def verify_form(request: Request, account: OptionalAccount) -> Response:
    return render(request, "portal/account/verify.html", {})


@router.post("/verify", name="account.verify.submit")
async def verify(request: Request, uow: UoW, protector: AppProtector, account: OptionalAccount) -> Response:
    form = await forms.read_form(request)
    on_error_render(request, "portal/account/verify.html", {})
    account_id = _pending_id(request, protector)
    if account_id is None:
        return render(request, "portal/account/verify.html", {"error": "验证已过期，请重新注册"}, status_code=400)
    await uow.run_as_writer(lambda: service.verify(uow.session, account_id=account_id,
                                                   code=forms.text(form, "code", 12), protector=protector))
    response = redirect(request, "/account/login", flash_message="电子邮箱已确认。请登录，并完成主体身份核验")
    response.delete_cookie(PENDING_COOKIE, path=site_path(request, "/account"))
    return response


@router.get("/login", name="account.login")
def login_form(request: Request, account: OptionalAccount) -> Response:
    return render(request, "portal/account/login.html", {})


@router.post("/login", name="account.login.submit")
async def login(request: Request, uow: UoW, settings: AppSettings, protector: AppProtector,
                client: Client, account: OptionalAccount) -> Response:  # fmt: skip
    form = await forms.read_form(request)
    on_error_render(request, "portal/account/login.html", {})
    # Throttled in the service (auth.throttle), in the database, as console sign-ins are.
    _row, token = await uow.run_as_writer(lambda: service.sign_in(
        uow.session, code=forms.text(form, "code", 40), password=forms.text(form, "password", 256),
        protector=protector, settings=settings, client=client))  # fmt: skip
    response = redirect(request, "/account")
    set_subject_session(request, response, token)
    return response


@router.post("/logout", name="account.logout")
async def logout(request: Request, uow: UoW) -> Response:
    row = load_subject_session(request, uow.session)  # before the form: its CSRF token is the session's
    await forms.read_form(request)
    if row is not None:
        await uow.run_as_writer(lambda: service.end_session(row))
    response = redirect(request, "/account/login", flash_message="已安全退出")
    clear_subject_session(response)
    return response


# ---------------------------------------------------------------------------------- identity

IDENTITY_PAGE = "portal/account/identity.html"


@router.get("/identity", name="account.identity")
def identity_form(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
                  account: SignedInAccount) -> Response:  # fmt: skip
    if account.is_identity_verified:
        return redirect(request, "/account", flash_message="本账户已完成主体身份核验")
    return render(request, IDENTITY_PAGE, identity.page_context(session, settings, protector, account))


@router.post("/identity/activation", name="account.identity.activation")
async def identity_activation(request: Request, uow: UoW, settings: AppSettings, protector: AppProtector,
                              client: Client, account: SignedInAccount) -> Response:  # fmt: skip
    form = await forms.read_form(request)

    def work() -> None:
        on_error_render(request, IDENTITY_PAGE, identity.page_context(uow.session, settings, protector, account))
        if not identity.is_enabled(settings, activation.METHOD):
            raise NotFound("本平台未启用激活码核验")
        if not request.app.state.identity_limiter.allow("activation:" + client):
            raise TooManyAttempts("激活码提交过于频繁，请一小时后再试")
        activation.redeem(uow.session, account, code=forms.text(form, "code", 64), settings=settings,
                          protector=protector)  # fmt: skip

    await uow.run_as_writer(work)
    return redirect(request, "/account", flash_message="主体身份核验已完成")


@router.post("/identity/oidc", name="account.identity.oidc")
async def identity_oidc(request: Request, session: DbSession, settings: AppSettings, protector: AppProtector,
                        account: SignedInAccount) -> Response:  # fmt: skip
    await forms.read_form(request)
    portal_session = load_subject_session(request, session)
    assert portal_session is not None  # the signed-in account came from it
    on_error_render(request, IDENTITY_PAGE, identity.page_context(session, settings, protector, account))
    if not identity.is_enabled(settings, oidc.METHOD):
        raise NotFound("本平台未启用统一身份认证核验")
    redirect_uri = settings.oidc_redirect_uri or str(request.url_for("account.identity.oidc.callback"))
    # The identity service's metadata may be fetched over the network: not on the event loop.
    url, sealed = await run_in_threadpool(lambda: oidc.begin(settings, protector, account=account,
                                                             portal_session=portal_session, redirect_uri=redirect_uri))
    # Not a redirect: the page's form may post only to the platform (CSP form-action), and a browser holds the
    # redirects that follow a form's submission to that rule too. This page sends the browser on by itself.
    response = render(request, "portal/account/identity_redirect.html", {
        "url": url, "title": settings.oidc_title, "minutes": oidc.TRANSACTION_SECONDS // 60,
    }, headers={"Refresh": f"0;url={url}"})  # fmt: skip
    # the cookie goes to the callback the identity service sends the browser to (a county's prefix included)
    response.set_cookie(OIDC_COOKIE, sealed, max_age=oidc.TRANSACTION_SECONDS,
                        path=urlsplit(redirect_uri).path or OIDC_CALLBACK, httponly=True,
                        samesite="lax", secure=settings.session_cookie_secure)  # fmt: skip
    return response


@router.get("/identity/oidc/callback", name="account.identity.oidc.callback")
def identity_oidc_callback(request: Request, uow: UoW, settings: AppSettings, protector: AppProtector,
                           account: SignedInAccount) -> Response:  # fmt: skip
    """Runs in a worker thread (a synchronous handler): it calls the identity service, holding no write lock, and
    then writes the outcome (the proof, or the refusal's audit entry) in a writer's transaction of its own: in the
    GET's plain transaction, which has read, the write failed on SQLite whenever another connection had committed
    meanwhile, and the authorization code, single-use, was spent."""
    session = uow.session
    portal_session = load_subject_session(request, session)
    assert portal_session is not None  # the signed-in account came from it
    on_error_render(request, IDENTITY_PAGE, identity.page_context(session, settings, protector, account))
    on_error_clear_cookie(request, OIDC_COOKIE, path=site_path(request, OIDC_CALLBACK))  # one try per transaction, failed or not
    if not identity.is_enabled(settings, oidc.METHOD):
        raise oidc.OidcFailed(reason="本平台未启用统一身份认证核验")
    params = {k: request.query_params.get(k, "")[:2000] for k in ("code", "state", "error")}
    proof = oidc.redeem(settings, protector, account=account, portal_session=portal_session,
                        sealed=request.cookies.get(OIDC_COOKIE, ""), params=params)  # fmt: skip
    # A refusal (ClaimMismatch) leaves the writer's transaction with its audit entry, which the route commits.
    uow.write_in_thread(lambda: oidc.conclude(uow.session, protector, account, proof))
    response = redirect(request, "/account", flash_message="主体身份核验已完成")
    response.delete_cookie(OIDC_COOKIE, path=site_path(request, OIDC_CALLBACK))
    return response


@router.post("/claims/{claim_id}/dispute", name="account.claims.dispute")
async def dispute(request: Request, claim_id: Id, uow: UoW, account: SignedInAccount) -> Response:
    await forms.read_form(request)
    await uow.run_as_writer(lambda: service.dispute_claim(uow.session, account, claim_id=claim_id))
    return redirect(request, "/account", flash_message="该账户已停用，平台已通知其注册邮箱")
