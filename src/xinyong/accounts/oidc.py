"""Proving a subject's identity through the province's identity service (统一身份认证 / 电子营业执照), by
OpenID Connect.

The authorization-code flow with PKCE (S256), state and nonce runs through Authlib's client; the ID token's
signature is checked against the keys the service publishes, and its issuer, audience, expiry and nonce
(joserfc, Authlib's JOSE library). The claim named by `oidc_code_claim` (in the ID token, else in userinfo) must
carry the account's own subject: a USCC equal to the subject's, or an ID number whose keyed hash equals the
subject's. The number itself is never stored or logged.

The flow's secrets (state, nonce, PKCE verifier) travel in a cookie sealed with the platform key and bound to the
portal session that started it; nothing is kept in the database until the proof passes."""

from __future__ import annotations

import hmac
import json
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

import requests
from authlib.common.security import generate_token, is_secure_transport
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from xinyong.accounts import service as accounts_service
from xinyong.accounts.models import SubjectAccount, SubjectSession
from xinyong.codes import CodeError, normalize_code
from xinyong.codes.idnumber import validate_id_number
from xinyong.codes.uscc import validate_uscc
from xinyong.config import Settings
from xinyong.errors import DomainError, PermissionDenied
from xinyong.protect import Protector
from xinyong.subjects.models import Subject, SubjectKind

METHOD = "oidc"
TRANSACTION_SECONDS = 600
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
METADATA_SECONDS = 3600


class OidcFailed(DomainError):
    code = "oidc-failed"
    status_code = 400
    message_template = "统一身份认证未完成：{reason}"


class ClaimMismatch(PermissionDenied):
    code = "oidc-claim-mismatch"
    message_template = "统一身份认证所证明的主体与本账户注册的主体不一致，身份核验未通过"
    keeps_changes = True  # the refused proof stays in the audit trail


@dataclass
class Transaction:
    state: str
    nonce: str
    verifier: str
    account_id: int
    session_id: int
    redirect_uri: str
    expires: float


# ------------------------------------------------------------------------------- the service's metadata

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def _get_json(url: str, settings: Settings) -> dict[str, Any]:
    if not is_secure_transport(url):
        raise OidcFailed(reason="统一身份认证服务地址须使用 HTTPS")
    try:
        response = requests.get(url, timeout=settings.oidc_timeout_seconds, headers={"Accept": "application/json"})
        response.raise_for_status()
        value = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise OidcFailed(reason="无法连接统一身份认证服务，请稍后再试") from exc
    if not isinstance(value, dict):
        raise OidcFailed(reason="统一身份认证服务的应答格式不正确")
    return value


def _cached(url: str, settings: Settings, *, refresh: bool = False) -> dict[str, Any]:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(url)
    if hit is not None and not refresh and now - hit[0] < METADATA_SECONDS:
        return hit[1]
    value = _get_json(url, settings)
    with _cache_lock:
        _cache[url] = (now, value)
    return value


def metadata(settings: Settings) -> dict[str, Any]:
    assert settings.oidc_discovery_url
    meta = _cached(settings.oidc_discovery_url, settings)
    for name in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(meta.get(name), str):
            raise OidcFailed(reason=f"统一身份认证服务的配置缺少 {name}")
    return meta


def _client_secret(settings: Settings) -> str:
    assert settings.oidc_client_secret_file
    try:
        return settings.oidc_client_secret_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise OidcFailed(reason="平台未能读取统一身份认证的客户端密钥，请联系信用办") from exc


def _client(settings: Settings, redirect_uri: str) -> OAuth2Session:
    scopes = ["openid", *(s for s in settings.oidc_scopes if s != "openid")]
    return OAuth2Session(client_id=settings.oidc_client_id, client_secret=_client_secret(settings),
                         scope=" ".join(scopes), redirect_uri=redirect_uri, code_challenge_method="S256",
                         default_timeout=settings.oidc_timeout_seconds)  # fmt: skip


# ------------------------------------------------------------------------------------------ the flow


def begin(settings: Settings, protector: Protector, *, account: SubjectAccount, portal_session: SubjectSession,
          redirect_uri: str) -> tuple[str, str]:  # fmt: skip
    """The service's authorization URL to send the browser to, and the sealed transaction for the cookie."""
    accounts_service.require_contact(account)
    meta = metadata(settings)
    transaction = Transaction(state=generate_token(32), nonce=generate_token(32), verifier=generate_token(64),
                              account_id=account.id, session_id=portal_session.id, redirect_uri=redirect_uri,
                              expires=time.time() + TRANSACTION_SECONDS)  # fmt: skip
    with _client(settings, redirect_uri) as client:
        url, _ = client.create_authorization_url(meta["authorization_endpoint"], state=transaction.state,
                                                 code_verifier=transaction.verifier, nonce=transaction.nonce)  # fmt: skip
    return url, protector.seal(json.dumps(asdict(transaction)))


def _open(protector: Protector, sealed: str) -> Transaction:
    try:
        return Transaction(**json.loads(protector.unseal(sealed)))
    except Exception as exc:  # any tampering or garbage: InvalidTag, binascii, JSON, missing keys
        raise OidcFailed(reason="认证请求已失效，请重新发起") from exc


