"""The audit chain's keys, held outside the database.

The key of generation g is HKDF(master key, "audit-chain:g"): whoever can write the database but cannot read
the master key (key file or environment of the application servers) cannot produce a valid link. Rotation
raises `audit_key_generation`; entries name the key that signed them (`key_id`, a fingerprint), so earlier
generations, still derivable from the master key, verify the entries written before. After a change of the
master key itself, the former key files (`audit_former_key_files`) let earlier entries verify.

Sessions carry the keys in `Session.info`: the application and the command line attach them to their session
factory, so every `audit.record` in any domain signs without being handed a key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from xinyong.audit.rules import key_fingerprint
from xinyong.config import Settings
from xinyong.errors import DomainError
from xinyong.protect import KeyMissing, derived_key, load_master_key

INFO_KEY = "xinyong.audit.keys"


class AuditKeyMissing(DomainError):
    code = "audit-key-missing"
    status_code = 500
    message_template = "审计密钥未配置，无法写入或核验审计日志"


@dataclass(frozen=True)
class AuditKeys:
    current_id: str
    keys: Mapping[str, bytes]  # key id -> key: every key that may have signed an entry or a checkpoint
    checkpoint_file: Path | None  # None: this session publishes no checkpoints and verify checks none
    checkpoint_every: int = 0

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    def without_checkpoints(self) -> AuditKeys:
        return dataclasses.replace(self, checkpoint_file=None, checkpoint_every=0)


def _purpose(generation: int) -> str:
    return f"audit-chain:{generation}"


def load(settings: Settings) -> AuditKeys:
    master = load_master_key(settings)
    masters = [master]
    for path in settings.audit_former_key_files:
        try:
            masters.append(Path(path).read_text().strip().encode())
        except OSError as exc:
            raise KeyMissing(reason=f"无法读取以前的主密钥文件 {path}（{exc.strerror}）") from None
    keys: dict[str, bytes] = {}
    for candidate in masters:
        for generation in range(1, settings.audit_key_generation + 1):
            key = derived_key(candidate, _purpose(generation))
            keys.setdefault(key_fingerprint(key), key)
    current_id = key_fingerprint(derived_key(master, _purpose(settings.audit_key_generation)))
    return AuditKeys(current_id=current_id, keys=keys,
                     checkpoint_file=Path(settings.audit_checkpoint_file),
                     checkpoint_every=settings.audit_checkpoint_every)  # fmt: skip


def attach(factory: sessionmaker[Session], keys: AuditKeys) -> sessionmaker[Session]:
    """Every session the factory makes signs audit entries with these keys."""
    factory.configure(info={**factory.kw.get("info", {}), INFO_KEY: keys})
    return factory


def of(session: Session) -> AuditKeys:
    keys = session.info.get(INFO_KEY)
    if not isinstance(keys, AuditKeys):
        raise AuditKeyMissing()
    return keys
