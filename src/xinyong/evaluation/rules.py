"""Pure rules of evaluation: one subject scored in Python, exactly as the set-based run scores everyone.

A run is SQL (`scoring`); explaining a grade and predicting what would change it needs the same arithmetic
for one subject with a record taken away or on another date. The two are held in agreement by tests: every
predicate here has its SQL twin in `scoring`, with the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from xinyong.evaluation.spec import (
    BandScoring,
    Filter,
    Indicator,
    KindScoring,
    ListSource,
    Model,
    RecordSource,
    Target,
)
from xinyong.records.rules import add_months

EVIDENCE_CAP = 20  # records named per indicator and subject in a run's results
SIX_PLACES = Decimal("0.000001")
NO_RECORD = "no-record"


@dataclass(frozen=True)
class RecordFact:
    """What scoring reads of one record (and of its repair, if any)."""

    id: int
    record_type: str
    doc_no: str
    is_active: bool
    decision_date: date
    valid_from: date | None = None
    valid_until: date | None = None
    publish_until: date | None = None
    tier: str | None = None
    categories: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    stopped_on: date | None = None  # publication stopped by repair on this day …
    lifted_on: date | None = None  # … and restored on this one (commitment broken)


@dataclass(frozen=True)
class EntryFact:
    """One list entry, as scoring reads it."""

    id: int
    type_key: str
    state: str
    valid_from: date | None
    valid_until: date | None
    ended_on: date | None


@dataclass(frozen=True)
class Hit:
    id: int  # a record id, or a list entry id for indicators that read lists
    points: int  # what this record scored on its own (kinds); 0 for bands, where the measure scores


@dataclass(frozen=True)
class IndicatorResult:
    key: str
    points: int  # signed: negative for deductions
    raw: int  # before the cap at the indicator's weight
    hits: tuple[Hit, ...]
    measure: Decimal | None = None  # bands: the count, sum or max the band was chosen by


@dataclass(frozen=True)
class SubjectResult:
    score: int
    grade: str
    override: str | None
    indicators: dict[str, IndicatorResult]


# ------------------------------------------------------------------------------------------ dates


def age_bounds(source: RecordSource, as_of: date) -> tuple[date, date | None]:
    """(latest decision date that is old enough, earliest decision date that is not too old) — the same
    dates the SQL binds."""
    newest = add_months(as_of, -source.min_age_months) if source.min_age_months else as_of
    oldest = add_months(as_of, -source.max_age_months) + timedelta(days=1) if source.max_age_months else None
    return newest, oldest


# --------------------------------------------------------------------------------------- predicates


def is_stopped(fact: RecordFact, as_of: date) -> bool:
    return fact.stopped_on is not None and fact.stopped_on <= as_of and (
        fact.lifted_on is None or fact.lifted_on > as_of
    )


def record_counts(source: RecordSource, fact: RecordFact, as_of: date) -> bool:
    """Whether a record is within the indicator's reach on `as_of` (before `latest` and `where`)."""
    if fact.record_type not in source.types or not fact.is_active:
        return False
    newest, oldest = age_bounds(source, as_of)
    if fact.decision_date > newest or (oldest is not None and fact.decision_date < oldest):
        return False
    if source.counts_while == "published" and fact.publish_until is not None and fact.publish_until < as_of:
        return False
    if source.counts_while == "valid" and not (
        (fact.valid_from is None or fact.valid_from <= as_of) and (fact.valid_until is None or fact.valid_until >= as_of)
    ):
        return False
    return not (source.repaired == "exclude" and is_stopped(fact, as_of))


def entry_in_force(fact: EntryFact, as_of: date) -> bool:
    """A list entry in force on `as_of`: published then, inside its validity, not removed before."""
    if fact.state not in ("published", "expired", "removed") or fact.valid_from is None:
        return False
    if fact.valid_from > as_of or (fact.valid_until is not None and fact.valid_until < as_of):
        return False
    return not (fact.state == "removed" and fact.ended_on is not None and fact.ended_on <= as_of)


def target_text(target: Target, fact: RecordFact) -> str | None:
    if target.column is not None:
        value = getattr(fact, target.column)
        return None if value is None else str(value)
    code = target.code_for(fact.record_type)
    value = fact.payload.get(code) if code else None
    return None if value is None or value == "" else str(value)


def target_values(target: Target, fact: RecordFact) -> tuple[str, ...]:
    text = target_text(target, fact)
    if text is None:
        return ()
    if target.is_multi:
        return tuple(part for part in text.split(";") if part)
    return (text,)


def target_number(target: Target, fact: RecordFact) -> Decimal | None:
    text = target_text(target, fact)
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def filter_holds(rule: Filter, fact: RecordFact) -> bool:
    if rule.op == "contains":
        text = target_text(rule.target, fact) or ""
        return any(v in text for v in rule.values)
    values = target_values(rule.target, fact)
    return any(v in values for v in rule.values)


# ------------------------------------------------------------------------------------------ scoring


def _cap(indicator: Indicator, raw: int) -> int:
    total = min(raw, indicator.weight)
    return -total if indicator.is_deduct else total


