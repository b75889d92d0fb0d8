"""The hook through which other domains follow the 信用修复承诺 of the repair workflow, without this package
knowing them: a listener is told when a subject signs one (with its application) and when the 信用办 declares it
broken (违诺). Listeners write in the caller's transaction and raise DomainError to refuse the act. For example
the commitments domain keeps each repair commitment as a 信用修复型 commitment record:

    from xinyong.repair import hooks

    hooks.register(on_signed=keep_repair_commitment, on_broken=mark_repair_commitment_broken)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.config import Settings


@dataclass(frozen=True)
class SignedCommitment:
    application_id: int
    number: str  # the application's number (XF…)
    subject_id: int
    department_id: int  # the department that decides the repair (谁处罚、谁修复)
    account_id: int | None
    text: str
    text_sha256: str
    signed_on: date
    settings: Settings


@dataclass(frozen=True)
class BrokenCommitment:
    application_id: int
    reason: str  # 违反承诺的事实
    actor: Actor
    today: date
    settings: Settings


Signed = Callable[[Session, SignedCommitment], None]
Broken = Callable[[Session, BrokenCommitment], None]

_signed: list[Signed] = []
_broken: list[Broken] = []


def register(*, on_signed: Signed | None = None, on_broken: Broken | None = None) -> None:
    if on_signed is not None and on_signed not in _signed:
        _signed.append(on_signed)
    if on_broken is not None and on_broken not in _broken:
        _broken.append(on_broken)


def signed(session: Session, commitment: SignedCommitment) -> None:
    for listener in _signed:
        listener(session, commitment)


def broken(session: Session, commitment: BrokenCommitment) -> None:
    for listener in _broken:
        listener(session, commitment)
