"""Use-cases of the measure list. Every change is a new version (or a retirement) with its audit entry."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong import refcache
from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.auth.service import ensure
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.errors import InvalidInput, NotFound
from xinyong.lists.models import ListType
from xinyong.measures import rules
from xinyong.measures.models import Measure, MeasureEffect, MeasureKind, MeasureStatus
from xinyong.measures.rules import MeasureDraft
from xinyong.regions import inherit

DEFAULT_MEASURES = Path(__file__).parent / "defaults.toml"


def _natures(session: Session) -> dict[str, str]:
    """The nature of each list type key (a region's override of a key keeps its nature)."""
    return {key: nature.value for key, nature in session.execute(select(ListType.key, ListType.nature))}


def _details(measure: Measure) -> dict[str, object]:
    return {"code": measure.code, "version": measure.version, "region": measure.region_code, "matter": measure.matter, "content": measure.content,
            "list_types": measure.list_types, "basis": measure.basis, "level": measure.level,
            "kind": measure.kind.value, "effect": measure.effect.value, "frequency": measure.frequency}  # fmt: skip


def _new_version(session: Session, code: str, version: int, draft: MeasureDraft, actor: Actor,
                 region: str | None) -> Measure:  # fmt: skip
    measure = Measure(code=code, version=version, region_code=region, status=MeasureStatus.CURRENT, matter=draft.matter,
                      content=draft.content, list_types=list(draft.list_types), basis=draft.basis, level=draft.level,
                      kind=MeasureKind(draft.kind), effect=MeasureEffect(draft.effect), frequency=draft.frequency,
                      actor=actor.label[:100])  # fmt: skip
    session.add(measure)
    session.flush()  # the audit entry names the version's id
    audit.record(session, AuditAction.MEASURE_SAVED, actor=actor, target=f"measure:{code}@{version}",
                 details=_details(measure))  # fmt: skip
    return measure


def create_measure(session: Session, draft: MeasureDraft, *, actor: Actor, settings: Settings,
                   region: str | None = None) -> Measure:  # fmt: skip
    """A new measure: the platform's own (applied everywhere), or a region's own (`region`, default the actor's
    region), applied in that region and the regions under it, in addition to those it inherits."""
    ensure(actor, Permission.MEASURES_WRITE)
    owner = inherit.for_actor(session, actor, region)
    clean = rules.validate(draft, matters=settings.check_matters, list_natures=_natures(session))
    count = session.scalar(select(func.count(func.distinct(Measure.code)))) or 0
    code = f"M{count + 1:04d}"
    while session.scalar(select(Measure.id).where(Measure.code == code).limit(1)):
        count += 1
        code = f"M{count + 1:04d}"
    return _new_version(session, code, 1, clean, actor, owner)


def current_version(session: Session, code: str) -> Measure:
    measure = session.scalar(select(Measure).where(Measure.code == code, Measure.status == MeasureStatus.CURRENT.value))
    if measure is None:
        raise NotFound(what=f"现行措施 {code}")
    return measure


def revise_measure(session: Session, code: str, draft: MeasureDraft, *, actor: Actor, settings: Settings) -> Measure:
    """A new version; the old one stays (checks that returned it still name it) but is superseded."""
    ensure(actor, Permission.MEASURES_WRITE)
    clean = rules.validate(draft, matters=settings.check_matters, list_natures=_natures(session))
    old = current_version(session, code)
    inherit.ensure_edits(session, actor, old.region_code)
    old.status, old.ended_at = MeasureStatus.SUPERSEDED, utcnow()
    session.flush()  # the old row leaves "current" before the new one joins it
    return _new_version(session, code, old.version + 1, clean, actor, old.region_code)


def retire_measure(session: Session, code: str, *, reason: str, actor: Actor) -> Measure:
    ensure(actor, Permission.MEASURES_WRITE)
    if len((reason or "").strip()) < 4:
        raise InvalidInput(reason="请填写停用理由（至少 4 个字）")
    measure = current_version(session, code)
    inherit.ensure_edits(session, actor, measure.region_code)
    measure.status, measure.ended_at = MeasureStatus.RETIRED, utcnow()
    audit.record(session, AuditAction.MEASURE_RETIRED, actor=actor, target=f"measure:{code}@{measure.version}",
                 reason=reason.strip())  # fmt: skip
    return measure


ALL_REGIONS = "*"


def current_measures(session: Session, *, matter: str | None = None, region: str | None = ALL_REGIONS) -> list[Measure]:
    """The current measures: by default every region's; with `region`, those applied in it (None: the
    platform's own): the platform's, its ancestors' and its own."""
    query = select(Measure).where(Measure.status == MeasureStatus.CURRENT.value)
    if matter is not None:
        query = query.where(Measure.matter == matter)
    rows = list(session.scalars(query.order_by(Measure.matter, Measure.code)))
    if region == ALL_REGIONS:
        return rows
    kept = inherit.effective(rows, inherit.chain(session, region), key=lambda m: m.code, region=lambda m: m.region_code)
    return [m for m in rows if kept.get(m.code) is m]


@dataclass(frozen=True)
class CurrentMeasure:
    """A read-only copy of a current measure version, shared between requests by the reference cache."""

    code: str
    version: int
    matter: str
    content: str
    list_types: tuple[str, ...]
    basis: str
    level: str
    kind: MeasureKind
    effect: MeasureEffect
    frequency: str | None


refcache.watch(Measure)


def current_for_matter(session: Session, matter: str, *, region: str | None = None) -> list[CurrentMeasure]:
    """The current measures of one matter applied in `region` (the checking department's), as a credit check
    applies them (per-process reference cache)."""
    regions = inherit.chain(session, region)
    return refcache.get(session, ("measures.current", matter, regions), lambda s: [
        CurrentMeasure(m.code, m.version, m.matter, m.content, tuple(m.list_types), m.basis, m.level, m.kind, m.effect,
                       m.frequency) for m in current_measures(s, matter=matter, region=regions[0])
    ])  # fmt: skip


def history(session: Session, code: str, *, actor: Actor | None = None) -> list[Measure]:
    """Every version of a measure; with `actor`, only a measure applied in the actor's region (another county's
    is NotFound to a county's account)."""
    rows = list(session.scalars(select(Measure).where(Measure.code == code).order_by(Measure.version.desc())))
    if not rows or (actor is not None and not inherit.applies_to(session, actor, rows[0].region_code)):
        raise NotFound(what=f"措施 {code}")
    return rows


def visible_measures(session: Session, actor: Actor) -> list[Measure]:
    """The current measures the console shows an account: those applied in its region (every region's for the
    platform's own accounts)."""
    return current_measures(session, region=ALL_REGIONS if inherit.is_platform_wide(session, actor) else actor.region)


def applicable(measures: list[CurrentMeasure], *, matter: str, member_of: set[str]) -> list[CurrentMeasure]:
    return [m for m in measures if rules.applies(m.matter, m.list_types, matter, member_of)]


def load_measures_file(session: Session, path: Path, *, actor: Actor, settings: Settings,
                       region: str | None = None) -> list[Measure]:  # fmt: skip
    """Every `[[measures]]` of a TOML file becomes a new measure; all or nothing (the caller commits)."""
    try:
        items = tomllib.loads(path.read_text(encoding="utf-8")).get("measures", [])
        drafts = [MeasureDraft(matter=i["matter"], content=i["content"], list_types=tuple(i["list_types"]),
                               basis=i.get("basis", ""), level=i["level"], kind=i["kind"], effect=i["effect"],
                               frequency=i.get("frequency")) for i in items]  # fmt: skip
    except (KeyError, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(reason=f"无法读取措施文件：{exc}") from None
    return [create_measure(session, draft, actor=actor, settings=settings, region=region) for draft in drafts]
