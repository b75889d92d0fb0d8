"""Pure rules of subject accounts: activation code format, masking, the names of identity methods."""

from __future__ import annotations

import secrets

# 32 symbols without the look-alikes 0/O, 1/I/L: 16 of them carry 80 bits, far beyond guessing.
ACTIVATION_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
ACTIVATION_LENGTH = 16
ACTIVATION_CHANNELS = {"counter": "服务窗口当面领取", "post": "邮寄至登记的联系地址"}

METHOD_TITLES = {"activation_code": "激活码", "oidc": "统一身份认证"}


def new_activation_code() -> str:
    """A fresh code in its printed form: four groups of four (ABCD-EFGH-JKMN-PQRS)."""
    raw = "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(ACTIVATION_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, ACTIVATION_LENGTH, 4))


def normalize_activation_code(text: str) -> str | None:
    """The code as stored (hashed): upper case, without spaces and hyphens; None when it cannot be one."""
    value = "".join((text or "")[:64].split()).replace("-", "").replace("－", "").upper()
    if len(value) != ACTIVATION_LENGTH or not set(value) <= set(ACTIVATION_ALPHABET):
        return None
    return value


def mask_contact(address: str) -> str:
    """An e-mail address as shown to someone who is not its owner: q***@example.cn."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
