"""The region tree: registering regions, their portals' host names, and reading the tree.

The tree is small (a city has a dozen districts and counties) and read on every console request and every
portal page, so it is kept in the per-process reference cache and walked in Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import column as sa_column
from sqlalchemy import select, update
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Session

from xinyong import refcache
from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.codes import clean_display_name
from xinyong.config import Settings
from xinyong.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from xinyong.regions import rules
from xinyong.regions.models import Region

refcache.watch(Region)


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    parent: str | None
    host: str | None


CITY_TOTAL = "全市合计"


@dataclass(frozen=True)
class Group:
    """A line of a per-region summary: a region directly under the one summed (with the regions under it), or
    that region's own departments (`is_own`, "本级")."""

    code: str
    name: str
    codes: frozenset[str]
    is_own: bool = False


@dataclass(frozen=True)
class RegionTree:
    """Every registered region. Empty on an install that never registered one: it then serves one region, its
    own, and nothing is scoped by region."""

    nodes: dict[str, Node] = field(default_factory=dict)

    @property
    def root(self) -> Node | None:
        return next((n for n in self.nodes.values() if n.parent is None), None)

    @property
    def is_multi(self) -> bool:
        return len(self.nodes) > 1

    def get(self, code: str | None) -> Node | None:
        return self.nodes.get(code) if code else None

    def children(self, code: str) -> list[Node]:
        return sorted((n for n in self.nodes.values() if n.parent == code), key=lambda n: n.code)

    def ancestors(self, code: str) -> Iterator[Node]:
        """The region's parent, its parent's parent … up to the root (the tree holds no cycle: see `_check`)."""
        seen: set[str] = {code}
        node = self.nodes.get(code)
        while node is not None and node.parent is not None and node.parent not in seen:
            seen.add(node.parent)
            node = self.nodes.get(node.parent)
            if node is not None:
                yield node

    def subtree(self, code: str) -> frozenset[str]:
        """The region and every region under it."""
        found, frontier = {code}, [code]
        while frontier:
            current = frontier.pop()
            for child in self.children(current):
                if child.code not in found:
                    found.add(child.code)
                    frontier.append(child.code)
        return frozenset(found)

    def walk(self) -> Iterator[tuple[int, Node]]:
        """(depth, node) from the root down, children in code order: the tree as the console draws it."""
        root = self.root
        if root is None:
            return
        stack = [(0, root)]
        while stack:
            depth, node = stack.pop()
            yield depth, node
            stack.extend((depth + 1, child) for child in reversed(self.children(node.code)))

    def breakdown(self, code: str) -> list[Group]:
        """The lines a region's figures are summed in: one per region directly under it (a city: its counties),
        then its own departments ("湖州市（本级）"; named plainly when nothing is under it). A department counts in
        the line whose `codes` hold its region (`group_of`)."""
        children = self.children(code)
        node = self.nodes.get(code)
        own = (node.name if node else code) + ("（本级）" if children else "")
        return [Group(c.code, c.name, self.subtree(c.code)) for c in children] + [Group(code, own, frozenset({code}), True)]

    @staticmethod
    def group_of(groups: list[Group], region: str | None) -> Group:
        """The line of `breakdown` a department of `region` counts in: its county's, else the region's own."""
        return next((g for g in groups if not g.is_own and region is not None and region in g.codes), groups[-1])

    def by_host(self, host: str) -> Node | None:
        return next((n for n in self.nodes.values() if n.host and n.host == host), None)

    def total_name(self, code: str | None) -> str:
        """The name of a summary's total line: 全市合计 for the platform (no region, the root's, an unregistered
        one, or an install of one region), else the region's ("德清县合计")."""
        root = self.root
        if code is None or not self.is_multi or self.get(code) is None or (root is not None and code == root.code):
            return CITY_TOTAL
        return f"{self.nodes[code].name}合计"

    def display_name(self, code: str) -> str:
        """The region's name as a visitor reads it: "日照市莒县" for a county under a city, else its name."""
        node = self.nodes.get(code)
        if node is None:
            return ""
        parent = self.nodes.get(node.parent) if node.parent else None
        if parent is not None and rules.level(parent.code) == "city" and not node.name.startswith(parent.name):
            return parent.name + node.name
        return node.name


def tree(session: Session) -> RegionTree:
    return refcache.get(session, "regions.tree", _load)


def _load(session: Session) -> RegionTree:
    table = Region.__table__.c
    rows = session.connection().execute(select(table.code, table.name, table.parent_code, table.host)).all()
    return RegionTree({code: Node(code, name, parent, host) for code, name, parent, host in rows})


def get_region(session: Session, code: str) -> Region:
    region = session.get(Region, "".join((code or "")[:32].split()))
    if region is None:
        raise NotFound(what=f"行政区划 {code[:32]}（请先用 xinyong regions add 登记）")
    return region


def _clean(code: str) -> str:
    try:
        return rules.clean_code(code)
    except rules.RegionCodeError as exc:
        raise InvalidInput(reason=str(exc)) from None


def _host(text: str | None) -> str | None:
    try:
        return rules.clean_host(text)
    except rules.RegionCodeError as exc:
        raise InvalidInput(reason=str(exc)) from None


def _check_parent(session: Session, code: str, parent: str) -> None:
    """A parent must be registered, must hold the code by GB/T 2260, and must not lie under the region."""
    current = tree(session)
    if current.get(parent) is None:
        raise InvalidInput(reason=f"上级行政区划 {parent} 尚未登记")
    if parent == code or any(a.code == code for a in current.ancestors(parent)):
        raise InvalidInput(reason=f"{parent} 是 {code} 自身或其下级，不能作为其上级（区划树不能成环）")
    if not rules.may_contain(parent, code):
        raise InvalidInput(reason=f"{code} 不属于 {parent}（GB/T 2260 代码不相容）")


