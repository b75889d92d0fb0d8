"""信易+ use-cases: the registry (rules that name unknown grades, lists or bands are refused), the public
catalogue, and the eligibility check: yes or no with the rule, never the record; each use counted."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.codes import clean_display_name, mask_id_numbers
from xinyong.config import Settings
from xinyong.errors import InvalidInput, NotFound
from xinyong.evaluation import service as evaluation_service
from xinyong.freetext import clean_text
from xinyong.lists import service as lists_service
from xinyong.lists.models import ListNature, ListType
from xinyong.points import benefits
from xinyong.points import service as points_service
from xinyong.protect import Protector
from xinyong.scenarios.models import Scenario, ScenarioUse
from xinyong.subjects import service as subjects_service

PROVIDER_KINDS = {"department": "政府部门", "agency": "公共服务机构", "merchant": "市场主体（商户）"}
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


def known_grades(session: Session, settings: Settings) -> dict[str, str]:
    """The evaluation grades a rule may name: those of the latest loaded model (the built-in one when none is)."""
    try:
        spec = evaluation_service.model_of(session, evaluation_service.pick_model(session), settings=settings)
    except evaluation_service.NoModel:  # none loaded yet: the grades the built-in model declares
        raw = tomllib.loads(evaluation_service.BUILTIN_MODEL.read_text(encoding="utf-8"))
        return {str(g["symbol"]): str(g["label"]) for g in raw.get("grades", [])}
    return {g.symbol: g.label for g in spec.grades}


def honour_lists(session: Session) -> dict[str, str]:
    return {t.key: t.name for t in session.scalars(select(ListType).where(ListType.nature == ListNature.HONOR.value))}


def _clean_keys(values: list[str], known: dict[str, str] | frozenset[str], what: str) -> list[str]:
    cleaned = list(dict.fromkeys(v.strip() for v in values if v.strip()))
    unknown = [v for v in cleaned if v not in known]
    if unknown:
        raise InvalidInput(reason=f"规则引用了未知的{what}：{'、'.join(u[:30] for u in unknown[:5])}")
    return cleaned


def save_scenario(session: Session, *, key: str, name: str, provider: str, provider_kind: str, benefit: str,
                  grades: list[str], list_types: list[str], points_bands: list[str], basis: str, valid_from: date,
                  valid_until: date | None, actor: Actor, settings: Settings) -> Scenario:  # fmt: skip
    key = (key or "").strip().lower()
    if not KEY_RE.match(key):
        raise InvalidInput(reason="场景标识须为 2–40 位小写字母、数字或连字符")
    if provider_kind not in PROVIDER_KINDS:
        raise InvalidInput(reason="提供方类型须为政府部门、公共服务机构或市场主体")
    name = mask_id_numbers(clean_display_name(name))[:100]  # an ID number typed into a name is never kept
    provider = mask_id_numbers(clean_display_name(provider))[:200]
    if not name or not provider:
        raise InvalidInput(reason="请填写场景名称和提供方")
    benefit = clean_text(benefit, title="激励内容", min_length=2, max_length=500)
    basis = clean_text(basis, title="依据（法律法规或合作协议）", min_length=4, max_length=2000)
    grades = _clean_keys(grades, known_grades(session, settings), "评价等级")
    list_types = _clean_keys(list_types, honour_lists(session), "守信名单")
    points_bands = _clean_keys(points_bands, points_service.model().band_keys, "积分档次")
    if not (grades or list_types or points_bands):
        raise InvalidInput(reason="请至少设置一项适用条件（评价等级、守信名单或积分档次）")
    if valid_until is not None and valid_until < valid_from:
        raise InvalidInput(reason="有效期截止日不能早于起始日")
    scenario = session.scalar(select(Scenario).where(Scenario.key == key)) or Scenario(key=key)
    scenario.name, scenario.provider, scenario.provider_kind, scenario.benefit = name, provider, provider_kind, benefit
    scenario.grades, scenario.list_types, scenario.points_bands = grades, list_types, points_bands
    scenario.basis, scenario.valid_from, scenario.valid_until, scenario.is_active = basis, valid_from, valid_until, True
    session.add(scenario)
    session.flush()
    audit.record(session, AuditAction.SCENARIO_SAVED, actor=actor, target=f"scenario:{scenario.key}",
                 details={"grades": grades, "list_types": list_types, "points_bands": points_bands})  # fmt: skip
    return scenario


def in_force(scenario: Scenario, today: date) -> bool:
    return scenario.is_active and scenario.valid_from <= today and (scenario.valid_until is None
                                                                   or scenario.valid_until >= today)  # fmt: skip


def rule_text(session: Session, scenario: Scenario) -> str:
    bands = {b.key: b.name for b in points_service.model().bands}
    lists = honour_lists(session)
    parts = []
    if scenario.grades:
        parts.append(f"公共信用综合评价等级为 {'、'.join(scenario.grades)}")
    if scenario.list_types:
        parts.append(f"列入{'、'.join(lists.get(k, k) for k in scenario.list_types)}")
    if scenario.points_bands:
        parts.append(f"本人开通的个人信用积分达到 {'、'.join(bands.get(k, k) for k in scenario.points_bands)} 档")
    return "；或".join(parts)


@dataclass(frozen=True)
class CatalogueEntry:
    scenario: Scenario
    rule: str
    uses: int
    provider_kind: str


def catalogue(session: Session, *, today: date) -> list[CatalogueEntry]:
    uses = use_counts(session)
    rows = session.scalars(select(Scenario).order_by(Scenario.provider_kind, Scenario.name))
    return [CatalogueEntry(s, rule_text(session, s), uses.get(s.id, 0), PROVIDER_KINDS.get(s.provider_kind, ""))
            for s in rows if in_force(s, today)]  # fmt: skip


def list_scenarios(session: Session) -> list[Scenario]:
    return list(session.scalars(select(Scenario).order_by(Scenario.name)))


def get_scenario(session: Session, key: str) -> Scenario:
    scenario = session.scalar(select(Scenario).where(Scenario.key == (key or "").strip()[:40]))
    if scenario is None:
        raise NotFound(what="该信易+场景")
    return scenario


@dataclass(frozen=True)
class Answer:
    eligible: bool
    rule: str  # the scenario's rule
    reason: str  # which condition held, or that none did; never the record behind it


def check(session: Session, key: str, *, code: str, asked_by: str, protector: Protector, settings: Settings,
          today: date) -> Answer:  # fmt: skip
    scenario = get_scenario(session, key)
    if not in_force(scenario, today):
        raise InvalidInput(reason="该场景不在有效期内")
    subject = subjects_service.find_by_code(session, (code or "").strip()[:40], protector)
    if subject is None:
        raise NotFound(what="该主体")
    reason = ""
    if scenario.grades:
        grade = evaluation_service.latest_grade(session, subject.id, settings=settings)
        if grade is not None and grade.grade in scenario.grades:
            reason = "符合：评价等级条件"
    if not reason and scenario.list_types:
        held = {m.type_key for m in lists_service.memberships(session, [subject.id], today=today).get(subject.id, [])}
        if held & set(scenario.list_types):
            reason = "符合：守信名单条件"
    if not reason and scenario.points_bands and subject.kind.value == "person":
        band = points_service.band_of(session, subject.id, today=today)
        if band is not None and band.key in scenario.points_bands:
            reason = "符合：个人信用积分条件"
    eligible = bool(reason)
    session.add(ScenarioUse(scenario_id=scenario.id, subject_id=subject.id, eligible=eligible, asked_by=asked_by[:100]))
    audit.record(session, AuditAction.SCENARIO_CHECKED, actor=asked_by, subject_id=subject.id,
                 target=f"scenario:{scenario.key}", details={"eligible": eligible})  # fmt: skip
    return Answer(eligible, rule_text(session, scenario), reason or "不符合本场景的适用条件")


def use_counts(session: Session) -> Counter[int]:
    return Counter(dict(session.execute(
        select(ScenarioUse.scenario_id, func.count()).group_by(ScenarioUse.scenario_id)).all()))  # type: ignore[arg-type]  # fmt: skip


def benefits_for_band(session: Session, band: str, today: date) -> list[tuple[str, str, str]]:
    return [(s.name, s.benefit, s.provider) for s in session.scalars(select(Scenario).order_by(Scenario.name))
            if in_force(s, today) and band in s.points_bands]  # fmt: skip


benefits.register(benefits_for_band)
