from __future__ import annotations

from datetime import date, timedelta

import pytest

from xinyong.catalog import load_catalog
from xinyong.config import Settings
from xinyong.disclosure import rules
from xinyong.disclosure.rules import DisclosureConfigError, DisclosurePolicy, RecordFacts
from xinyong.records.rules import add_months

DECIDED = date(2025, 1, 15)


def facts(**overrides: object) -> RecordFacts:
    values: dict[str, object] = {
        "record_type": "penalty", "is_active": True, "decision_date": DECIDED,
        "publish_until": date(2026, 1, 14), "tier": "一般", "categories": ("罚款",),
        "subject_kind": "organisation", "department_class": None,
    }  # fmt: skip
    values.update(overrides)
    return RecordFacts(**values)  # type: ignore[arg-type]


POLICY = DisclosurePolicy()


@pytest.mark.parametrize(
    ("today", "published"),
    [(date(2026, 1, 13), True), (date(2026, 1, 14), True), (date(2026, 1, 15), False)],
    ids=["day-before-end", "last-day", "day-after-end"],
)
def test_period_end_boundary(today, published):
    assert rules.is_published(facts(), POLICY, today) is published
    assert rules.withheld_reason(facts(), POLICY, today) == (None if published else "expired")


@pytest.mark.parametrize(
    ("today", "published"),
    [(DECIDED - timedelta(days=1), False), (DECIDED, True), (DECIDED + timedelta(days=1), True)],
    ids=["day-before-decision", "decision-day", "day-after-decision"],
)
def test_period_start_boundary(today, published):
    assert rules.is_published(facts(), POLICY, today) is published


def test_revoked_never_published():
    assert rules.withheld_reason(facts(is_active=False), POLICY, DECIDED) == "revoked"


def test_licences_have_no_end():
    licence = facts(record_type="license", publish_until=None, tier=None, categories=())
    assert rules.is_published(licence, POLICY, date(2099, 1, 1))


def test_person_warning_withheld_unless_configured():
    warning = facts(categories=("警告",), subject_kind="person", tier="轻微", publish_until=date(2025, 4, 14))
    assert rules.withheld_reason(warning, POLICY, DECIDED) == "person-warning"
    assert rules.is_published(warning, DisclosurePolicy(publish_person_warnings=True), DECIDED)
    # A warning together with a fine is not warning-only.
    assert rules.is_published(facts(categories=("警告", "罚款"), subject_kind="person"), POLICY, DECIDED)


def test_market_warning_withheld_unless_configured():
    warning = facts(categories=("警告",), department_class=rules.MARKET, tier="轻微", publish_until=date(2025, 4, 14))
    assert rules.withheld_reason(warning, POLICY, DECIDED) == "market-warning"
    assert rules.is_published(warning, DisclosurePolicy(publish_market_warnings=True), DECIDED)
    assert rules.is_published(facts(categories=("警告",), department_class=None), POLICY, DECIDED)


def test_department_class_from_configuration_or_name():
    policy = DisclosurePolicy(department_classes={"X1": "tax"})
    assert policy.department_class("X1", "某某市场监督管理局") == "tax"
    assert policy.department_class("X2", "安吉县市场监督管理局") == rules.MARKET
    assert policy.department_class("X3", "安吉县交通运输局") is None


def _policy(max_months: dict[str, dict[str, int]], **extra: object) -> DisclosurePolicy:
    settings = Settings(disclosure_max_months=max_months, **extra)  # type: ignore[arg-type]
    return rules.policy_from_settings(settings, load_catalog())


def test_configured_period_per_department_class_shortens():
    policy = _policy({"penalty:market": {"一般": 6}, "penalty": {"一般": 9}})
    market = facts(department_class=rules.MARKET)
    other = facts(department_class="transport")
    assert rules.last_day(market, policy) == date(2025, 7, 14)
    assert rules.last_day(other, policy) == date(2025, 10, 14)
    for record, end in ((market, date(2025, 7, 14)), (other, date(2025, 10, 14))):
        assert rules.is_published(record, policy, end - timedelta(days=1))
        assert rules.is_published(record, policy, end)
        assert not rules.is_published(record, policy, end + timedelta(days=1))


def test_minor_tier_may_be_unpublished():
    policy = _policy({"penalty": {"轻微": 0}})
    minor = facts(tier="轻微", categories=("通报批评",), publish_until=date(2025, 4, 14))
    assert not rules.is_published(minor, policy, DECIDED)


@pytest.mark.parametrize(
    "bad",
    [{"penalty": {"一般": 2}}, {"penalty": {"严重": 37}}, {"license": {"一般": 3}}, {"penalty": {"极重": 3}},
     {"nosuch": {"一般": 3}}],
)  # fmt: skip
def test_configured_periods_stay_within_law(bad):
    with pytest.raises(DisclosureConfigError):
        _policy(bad)


def test_earliest_published_decision_matches_last_day():
    """The SQL cut-off and the pure rule agree on every day, month ends and leap years included."""
    for months in (1, 3, 6, 12, 36):
        start = date(2023, 12, 1)
        for offset in range(0, 500, 3):
            today = start + timedelta(days=offset)
            cutoff = rules.earliest_published_decision(today, months)
            for decision in (cutoff - timedelta(days=1), cutoff):
                end = add_months(decision, months) - timedelta(days=1)
                assert (end >= today) is (decision >= cutoff), (months, today, decision)


def test_public_name_masks_persons_by_configuration():
    assert rules.public_name("张三丰", "person", POLICY) == "张**"
    assert rules.public_name("张三丰", "person", DisclosurePolicy(mask_person_names=False)) == "张三丰"
    assert rules.public_name("安吉县张记小吃店", "individual_business", POLICY) == "安吉县张记小吃店"


def test_split_categories():
    assert rules.split_categories("警告；罚款") == ("警告", "罚款")
    assert rules.split_categories(None) == ()
