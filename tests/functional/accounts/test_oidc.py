"""Identity proof through an OpenID Connect provider that the test runs on loopback: the authorization-code
flow with PKCE, state and nonce; the claimed code must be the account's own subject."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey
from sqlalchemy import select
from tests.factories import records as f
from tests.fixtures.subject_accounts import SUBJECT_PASSWORD
from tests.functional.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, running_provider
from tests.functional.accounts.test_takeover import LEGAL_REP_ID, NOT_PROVEN, claim

from xinyong.accounts.portal import OIDC_COOKIE
from xinyong.audit.models import AuditEntry
from xinyong.codes import make_id_number
from xinyong.config import Settings, SettingsInvalid, load_settings
from xinyong.notify.models import OutboxItem
from xinyong.records import service as records_service
from xinyong.subjects.models import Subject

PERSON_ID = make_id_number("330523", date(1988, 11, 2), "273")


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def console_settings(console_settings: Settings, provider: Provider, tmp_path: Path) -> Settings:
    secret = tmp_path / "oidc-secret"
    secret.write_text(CLIENT_SECRET + "\n")
    return console_settings.model_copy(update={
        "account_identity_methods": ("activation_code", "oidc"), "oidc_client_id": CLIENT_ID,
        "oidc_discovery_url": f"{provider.url}/.well-known/openid-configuration", "oidc_client_secret_file": secret,
        "oidc_scopes": ("openid", "profile"), "oidc_title": "浙江政务服务网统一身份认证",
    })  # fmt: skip


def _onward(start) -> str:  # type: ignore[no-untyped-def]
    """Where the start page sends the browser: the Refresh header, and the link for a browser that ignores it."""
    assert start.status_code == 200, start.text
    delay, _, url = start.headers["refresh"].partition(";url=")
    assert delay == "0"
    assert f'href="{html.escape(url)}"' in start.text
    return url


def _round_trip(client, csrf: str, *, state: str | None = None, error: str | None = None):  # type: ignore[no-untyped-def]
    """Start on the portal, let the provider answer (as the browser would), come back to the callback."""
    start = client.post("/account/identity/oidc", data={"csrf_token": csrf})
    at_provider = requests.get(_onward(start), allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    if state is not None:
        query["state"] = state
    if error is not None:
        query = {"error": error, "state": query["state"]}
    return client.get(back.path, params=query)


def test_a_company_proves_itself_with_pkce_state_and_nonce(client, db_session, penalty, provider):
    record = penalty(CF_FR_ZJLX="身份证", CF_FR_ZJHM=LEGAL_REP_ID)
    subject = db_session.get(Subject, record.subject_id)
    csrf = claim(client, db_session, subject, "owner@example.cn", SUBJECT_PASSWORD)
    page = client.get("/account/identity")
    assert "浙江政务服务网统一身份认证" in page.text
    assert "激活码" in page.text
    provider.id_token_claims = {"sub": "legal-rep-7", "uscc": subject.uscc.lower()}
    done = _round_trip(client, csrf)
    assert done.status_code == 303
    assert done.headers["location"] == "/account"
    home = client.get("/account").text
    assert NOT_PROVEN not in home
    assert LEGAL_REP_ID in home
    asked = provider.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43
    assert asked["nonce"]
    assert asked["state"]
    assert asked["scope"] == "openid profile"
    exchanged = provider.token_requests[-1]
    assert exchanged["authenticated_client"] == CLIENT_ID
    assert len(exchanged["code_verifier"]) >= 43
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "subject-account.identity-verified")).one()
    assert entry.details == {"method": "oidc", "issuer": provider.url}
    # The transaction cookie serves once.
    assert any(c.startswith(f'{OIDC_COOKIE}=""') for c in done.headers.get_list("set-cookie"))


def test_a_person_proves_itself_through_userinfo_and_the_number_is_never_kept(client, db_session, accounts, provider,
                                                                              console_settings, protector, today):  # fmt: skip
    row = f.penalty_row(CF_XDR_MC="钱志远", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJLX="身份证",
                        CF_XDR_ZJHM=PERSON_ID, CF_FRDB="", CF_JDRQ=(today - timedelta(days=200)).isoformat())  # fmt: skip
    result = records_service.import_rows(db_session, [row], settings=console_settings, protector=protector,
                                         record_type="penalty", department=accounts.dept_a, actor="test", today=today)  # fmt: skip
    assert result.rejected == 0
    subject = db_session.scalars(select(Subject).where(Subject.name == "钱志远")).one()
    subject.uscc = None
    client.cookies.clear()
    from tests.fixtures.subject_accounts import anonymous_form, last_code

    token = anonymous_form(client)
    assert client.post("/account/signup", data={"csrf_token": token, "code": PERSON_ID, "name": "钱志远",
                                                 "contact": "qian@example.cn", "password": SUBJECT_PASSWORD}
                       ).status_code == 303  # fmt: skip
    assert client.post("/account/verify", data={"csrf_token": token, "code": last_code(db_session)}).status_code == 303
    assert client.post("/account/login", data={"csrf_token": token, "code": PERSON_ID, "password": SUBJECT_PASSWORD}
                       ).status_code == 303  # fmt: skip
    from xinyong.accounts.models import SubjectSession

    csrf = db_session.scalars(select(SubjectSession).order_by(SubjectSession.id.desc())).first().csrf_token
    provider.id_token_claims = {"sub": "person-9"}
    provider.userinfo_claims = {"uscc": PERSON_ID}  # the configured claim, here only in userinfo
    done = _round_trip(client, csrf)
    assert done.status_code == 303, done.text
    assert PERSON_ID in client.get("/account").text
    for entry in db_session.scalars(select(AuditEntry)):
        assert PERSON_ID not in json.dumps(entry.details, ensure_ascii=False) + (entry.target or "")
    for item in db_session.scalars(select(OutboxItem)):
        assert PERSON_ID not in json.dumps(item.payload, ensure_ascii=False)


def test_a_proof_for_another_subject_is_refused(client, db_session, penalty, provider):
    subject = db_session.get(Subject, penalty().subject_id)
    other = db_session.get(Subject, penalty().subject_id)
    csrf = claim(client, db_session, subject, "owner@example.cn", SUBJECT_PASSWORD)
    provider.id_token_claims = {"sub": "someone", "uscc": other.uscc}
    refused = _round_trip(client, csrf)
    assert refused.status_code == 403
    assert "与本账户注册的主体不一致" in refused.text
    assert NOT_PROVEN in client.get("/account").text
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "subject-account.identity-refused")).one()
    assert entry.details == {"method": "oidc", "reason": "claim-mismatch"}
    provider.id_token_claims = {"sub": "someone"}  # no code at all, neither in the token nor in userinfo
    assert _round_trip(client, csrf).status_code == 403


@pytest.mark.parametrize(("tamper", "message"), [
    ({"nonce": "not-the-one-sent"}, "身份令牌校验未通过"),
    ({"iss": "https://elsewhere.example"}, "身份令牌校验未通过"),
    ({"aud": "another-client"}, "身份令牌校验未通过"),
    ({"exp": 1_000_000_000}, "身份令牌校验未通过"),
    ("other-key", "身份令牌校验未通过"),
])  # fmt: skip
def test_bad_id_tokens_are_refused(client, db_session, penalty, provider, tamper, message):
    subject = db_session.get(Subject, penalty().subject_id)
    csrf = claim(client, db_session, subject, "owner@example.cn", SUBJECT_PASSWORD)
    provider.id_token_claims = {"sub": "legal-rep", "uscc": subject.uscc}
    if tamper == "other-key":
        provider.sign_with = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    else:
        provider.tamper = tamper
    refused = _round_trip(client, csrf)
    assert refused.status_code == 400
    assert message in refused.text
    assert NOT_PROVEN in client.get("/account").text


def test_bad_state_cancelled_login_and_lost_or_foreign_transactions(app, client, db_session, penalty, provider):
    subject = db_session.get(Subject, penalty().subject_id)
    csrf = claim(client, db_session, subject, "owner@example.cn", SUBJECT_PASSWORD)
    provider.id_token_claims = {"sub": "legal-rep", "uscc": subject.uscc}
    bad_state = _round_trip(client, csrf, state="forged-state")
    assert bad_state.status_code == 400
    assert "state 不一致" in bad_state.text
    # A failed attempt spends its transaction too.
    assert any(c.startswith(f'{OIDC_COOKIE}=""') for c in bad_state.headers.get_list("set-cookie"))
    assert "主体身份核验" in bad_state.text  # the identity page again, with the reason
    cancelled = _round_trip(client, csrf, error="access_denied")
    assert cancelled.status_code == 400
    assert "已取消" in cancelled.text
    # No transaction cookie (lost, or a link forged by someone else): refused.
    lost = client.get("/account/identity/oidc/callback", params={"code": "x", "state": "y"})
    assert lost.status_code == 400
    assert "认证请求已失效" in lost.text
    client.cookies.set(OIDC_COOKIE, "garbage", path="/account/identity/oidc/callback")
    assert client.get("/account/identity/oidc/callback", params={"code": "x", "state": "y"}).status_code == 400
    # A transaction started by one sign-in cannot be finished by another.
    start = client.post("/account/identity/oidc", data={"csrf_token": csrf})
    sealed = start.cookies[OIDC_COOKIE]
    at_provider = requests.get(_onward(start), allow_redirects=False, timeout=10)
    back = urlsplit(at_provider.headers["location"])
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as other:
        claim(other, db_session, subject, "other@example.cn", "Other-pass-1234")
        other.cookies.set(OIDC_COOKIE, sealed, path="/account/identity/oidc/callback")
        foreign = other.get(f"{back.path}?{back.query}")
        assert foreign.status_code == 400
        assert "认证请求已失效" in foreign.text
        assert NOT_PROVEN in other.get("/account").text
    # Signed out, the callback leads to the sign-in page.
    client.cookies.clear()
    assert client.get(f"{back.path}?{back.query}").headers["location"] == "/account/login"


def test_the_method_is_off_unless_configured(client, db_session, penalty, console_settings, app):
    app.state.settings = console_settings.model_copy(update={"account_identity_methods": ("activation_code",)})
    subject = db_session.get(Subject, penalty().subject_id)
    csrf = claim(client, db_session, subject, "owner@example.cn", SUBJECT_PASSWORD)
    assert "前往" not in client.get("/account/identity").text
    off = client.post("/account/identity/oidc", data={"csrf_token": csrf})
    assert off.status_code == 404
    assert "未启用统一身份认证" in off.text
    assert client.get("/account/identity/oidc/callback", params={"code": "x", "state": "y"}).status_code == 400


def test_settings_refuse_an_unusable_configuration():
    with pytest.raises(ValueError, match="XINYONG_OIDC_DISCOVERY_URL"):
        Settings(account_identity_methods="activation_code,oidc")
    with pytest.raises(ValueError, match="XINYONG_ACCOUNT_IDENTITY_METHODS 应为以下一项或多项"):
        Settings(account_identity_methods="password")
    with pytest.raises(SettingsInvalid, match="使用 oidc 身份核验须同时配置"):  # one line for the operator
        load_settings(account_identity_methods="oidc")
    assert Settings(account_identity_methods="activation_code").account_identity_methods == ("activation_code",)
