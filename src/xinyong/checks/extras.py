"""The hook through which other domains add to a credit check's document, without this package knowing them.

A provider is called once per check (or batch) with the session and an `ExtrasQuery` (the found subjects, the
matter, the checking department, today) and returns, per subject id, a JSON-able value; the check document
carries it under `extras[<name>]` for that subject. A provider reads only; what it returns is kept with the
check like the rest of the document. For example, in xinyong/commitments:

    from xinyong.checks import extras

    def broken_commitments(session, query):
        return {subject_id: {...} for subject_id in query.subject_ids}

    extras.register("commitments", broken_commitments)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from xinyong.config import Settings


@dataclass(frozen=True)
class ExtrasQuery:
    subject_ids: list[int]
    matter: str
    department_id: int | None  # the checking department (None: the 信用办 or a system caller)
    today: date
    settings: Settings


Provider = Callable[[Session, ExtrasQuery], dict[int, Any]]

_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    _providers[name] = provider


def unregister(name: str) -> None:
    _providers.pop(name, None)


def collect(session: Session, query: ExtrasQuery) -> dict[int, dict[str, Any]]:
    """subject id → {provider name: value}, for the subjects some provider had something about."""
    found: dict[int, dict[str, Any]] = {}
    if not query.subject_ids:
        return found
    for name, provider in sorted(_providers.items()):
        for subject_id, value in provider(session, query).items():
            found.setdefault(subject_id, {})[name] = value
    return found