def _nearest_registered(session: Session, code: str) -> str | None:
    """The registered region that holds `code` most closely by its digits (its city, then its province), else
    the root when the root holds it."""
    current = tree(session)
    for candidate in (code[:4] + "00", code[:2] + "0000"):
        if candidate != code and current.get(candidate) is not None and rules.may_contain(candidate, code):
            return candidate
    root = current.root
    return root.code if root is not None and rules.may_contain(root.code, code) else None


def add_region(session: Session, *, code: str, name: str | None = None, parent: str | None = None,
               host: str | None = None, actor: Actor | None = None) -> Region:  # fmt: skip
    """Register a region. The first becomes the root (the platform's own region); every later one sits under a
    registered region that holds its code (its city, or the root by default)."""
    actor = actor or Actor.system("cli")
    code = _clean(code)
    if session.get(Region, code) is not None:
        raise AlreadyExists(what=f"行政区划 {code}")
    empty = tree(session).root is None
    if parent:
        parent = _clean(parent)
    elif not empty:
        parent = _nearest_registered(session, code)
        if parent is None:
            raise InvalidInput(reason=f"{code} 不在本平台的行政区划（{tree(session).root.code}）之内"  # type: ignore[union-attr]
                                      "，请用 --parent 指明上级")  # fmt: skip
    if empty and parent:
        raise InvalidInput(reason="第一个登记的行政区划是本平台自身的区划，不能有上级")
    if parent:
        _check_parent(session, code, parent)
    title = clean_display_name(name or "") or rules.official_name(code) or code
    region = Region(code=code, name=title[:100], parent_code=parent, host=_unique_host(session, _host(host), code))
    session.add(region)
    session.flush()
    if empty:
        _adopt_departments(session, code)
    audit.record(session, AuditAction.REGION_CREATED, actor=actor, target=f"region:{code}",
                 details={"code": code, "name": region.name, "parent": parent, "host": region.host})  # fmt: skip
    return region


def _adopt_departments(session: Session, root: str) -> None:
    """The platform's own region, registered first, holds every department registered before it."""
    departments = sa_table("departments", sa_column("region"))
    session.execute(update(departments).values(region=root))


def _unique_host(session: Session, host: str | None, code: str) -> str | None:
    if host is None:
        return None
    other = session.scalar(select(Region.code).where(Region.host == host, Region.code != code))
    if other is not None:
        raise AlreadyExists(what=f"门户域名 {host}（已用于 {other}）")
    return host


def update_region(session: Session, code: str, *, name: str | None = None, parent: str | None = None,
                  host: str | None = None, clear_host: bool = False, actor: Actor) -> Region:  # fmt: skip
    region = get_region(session, code)
    changes: dict[str, object] = {}
    if name is not None:
        title = clean_display_name(name)[:100]
        if not title:
            raise InvalidInput(reason="行政区划名称不能为空")
        if title != region.name:
            changes["name"], region.name = title, title
    if parent is not None:
        parent = _clean(parent)
        if region.parent_code is None:
            raise InvalidInput(reason="本平台自身的区划（根）不能移到其他区划之下（区划树不能成环）")
        if parent != region.parent_code:
            _check_parent(session, region.code, parent)
            changes["parent"], region.parent_code = parent, parent
    if clear_host or host is not None:
        new_host = None if clear_host else _unique_host(session, _host(host), region.code)
        if new_host != region.host:
            changes["host"], region.host = new_host, new_host
    if changes:
        session.flush()
        audit.record(session, AuditAction.REGION_UPDATED, actor=actor, target=f"region:{region.code}", details=changes)
    return region


def list_regions(session: Session) -> list[tuple[int, Node]]:
    return list(tree(session).walk())


def ensure_manages(session: Session, actor: Actor, code: str | None) -> None:
    """Only an actor whose region is the root (or unscoped) registers regions and moves departments."""
    if actor.region is None:
        return
    root = tree(session).root
    if root is None or actor.region != root.code or code is None:
        raise PermissionDenied("只有本平台（市级）信用办可以维护行政区划")


def reachable(session: Session, actor: Actor) -> frozenset[str] | None:
    """The region codes the actor's data scope covers (None: all of them)."""
    return covered(session, actor.region)


def portal_url(session: Session, settings: Settings, region: str | None) -> str | None:
    """The public address of `region`'s portal, for links that leave the platform (e-mails): the region's own host
    name when it has one (with the scheme of the platform's address, https by default); else the platform's
    address (`XINYONG_REPORTS_PUBLIC_URL`) followed by `/region/<code>` for a region that is not the root. None
    when neither is known: a link must not point at an address the platform does not answer on."""
    base = settings.reports_public_url.strip().rstrip("/")
    current = tree(session)
    node = current.get(region)
    if node is not None and node.host:
        return f"{(urlsplit(base).scheme if base else '') or 'https'}://{node.host}"
    if not base:
        return None
    root = current.root
    if node is None or root is None or node.code == root.code:
        return base
    return f"{base}/region/{node.code}"


def covered(session: Session, region: str | None) -> frozenset[str] | None:
    """`region` and the regions under it; None when that is the whole platform (no region, the root's, or an
    install without a tree), so that callers add no condition at all."""
    if region is None:
        return None
    current = tree(session)
    root = current.root
    if root is None or region == root.code:
        return None
    return current.subtree(region)
