"""The hook through which 信易+ tells the points page what a band unlocks (scenarios register themselves here;
points know nothing of them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

# (session, band key, today) → [(scenario name, benefit, provider)]
Provider = Callable[[Session, str, date], list[tuple[str, str, str]]]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def unlocked(session: Session, band: str, today: date) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for provider in _providers:
        found.extend(provider(session, band, today))
    return found
