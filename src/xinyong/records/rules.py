"""Pure rules of records: content identity and the publication window of negative records."""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from xinyong.catalog import PublicityRule


def content_hash(payload: dict[str, str], sealed_text: str | None, subject_id: int) -> str:
    """What makes two versions of a record the same: every published value, every sealed value, and
    the subject. Key order is irrelevant."""
    digest = hashlib.blake2b(digest_size=16)
    for key in sorted(payload):
        digest.update(key.encode())
        digest.update(b"\x1e")
        digest.update(payload[key].encode())
        digest.update(b"\x1f")
    digest.update(b"\x1d")
    digest.update((sealed_text or "").encode())
    digest.update(b"\x1d%d" % subject_id)
    return digest.hexdigest()


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (2024-01-31 + 1 month = 2024-02-29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def penalty_tier(
    rule: PublicityRule, categories: Sequence[str] | None, fine: Decimal | None
) -> str | None:
    """The first tier rule that matches the categories and fine; the default tier otherwise."""
    cats = set(categories or ())
    for tier in rule.tiers:
        if tier.categories_any and cats & set(tier.categories_any):
            return tier.tier
        if tier.categories_only and cats and cats <= set(tier.categories_only):
            return tier.tier
        if tier.fine_at_least is not None and fine is not None and fine >= Decimal(str(tier.fine_at_least)):
            return tier.tier
    return rule.default_tier


def publication_window(
    rule: PublicityRule,
    *,
    decision: date,
    categories: Sequence[str] | None,
    fine: Decimal | None,
    stated_until: date | None,
) -> tuple[str | None, date | None]:
    """(tier, last day of publication, inclusive). Permanent types have no end. A department's own 公示截止期 can
    shorten the period but never lengthen it past the tier's maximum."""
    if rule.mode != "tiered":
        return None, None
    tier = penalty_tier(rule, categories, fine)
    assert tier is not None
    maximum = add_months(decision, rule.max_months[tier]) - timedelta(days=1)
    if stated_until is not None and stated_until < maximum:
        return tier, stated_until
    return tier, maximum
