"""Reference data set per region, inherited from the parent by default (按区划设置的基础数据).

Every kind of reference data that a region may set (list types, measures, calendar days, the evaluation model,
the commitment templates) follows one rule: an entry carries the region it belongs to, NULL for the platform's
own entries (the root region's), and the effective set for a region R is R's own entries, then its parent's,
… up to the platform's, the nearest one winning for each key. A region without entries of its own inherits
everything; a sibling's entries never apply.

The root region's entries are the platform's own: whoever names the root (``--region 330500`` on a city
install) edits the NULL rows, so single-region installs keep the rows they always had.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import refcache
from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.db import utcnow
from xinyong.errors import InvalidInput, NotFound, PermissionDenied
from xinyong.regions import rules
from xinyong.regions.models import RegionSetting
from xinyong.regions.service import tree

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

refcache.watch(RegionSetting)

Chain = tuple[str | None, ...]


def chain(session: Session, region: str | None) -> Chain:
    """The regions whose entries apply to `region`, nearest first, ending with None (the platform's own).

    Lenient: an unregistered region (a department whose code is not in the tree, a single-region install)
    and the root itself read the platform's own entries only."""
    current = tree(session)
    node = current.get(region)
    root = current.root
    if node is None or root is None or node.code == root.code:
        return (None,)
    found: list[str | None] = [node.code]
    found.extend(a.code for a in current.ancestors(node.code) if a.code != root.code)
    found.append(None)
    return tuple(found)


def effective(rows: Iterable[T], regions: Chain, *, key: Callable[[T], K],
              region: Callable[[T], str | None]) -> dict[K, T]:  # fmt: skip
    """For each key, the row of the nearest region of `regions` (see `chain`); rows of other regions are left
    out. The result keeps the rows' order of first appearance of each key."""
    rank = {code: i for i, code in enumerate(regions)}
    best: dict[K, tuple[int, T]] = {}
    for row in rows:
        r = rank.get(region(row))
        if r is None:
            continue
        k = key(row)
        held = best.get(k)
        if held is None or r < held[0]:
            best[k] = (r, row)
    return {k: row for k, (_, row) in best.items()}


def owner(session: Session, code: str | None) -> str | None:
    """The region an edit names, as stored: None for the platform's own (no code, or the root's code).

    Strict: a malformed code is InvalidInput, an unregistered one NotFound."""
    text = "".join((code or "").split())
    if not text:
        return None
    try:
        clean = rules.clean_code(text)
    except rules.RegionCodeError as exc:
        raise InvalidInput(reason=str(exc)) from None
    current = tree(session)
    if current.get(clean) is None:
        raise NotFound(what=f"行政区划 {clean}（请先用 xinyong regions add 登记）")
    root = current.root
    return None if root is not None and root.code == clean else clean


def is_platform_wide(session: Session, actor: Actor) -> bool:
    """Whether the actor acts for the whole platform: no region (the command line, single-region installs) or
    the root's (the city's 信用办)."""
    if actor.region is None:
        return True
    root = tree(session).root
    return root is None or actor.region == root.code  # an install without a region tree scopes nothing


def applies_to(session: Session, actor: Actor, region: str | None) -> bool:
    """Whether an entry of `region` applies where the actor acts (platform-wide actors: every entry)."""
    return is_platform_wide(session, actor) or region in chain(session, actor.region)


def ensure_edits(session: Session, actor: Actor, region: str | None) -> None:
    """A county's 信用办 edits its own region's entries only; the platform's (the root's) 信用办, and actors
    without a region (the command line), edit any region's. `region` as `owner` returns it."""
    if is_platform_wide(session, actor):
        return
    if region != actor.region:
        raise PermissionDenied("只能维护本区划的基础数据；上级和其他区划的由其信用办维护")


def for_actor(session: Session, actor: Actor, code: str | None) -> str | None:
    """The region an actor's edit goes to: the named one (checked), else the actor's own region (the platform's
    own when that is the root or not registered)."""
    region = owner(session, code) if code else chain(session, actor.region)[0]
    ensure_edits(session, actor, region)
    return region


def label(session: Session, region: str | None) -> str:
    """How the console and the command line name an entry's region."""
    if region is None:
        return "全平台"
    return tree(session).display_name(region) or region


# ------------------------------------------------------------------------------ settings of file-based kinds


def _settings(session: Session) -> dict[tuple[str | None, str], str]:
    return refcache.get(session, "regions.settings", lambda s: {
        (row.region_code, row.name): row.value for row in s.scalars(select(RegionSetting))})  # fmt: skip


def setting(session: Session, region: str | None, name: str) -> str | None:
    """The value of setting `name` for `region`: its own, else its nearest ancestor's, else the platform's."""
    values = _settings(session)
    for code in chain(session, region):
        value = values.get((code, name))
        if value is not None:
            return value
    return None


def own_setting(session: Session, region: str | None, name: str) -> str | None:
    return _settings(session).get((region, name))


def set_setting(session: Session, region: str | None, name: str, value: str | None, *, actor: Actor) -> None:
    """Set (or, with None, clear: inherit again) a region's setting. `region` as `owner` returns it."""
    ensure_edits(session, actor, region)
    row = session.scalar(select(RegionSetting).where(
        RegionSetting.name == name,
        RegionSetting.region_code.is_(None) if region is None else RegionSetting.region_code == region))  # fmt: skip
    if value is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(RegionSetting(region_code=region, name=name, value=value[:500]))
    else:
        row.value, row.updated_at = value[:500], utcnow()
    session.flush()
    audit.record(session, AuditAction.REGION_SETTING_SAVED, actor=actor, target=f"region:{region or '-'}",
                 details={"name": name, "value": value})  # fmt: skip
