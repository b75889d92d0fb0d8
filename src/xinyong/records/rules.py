"""Pure rules of records: content identity and the publication window of negative records."""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from xinyong.catalog import PublicityRule

# 撤销 must say why, in words a reader of the history understands; one rule for the console, the API and the CLI.
REVOKE_REASON_MIN_LENGTH = 4


def content_hash(payload: dict[str, str], sealed_text: str | None, subject_id: int) -> str:
    """What makes two versions of a record the same: every published value, every sealed value, and
    the subject. Key order is irrelevant."""
    return content_hash_of(content_hash_text(payload, sealed_text), subject_id)


def content_hash_text(payload: dict[str, str], sealed_text: str | None) -> str:
    """The part of what content_hash digests that does not depend on the subject (computed where rows are
    validated, before their subjects are known)."""
    return "\x1f".join(map("\x1e".join, sorted(payload.items()))) + f"\x1d{sealed_text or ''}\x1d"


def content_hash_of(text: str, subject_id: int) -> str:
    """content_hash, from content_hash_text and the subject."""
    return hashlib.blake2b(f"{text}{subject_id}".encode(), digest_size=16).hexdigest()


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


def publication_end(
    rule: PublicityRule, tier: str | None, *, decision: date, stated_until: date | None
) -> date | None:
    """The last day of publication, inclusive; None for types published without end. A department's
    own 公示截止期 can shorten the period but never lengthen it past the tier's maximum."""
    if rule.mode != "tiered" or tier is None:
        return None
    maximum = add_months(decision, rule.max_months[tier]) - timedelta(days=1)
    if stated_until is not None and stated_until < maximum:
        return stated_until
    return maximum


def publication_window(
    rule: PublicityRule,
    *,
    decision: date,
    categories: Sequence[str] | None,
    fine: Decimal | None,
    stated_until: date | None,
) -> tuple[str | None, date | None]:
    """(tier, last day of publication, inclusive)."""
    if rule.mode != "tiered":
        return None, None
    tier = penalty_tier(rule, categories, fine)
    return tier, publication_end(rule, tier, decision=decision, stated_until=stated_until)
