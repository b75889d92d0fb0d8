"""Pure disclosure rules: the publication decision for one record, periods and masking."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from xinyong.catalog import Catalog
from xinyong.codes import mask_person_name
from xinyong.config import Settings
from xinyong.errors import DomainError
from xinyong.records.rules import add_months

MARKET = "market"
PERSON = "person"


class DisclosureConfigError(DomainError):
    code = "disclosure-config-invalid"
    status_code = 500
    message_template = "公示规则配置有误：{reason}"


@dataclass(frozen=True)
class DisclosurePolicy:
    """The configured part of the rules, checked against the catalogue once."""

    mask_person_names: bool = True
    publish_person_warnings: bool = False
    publish_market_warnings: bool = False
    warning_categories: frozenset[str] = frozenset({"警告"})
    department_classes: Mapping[str, str] = field(default_factory=dict)
    market_name_markers: tuple[str, ...] = ("市场监督管理",)
    # (record_type, department class or None) → {tier: months}
    max_months: Mapping[tuple[str, str | None], Mapping[str, int]] = field(default_factory=dict)

    def department_class(self, code: str, name: str) -> str | None:
        if code in self.department_classes:
            return self.department_classes[code]
        if any(marker in name for marker in self.market_name_markers):
            return MARKET
        return None

    def months_for(self, record_type: str, department_class: str | None, tier: str | None) -> int | None:
        """The configured maximum for this record, or None when the catalogue's own applies."""
        if tier is None:
            return None
        keys: list[tuple[str, str | None]] = [(record_type, department_class)] if department_class else []
        keys.append((record_type, None))
        for key in keys:
            months = self.max_months.get(key, {}).get(tier)
            if months is not None:
                return months
        return None


def policy_from_settings(settings: Settings, catalog: Catalog) -> DisclosurePolicy:
    """Build the policy; periods may only shorten the catalogue's, and never below a tier's legal minimum
    (轻微 has none: it may go unpublished)."""
    parsed: dict[tuple[str, str | None], dict[str, int]] = {}
    for key, tiers in settings.disclosure_max_months.items():
        record_type, _, klass = key.partition(":")
        if record_type not in catalog.types:
            raise DisclosureConfigError(reason=f"未知的信息类别 {record_type}")
        publicity = catalog.types[record_type].publicity
        if publicity.mode != "tiered":
            raise DisclosureConfigError(reason=f"{record_type} 不是分级公示的信息类别")
        for tier, months in tiers.items():
            if tier not in publicity.max_months:
                raise DisclosureConfigError(reason=f"{key} 中未知的失信等级 {tier}")
            low, high = publicity.min_months.get(tier, 0), publicity.max_months[tier]
            if not (low <= months <= high) and not (months == 0 and low == 0):
                raise DisclosureConfigError(reason=f"{key} 的{tier}公示期 {months} 个月超出 {low}–{high} 个月")
        parsed[(record_type, klass or None)] = dict(tiers)
    return DisclosurePolicy(
        mask_person_names=settings.portal_mask_person_names,
        publish_person_warnings=settings.disclosure_publish_person_warnings,
        publish_market_warnings=settings.disclosure_publish_market_warnings,
        warning_categories=frozenset(settings.disclosure_warning_categories),
        department_classes=dict(settings.disclosure_department_classes),
        market_name_markers=tuple(settings.disclosure_market_name_markers),
        max_months=parsed,
    )


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What the decision needs to know about one record."""

    record_type: str
    is_active: bool
    decision_date: date
    publish_until: date | None
    tier: str | None
    categories: tuple[str, ...]
    subject_kind: str
    department_class: str | None


def last_day(facts: RecordFacts, policy: DisclosurePolicy) -> date | None:
    """Last day of publication (inclusive); None when publication has no end (licences)."""
    end = facts.publish_until
    months = policy.months_for(facts.record_type, facts.department_class, facts.tier)
    if months is not None:
        configured = add_months(facts.decision_date, months) - timedelta(days=1)
        end = configured if end is None or configured < end else end
    return end


def is_warning_only(categories: tuple[str, ...], policy: DisclosurePolicy) -> bool:
    return bool(categories) and set(categories) <= policy.warning_categories


def withheld_reason(facts: RecordFacts, policy: DisclosurePolicy, today: date) -> str | None:
    """Why the record is not public today, or None when it is. Codes are stable (the sweep stores them)."""
    if not facts.is_active:
        return "revoked"
    if facts.decision_date > today:
        return "not-yet-decided"
    if is_warning_only(facts.categories, policy):
        if facts.subject_kind == PERSON and not policy.publish_person_warnings:
            return "person-warning"
        if facts.department_class == MARKET and not policy.publish_market_warnings:
            return "market-warning"
    end = last_day(facts, policy)
    if end is not None and end < today:
        return "expired"
    return None


def is_published(facts: RecordFacts, policy: DisclosurePolicy, today: date) -> bool:
    return withheld_reason(facts, policy, today) is None


def earliest_published_decision(today: date, months: int) -> date:
    """The earliest decision date whose period of `months` still covers `today`: add_months clamps at
    month ends, so the boundary is found exactly instead of by subtracting months."""
    if months <= 0:
        return today + timedelta(days=1)  # nothing qualifies
    guess = add_months(today, -months)
    day = guess - timedelta(days=4)
    while add_months(day, months) - timedelta(days=1) < today:
        day += timedelta(days=1)
    return day


def split_categories(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.replace("；", ";").split(";") if part.strip())


def public_name(name: str, subject_kind: str, policy: DisclosurePolicy) -> str:
    if subject_kind == PERSON and policy.mask_person_names:
        return mask_person_name(name)
    return name
