"""What a report is made of, and the hook through which other domains fill its sections.

A report is a list of sections; a section holds groups of items; an item is a titled list of (title, value)
rows with its marks. Sections whose domain does not exist yet (信用承诺, 信用评价, 司法判决, 其他, and the
grades of 诚实守信) are filled by providers registered here, so that a domain plugs in without touching this
package:

    # e.g. in xinyong/commitments/reports.py, imported by xinyong/commitments/__init__.py
    from xinyong.reports import sections

    def commitments_section(session, scope):
        rows = service.published_commitments(session, scope.subject_id, start=scope.start, end=scope.end)
        return [sections.Group("信用承诺", [sections.Item(title=c.kind, rows=[("承诺事由", c.reason), …])
                                            for c in rows])]

    sections.register("commitments", commitments_section)

A provider is called with the session and a `Scope` (who the report is about, which kind, which span, today)
and returns groups; it must apply its own publication rules for `scope.kind == "public"` (the public report
shows exactly what the portal shows). It must not write. A section with no items prints "查询期内无相关信息".
Tags for the cover (存续/注销 …) come the same way, through `register_tags`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from xinyong.catalog import Catalog
from xinyong.config import Settings
from xinyong.reports.rules import PLUGGABLE


@dataclass
class Item:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    restricted: list[tuple[str, str]] = field(default_factory=list)  # shown to the subject only (own report)
    marks: list[str] = field(default_factory=list)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "rows": [list(r) for r in self.rows],
                "restricted": [list(r) for r in self.restricted], "marks": list(self.marks), "note": self.note}  # fmt: skip


@dataclass
class Group:
    title: str
    items: list[Item] = field(default_factory=list)
    note: str | None = None  # e.g. "另有 12 条未列出"
    total: int | None = None  # when more exist than are listed

    @property
    def count(self) -> int:
        return self.total if self.total is not None else len(self.items)

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "count": self.count, "note": self.note,
                "items": [i.as_dict() for i in self.items]}  # fmt: skip


@dataclass(frozen=True)
class Scope:
    subject_id: int
    subject_kind: str
    kind: str  # public | own | special
    today: date
    start: date | None  # the span of a special report; None: as of today
    end: date | None
    settings: Settings


Provider = Callable[[Session, Scope], list[Group]]
TagProvider = Callable[[Session, Scope], list[str]]

_providers: dict[str, list[Provider]] = {}
_tag_providers: list[TagProvider] = []
# Record types a provider shows in its own section, so that the 行政管理 section does not list them again:
# called with the catalogue, each answers the keys it claims.
_claims: list[Callable[[Catalog], Iterable[str]]] = []


def register(section: str, provider: Provider, *, claims: Callable[[Catalog], Iterable[str]] | None = None) -> None:
    if section not in PLUGGABLE:
        raise ValueError(f"section {section!r} cannot take providers (one of {sorted(PLUGGABLE)})")
    if provider not in _providers.setdefault(section, []):
        _providers[section].append(provider)
    if claims is not None and claims not in _claims:
        _claims.append(claims)


def claimed_types(catalog: Catalog) -> set[str]:
    """The record types some provider shows in its own section."""
    return {key for claim in _claims for key in claim(catalog)}


def register_tags(provider: TagProvider) -> None:
    if provider not in _tag_providers:
        _tag_providers.append(provider)


def unregister(provider: Provider | TagProvider) -> None:
    for providers in _providers.values():
        if provider in providers:
            providers.remove(provider)  # type: ignore[arg-type]
    if provider in _tag_providers:
        _tag_providers.remove(provider)  # type: ignore[arg-type]


def provided(section: str, session: Session, scope: Scope) -> list[Group]:
    groups: list[Group] = []
    for provider in _providers.get(section, ()):
        groups.extend(provider(session, scope))
    return groups


def provided_tags(session: Session, scope: Scope) -> list[str]:
    tags: list[str] = []
    for provider in _tag_providers:
        tags.extend(t for t in provider(session, scope) if t not in tags)
    return tags
