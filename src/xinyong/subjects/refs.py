"""Public references to subjects and records in URLs.

Organisations are addressed by their USCC. Everything else (natural persons, subjects without a USCC,
records) gets a signed reference, so that nobody can walk sequential ids to list persons in bulk.
"""

from __future__ import annotations

import hmac

from xinyong.protect import Protector
from xinyong.subjects.models import Subject

_SIG_LEN = 16


def _sign(protector: Protector, kind: str, number: int) -> str:
    return protector.lookup_hash(f"portal-ref:{kind}:{number}")[:_SIG_LEN]


def subject_ref(subject: Subject, protector: Protector) -> str:
    if subject.uscc:
        return subject.uscc
    return f"s{subject.id}-{_sign(protector, 's', subject.id)}"


def parse_subject_ref(ref: str, protector: Protector) -> int | None:
    """The subject id in a signed reference, or None when it is not one (or the signature is wrong)."""
    return _parse(ref.removeprefix("s"), "s", protector) if ref.startswith("s") else None


def record_ref(record_id: int, protector: Protector) -> str:
    return f"{record_id}-{_sign(protector, 'r', record_id)}"


def parse_record_ref(ref: str, protector: Protector) -> int | None:
    return _parse(ref, "r", protector)


def _parse(text: str, kind: str, protector: Protector) -> int | None:
    number, _, signature = text.partition("-")
    if not number.isdigit() or len(number) > 12 or not signature:
        return None
    value = int(number)
    return value if hmac.compare_digest(signature, _sign(protector, kind, value)) else None