def _record_order(hit_points: int, fact: RecordFact) -> tuple[int, int, int]:
    return (-hit_points, -fact.decision_date.toordinal(), -fact.id)


def score_indicator(indicator: Indicator, records: list[RecordFact], entries: list[EntryFact], as_of: date
                    ) -> IndicatorResult | None:  # fmt: skip
    """The indicator's result for one subject, or None when it has nothing to score (no row in a run)."""
    source, scoring = indicator.source, indicator.scoring
    if isinstance(source, ListSource):
        matched = sorted((e for e in entries if e.type_key in source.types and entry_in_force(e, as_of)),
                         key=lambda e: (-(e.valid_from or date.min).toordinal(), -e.id))  # fmt: skip
        if isinstance(scoring, KindScoring):
            scored = [(e, scoring.points_of((e.type_key,))) for e in matched]
            scored = sorted(((e, p) for e, p in scored if p > 0),
                            key=lambda ep: (-ep[1], -(ep[0].valid_from or date.min).toordinal(), -ep[0].id))  # fmt: skip
            raw = sum(p for _, p in scored)
            if raw <= 0:
                return None
            return IndicatorResult(indicator.key, _cap(indicator, raw), raw, tuple(Hit(e.id, p) for e, p in scored))
        measure = Decimal(len(matched))
        raw = scoring.points_for(measure) if matched else 0
        if raw <= 0:
            return None
        return IndicatorResult(indicator.key, _cap(indicator, raw), raw, tuple(Hit(e.id, 0) for e in matched), measure)
    reached = [f for f in records if record_counts(source, f, as_of)]
    if source.latest and reached:
        reached = [max(reached, key=lambda f: (f.decision_date, f.id))]
    reached = [f for f in reached if all(filter_holds(rule, f) for rule in source.where)]
    if isinstance(scoring, KindScoring):
        points = [(f, scoring.points_of(target_values(scoring.target, f))) for f in reached]
        kept = sorted(((f, p) for f, p in points if p > 0), key=lambda fp: _record_order(fp[1], fp[0]))
        raw = sum(p for _, p in kept)
        if raw <= 0:
            return None
        return IndicatorResult(indicator.key, _cap(indicator, raw), raw, tuple(Hit(f.id, p) for f, p in kept))
    return _bands(indicator, scoring, reached)


def _bands(indicator: Indicator, scoring: BandScoring, reached: list[RecordFact]) -> IndicatorResult | None:
    if not reached:
        return None
    if scoring.measure == "count":
        measure = Decimal(len(reached))
        ordered = sorted(reached, key=lambda f: (-f.decision_date.toordinal(), -f.id))
    else:
        assert scoring.target is not None
        target = scoring.target
        numbers = [(f, target_number(target, f)) for f in reached]
        present = [n for _, n in numbers if n is not None]
        if not present:
            return None
        measure = (sum(present, Decimal(0)) if scoring.measure == "sum" else max(present)).quantize(SIX_PLACES)
        # Records without the value sort last, as NULLs do in the SQL's descending order.
        ordered = [f for f, _ in sorted(numbers, key=lambda fn: (fn[1] is None, -(fn[1] or 0), -fn[0].decision_date.toordinal(), -fn[0].id))]
    raw = scoring.points_for(measure)
    if raw <= 0:
        return None
    return IndicatorResult(indicator.key, _cap(indicator, raw), raw, tuple(Hit(f.id, 0) for f in ordered), measure)


def has_record(records: list[RecordFact], entries: list[EntryFact], as_of: date) -> bool:
    """Anything at all on the subject's record by `as_of`: any active record decided by then (of any type,
    not only the model's), or a list entry in force."""
    return any(f.is_active and f.decision_date <= as_of for f in records) or any(
        entry_in_force(e, as_of) for e in entries
    )


def evaluate(model: Model, records: list[RecordFact], entries: list[EntryFact], as_of: date) -> SubjectResult:
    results = {}
    for indicator in model.indicators:
        result = score_indicator(indicator, records, entries, as_of)
        if result is not None:
            results[indicator.key] = result
    score = model.base + sum(r.points for r in results.values())
    if not has_record(records, entries, as_of):
        return SubjectResult(score, model.default_grade, NO_RECORD, results)
    score_rank = model.rank(model.grade_for(score).symbol)
    for override in ordered_overrides(model):
        applies = (override.indicator in results) if override.indicator else any(
            e.type_key in override.lists and entry_in_force(e, as_of) for e in entries)  # fmt: skip
        if applies:
            cap = model.rank(override.grade)
            if cap > score_rank:
                return SubjectResult(score, override.grade, override.code, results)
            break
    return SubjectResult(score, model.grades[score_rank].symbol, None, results)


def ordered_overrides(model: Model) -> list[Any]:
    """The overrides most severe first (model order among equals): the first that applies caps the grade."""
    return sorted(model.overrides, key=lambda o: -model.rank(o.grade))


def result_digest_line(subject_id: int, score: int, grade: str) -> str:
    return f"{subject_id}\t{score}\t{grade}\n"
