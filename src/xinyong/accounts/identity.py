"""The identity methods a subject account can prove itself with, chosen by configuration
(`XINYONG_ACCOUNT_IDENTITY_METHODS`).

Each method checks its own proof in its own module and route, then calls `service.prove_identity`, which applies
the precedence rules and writes the audit row. A new method (another provincial service, a notarised letter
registered by staff …) is one more entry here, a portal form or redirect, and that one call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from xinyong.accounts import service
from xinyong.accounts.models import SubjectAccount
from xinyong.config import Settings
from xinyong.protect import Protector
from xinyong.subjects import refs


class IdentityMethod(Protocol):
    @property
    def key(self) -> str: ...

    def title(self, settings: Settings) -> str: ...

    def how(self, settings: Settings) -> str:
        """What the claimant does, in Chinese, for the identity page."""
        ...


@dataclass(frozen=True)
class ActivationCodeMethod:
    key: str = "activation_code"

    def title(self, settings: Settings) -> str:
        return "激活码"

    def how(self, settings: Settings) -> str:
        return ("携带营业执照（或身份证）及经办人身份证件到信用办或部门服务窗口申领激活码，或请信用办将激活码邮寄至"
                f"本主体登记的联系地址；激活码 {settings.activation_code_days} 天内有效，只能使用一次。")


@dataclass(frozen=True)
class OidcMethod:
    key: str = "oidc"

    def title(self, settings: Settings) -> str:
        return settings.oidc_title

    def how(self, settings: Settings) -> str:
        return (f"使用{settings.oidc_title}（电子营业执照或个人实名账户）登录；认证结果中的统一社会信用代码或身份证号码"
                "须与本账户注册的主体一致。")


_METHODS: tuple[IdentityMethod, ...] = (ActivationCodeMethod(), OidcMethod())
REGISTRY: dict[str, IdentityMethod] = {m.key: m for m in _METHODS}


def enabled(settings: Settings) -> list[IdentityMethod]:
    return [REGISTRY[key] for key in settings.account_identity_methods if key in REGISTRY]


def is_enabled(settings: Settings, key: str) -> bool:
    return key in settings.account_identity_methods


def page_context(session: Session, settings: Settings, protector: Protector, account: SubjectAccount) -> dict[str, Any]:
    """What the identity page shows an account that has not proven its subject yet."""
    subject = service.subject_of(session, account)
    return {"subject": subject, "account": account, "methods": enabled(settings), "settings": settings,
            "public_ref": refs.subject_ref(subject, protector)}  # fmt: skip
