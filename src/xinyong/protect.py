"""Protection of personal identifiers at rest.

ID numbers are stored twice, neither readable from the database alone: a keyed hash (HMAC-SHA256) for
exact look-ups, and an AES-GCM ciphertext that only the platform, holding the master key, can open for
roles allowed to see the full number. Both keys, and the audit chain's key (`xinyong.audit.keys`), are
derived from one master key with HKDF.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from xinyong.config import Settings
from xinyong.errors import DomainError


class KeyMissing(DomainError):
    code = "secret-key-missing"
    status_code = 500
    message_template = "平台主密钥无效：{reason}"


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"xinyong:" + purpose).derive(master)


def derived_key(master_key: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose (e.g. the audit chain's), independent of every other purpose's key."""
    if len(master_key) < 32:
        raise KeyMissing(reason="至少需要 32 字节")
    return _derive(master_key, purpose.encode())


class Protector:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) < 32:
            raise KeyMissing(reason="至少需要 32 字节")
        self._hash_key = _derive(master_key, b"lookup-hash")
        self._aead = AESGCM(_derive(master_key, b"seal"))

    def lookup_hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()

    def seal(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def unseal(self, token: str) -> str:
        raw = base64.urlsafe_b64decode(token.encode())
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()


def load_master_key(settings: Settings) -> bytes:
    """The configured key, or the key file, created with a fresh random key on first use."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.secret_key_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


@lru_cache(maxsize=8)
def _protector_for(master_key: bytes) -> Protector:
    return Protector(master_key)


def protector(settings: Settings) -> Protector:
    return _protector_for(load_master_key(settings))