@dataclass(frozen=True)
class Proof:
    """What the identity service asserted: the value of the configured claim (None if it sent none) and its
    issuer."""

    value: Any
    issuer: str


def redeem(settings: Settings, protector: Protector, *, account: SubjectAccount, portal_session: SubjectSession,
           sealed: str, params: dict[str, str]) -> Proof:  # fmt: skip
    """Checks the callback against the transaction, redeems the code and validates the ID token: the round trips
    to the identity service, which write nothing, so that the caller holds no write lock meanwhile; `conclude`
    then records the outcome."""
    if not sealed:
        raise OidcFailed(reason="认证请求已失效，请重新发起")
    transaction = _open(protector, sealed)
    if (transaction.expires < time.time() or transaction.account_id != account.id
            or transaction.session_id != portal_session.id):  # fmt: skip
        raise OidcFailed(reason="认证请求已失效，请重新发起")
    if params.get("error"):
        raise OidcFailed(reason="认证已取消或被拒绝")
    if not hmac.compare_digest(transaction.state.encode(), (params.get("state") or "").encode()):
        raise OidcFailed(reason="认证请求校验失败（state 不一致），请重新发起")
    code = params.get("code") or ""
    if not code:
        raise OidcFailed(reason="统一身份认证服务未返回授权码")
    meta = metadata(settings)
    with _client(settings, transaction.redirect_uri) as client:
        try:
            token = client.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code=code,
                                       code_verifier=transaction.verifier)  # fmt: skip
        except Exception as exc:  # OAuthError from the service, or the network
            raise OidcFailed(reason="未能从统一身份认证服务换取令牌") from exc
        claims = _id_token_claims(str(token.get("id_token") or ""), meta, settings, nonce=transaction.nonce)
        value = claims.get(settings.oidc_code_claim)
        if value is None and isinstance(meta.get("userinfo_endpoint"), str):
            value = _userinfo_claim(client, meta["userinfo_endpoint"], settings, subject=str(claims["sub"]))
    return Proof(value=value, issuer=meta["issuer"])


def conclude(session: Session, protector: Protector, account: SubjectAccount, proof: Proof) -> SubjectAccount:
    """Compares the proven subject with the account's: proven (`accounts.service.prove_identity`), or refused and
    audited (ClaimMismatch keeps the audit row). The caller runs it in a writer's transaction."""
    if not _is_subject(session, account, proof.value, protector):
        accounts_service.refuse_identity(session, account, method=METHOD, reason="claim-mismatch")
        raise ClaimMismatch()
    return accounts_service.prove_identity(session, account, method=METHOD, details={"issuer": proof.issuer})


def _id_token_claims(id_token: str, meta: dict[str, Any], settings: Settings, *, nonce: str) -> dict[str, Any]:
    if not id_token:
        raise OidcFailed(reason="统一身份认证服务未返回身份令牌")
    allowed = [a for a in meta.get("id_token_signing_alg_values_supported", SIGNING_ALGORITHMS)
               if a in SIGNING_ALGORITHMS] or list(SIGNING_ALGORITHMS)  # fmt: skip
    try:
        try:
            decoded = jwt.decode(id_token, _keys(meta, settings), algorithms=allowed)
        except JoseError:  # a rotated key: fetch the set once more
            decoded = jwt.decode(id_token, _keys(meta, settings, refresh=True), algorithms=allowed)
        jwt.JWTClaimsRegistry(
            leeway=60, iss={"essential": True, "value": meta["issuer"]},
            aud={"essential": True, "value": settings.oidc_client_id or ""}, exp={"essential": True},
            sub={"essential": True}, nonce={"essential": True, "value": nonce},
        ).validate(decoded.claims)  # fmt: skip
    except (JoseError, ValueError) as exc:
        raise OidcFailed(reason="身份令牌校验未通过") from exc
    return dict(decoded.claims)


def _keys(meta: dict[str, Any], settings: Settings, *, refresh: bool = False) -> KeySet:
    try:
        return KeySet.import_key_set(_cached(meta["jwks_uri"], settings, refresh=refresh))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OidcFailed(reason="统一身份认证服务的签名密钥无法读取") from exc


def _userinfo_claim(client: OAuth2Session, url: str, settings: Settings, *, subject: str) -> Any:
    try:
        response = client.get(url, timeout=settings.oidc_timeout_seconds)
        response.raise_for_status()
        info = response.json()
    except Exception as exc:
        raise OidcFailed(reason="未能从统一身份认证服务读取用户信息") from exc
    if not isinstance(info, dict) or info.get("sub") != subject:  # OIDC Core 5.3.2: sub must match the ID token
        raise OidcFailed(reason="用户信息与身份令牌不一致")
    return info.get(settings.oidc_code_claim)


def _is_subject(session: Session, account: SubjectAccount, value: Any, protector: Protector) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    subject = session.get(Subject, account.subject_id)
    assert subject is not None
    normalized = normalize_code(value)
    try:
        if subject.kind is SubjectKind.PERSON:
            given = protector.lookup_hash(validate_id_number(normalized))
            return subject.id_hash is not None and hmac.compare_digest(given, subject.id_hash)
        return subject.uscc is not None and hmac.compare_digest(validate_uscc(normalized), subject.uscc)
    except CodeError:
        return False
