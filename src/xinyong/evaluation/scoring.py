"""The set-based run: one INSERT … SELECT per indicator, one for the scores and grades, one for the changes.

Every statement reads the record for every subject at once (GROUP BY subject), on SQLite and PostgreSQL
alike; the only dialect-specific piece is the aggregate that lists a subject's records (`_concat_ids`).
Each predicate mirrors its namesake in `rules`, which scores one subject in Python for explanations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Numeric,
    String,
    and_,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    null,
    or_,
    select,
)
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.expression import Insert

from xinyong.disclosure.models import PublicationStop
from xinyong.evaluation import rules
from xinyong.evaluation.models import EvaluationPoints, EvaluationScore, GradeChange
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
from xinyong.lists.models import ListEntry
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects.models import Subject

_r = Record.__table__.c
_s = Subject.__table__.c
_e = ListEntry.__table__.c
_p = EvaluationPoints.__table__.c
_sc = EvaluationScore.__table__.c
_ps = PublicationStop.__table__.c

Columns = Callable[[str], ColumnElement[Any]]
# The ids of each list type key: a key's types of every region (a county's override is still the same list).
TypeIds = Mapping[str, tuple[int, ...]]


def _concat_ids(dialect: str, column: ColumnElement[Any]) -> ColumnElement[Any]:
    text = cast(column, String)
    if dialect == "postgresql":
        return func.string_agg(text, literal(","))
    return func.group_concat(text, literal(","))


def _number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


# ------------------------------------------------------------------------------------------ targets


def _target_text(target: Target, col: Columns) -> ColumnElement[Any]:
    """rules.target_text"""
    if target.column is not None:
        return col(target.column)
    payload = col("payload")
    if len(target.codes) == 1:
        return func.nullif(payload[target.codes[0][1]].as_string(), "")
    return case(*((col("record_type") == key, func.nullif(payload[code].as_string(), ""))
                  for key, code in target.codes), else_=null())  # fmt: skip


def _has_value(target: Target, col: Columns, value: str) -> ColumnElement[bool]:
    text = _target_text(target, col)
    if target.is_multi:
        return (literal(";") + text + literal(";")).contains(f";{value};", autoescape=True)
    return text == value


def _filter_holds(rule: Filter, col: Columns) -> ColumnElement[bool]:
    """rules.filter_holds"""
    if rule.op == "contains":
        text = _target_text(rule.target, col)
        return or_(*(text.contains(v, autoescape=True) for v in rule.values))
    return or_(*(_has_value(rule.target, col, v) for v in rule.values))


def _kind_points(scoring: KindScoring, col: Columns) -> ColumnElement[Any]:
    """KindScoring.points_of: the first (highest) kind the record has."""
    if not scoring.points:
        return literal(scoring.other)
    return case(*((_has_value(scoring.target, col, value), literal(points)) for value, points in scoring.points),
                else_=literal(scoring.other))  # fmt: skip


def _target_number(target: Target, col: Columns) -> ColumnElement[Any]:
    return cast(_target_text(target, col), Numeric(24, 6))


# ------------------------------------------------------------------------------------------ sources


def _record_counts(source: RecordSource, as_of: date, kinds: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """rules.record_counts, for records joined to their subjects."""
    newest, oldest = rules.age_bounds(source, as_of)
    where = [
        _r.record_type.in_(source.types) if len(source.types) > 1 else _r.record_type == source.types[0],
        _r.status == RecordStatus.ACTIVE.value,
        _r.decision_date <= newest,
        _s.kind.in_(kinds),
    ]
    if oldest is not None:
        where.append(_r.decision_date >= oldest)
    if source.counts_while == "published":
        where.append(or_(_r.publish_until.is_(None), _r.publish_until >= as_of))
    elif source.counts_while == "valid":
        where.append(or_(_r.valid_from.is_(None), _r.valid_from <= as_of))
        where.append(or_(_r.valid_until.is_(None), _r.valid_until >= as_of))
    if source.repaired == "exclude":
        where.append(not_(exists().where(
            _ps.record_id == _r.id, _ps.stopped_on <= as_of, or_(_ps.lifted_on.is_(None), _ps.lifted_on > as_of),
        )))  # fmt: skip
    return where


def entry_in_force(as_of: date) -> ColumnElement[bool]:
    """rules.entry_in_force"""
    return and_(
        _e.state.in_(("published", "expired", "removed")),
        _e.valid_from <= as_of,
        or_(_e.valid_until.is_(None), _e.valid_until >= as_of),
        not_(and_(_e.state == "removed", _e.ended_on.is_not(None), _e.ended_on <= as_of)),
    )


def _record_rows(indicator: Indicator, source: RecordSource, as_of: date, kinds: tuple[str, ...]) -> Select[Any]:
    """The indicator's records, one row each, with what scoring reads of them."""
    needed = {"id", "subject_id", "record_type", "decision_date", "tier", "categories", "payload"}
    base = select(*(_r[name] for name in sorted(needed))).join_from(Record.__table__, Subject.__table__,
                                                                      _s.id == _r.subject_id)  # fmt: skip
    base = base.where(*_record_counts(source, as_of, kinds))
    if not source.latest:
        return base.where(*(_filter_holds(f, lambda n: _r[n]) for f in source.where))
    ranked = base.add_columns(func.row_number().over(
        partition_by=_r.subject_id, order_by=(_r.decision_date.desc(), _r.id.desc())).label("latest_rn")).subquery()
    return select(*(ranked.c[name] for name in sorted(needed))).where(
        ranked.c.latest_rn == 1, *(_filter_holds(f, lambda n: ranked.c[n]) for f in source.where))  # fmt: skip


def _entry_rows(source: ListSource, as_of: date, kinds: tuple[str, ...], type_ids: TypeIds) -> Select[Any]:
    ids = [i for key in source.types for i in type_ids.get(key, ())]
    type_key = case(*((_e.list_type_id.in_(type_ids[key]), literal(key)) for key in source.types if type_ids.get(key)),
                    else_=null())  # fmt: skip
    return (
        select(_e.id, _e.subject_id, _e.valid_from.label("decision_date"), type_key.label("list_type"))
        .join_from(ListEntry.__table__, Subject.__table__, _s.id == _e.subject_id)
        .where(_e.list_type_id.in_(ids or [-1]), entry_in_force(as_of), _s.kind.in_(kinds))
    )


# ------------------------------------------------------------------------------------------ points


def points_statement(model: Model, indicator: Indicator, *, run_id: int, as_of: date, dialect: str,
                     type_ids: TypeIds) -> Insert:  # fmt: skip
    """rules.score_indicator, for every subject: INSERT INTO evaluation_points … SELECT … GROUP BY subject."""
    kinds = model.subject_kinds
    source, scoring = indicator.source, indicator.scoring
    if isinstance(source, ListSource):
        rows = _entry_rows(source, as_of, kinds, type_ids).subquery()
    else:
        rows = _record_rows(indicator, source, as_of, kinds).subquery()

    def col(name: str) -> ColumnElement[Any]:
        return rows.c[name]

    weight = literal(indicator.weight)
    sign = -1 if indicator.is_deduct else 1
    if isinstance(scoring, KindScoring):
        scored = select(rows.c.id, rows.c.subject_id, rows.c.decision_date,
                        _kind_points(scoring, col).label("pts")).subquery()  # fmt: skip
        ranked = select(scored.c.id, scored.c.subject_id, scored.c.pts, func.row_number().over(
            partition_by=scored.c.subject_id,
            order_by=(scored.c.pts.desc(), scored.c.decision_date.desc(), scored.c.id.desc()),
        ).label("rn")).where(scored.c.pts > 0).subquery()  # fmt: skip
        raw = func.sum(ranked.c.pts)
        query = select(
            literal(run_id), ranked.c.subject_id, literal(indicator.key),
            literal(sign) * case((raw > weight, weight), else_=raw), func.count(),
            _concat_ids(dialect, case((ranked.c.rn <= rules.EVIDENCE_CAP, ranked.c.id), else_=null())),
        ).group_by(ranked.c.subject_id)
    else:
        assert isinstance(scoring, BandScoring)
        if scoring.measure == "count":
            value: ColumnElement[Any] = literal(1)
            order: tuple[Any, ...] = (rows.c.decision_date.desc(), rows.c.id.desc())
        else:
            assert scoring.target is not None
            value = _target_number(scoring.target, col)
            order = (value.desc().nulls_last(), rows.c.decision_date.desc(), rows.c.id.desc())
        ranked = select(rows.c.id, rows.c.subject_id, value.label("v"), func.row_number().over(
            partition_by=rows.c.subject_id, order_by=order).label("rn")).subquery()  # fmt: skip
        if scoring.measure == "count":
            measure: ColumnElement[Any] = func.count()
        elif scoring.measure == "sum":
            measure = func.round(func.sum(ranked.c.v), 6)
        else:
            measure = func.max(ranked.c.v)
        band_points = case(*(
            (and_(measure >= _number(b.low), measure < _number(b.below)) if b.below is not None
             else measure >= _number(b.low), literal(b.points))
            for b in scoring.bands
        ), else_=literal(0))  # fmt: skip
        query = (
            select(
                literal(run_id), ranked.c.subject_id, literal(indicator.key),
                literal(sign) * case((band_points > weight, weight), else_=band_points), func.count(),
                _concat_ids(dialect, case((ranked.c.rn <= rules.EVIDENCE_CAP, ranked.c.id), else_=null())),
            )
            .group_by(ranked.c.subject_id)
            .having(band_points > 0)
        )
    return insert(EvaluationPoints.__table__).from_select(
        ["run_id", "subject_id", "indicator", "points", "hits", "evidence"], query)  # fmt: skip


# ------------------------------------------------------------------------------------------ scores


def scores_statement(model: Model, *, run_id: int, as_of: date, type_ids: TypeIds,
                     active_type_ids: list[int]) -> Insert:  # fmt: skip
    """rules.evaluate, for every subject of the model's kinds: score, grade, and the override that set it."""
    overrides = rules.ordered_overrides(model)
    has_record = or_(
        exists().where(_r.subject_id == _s.id, _r.status == RecordStatus.ACTIVE.value, _r.decision_date <= as_of),
        exists().where(_e.subject_id == _s.id, _e.list_type_id.in_(active_type_ids or [-1]), entry_in_force(as_of)),
    )
    applies = []
    for override in overrides:
        if override.indicator:
            applies.append(func.max(case((_p.indicator == override.indicator, 1), else_=0)) == 1)
        else:
            ids = [i for k in override.lists for i in type_ids.get(k, ())]
            applies.append(exists().where(_e.subject_id == _s.id, _e.list_type_id.in_(ids or [-1]),
                                          entry_in_force(as_of)))  # fmt: skip
    first = case(*((cond, literal(n)) for n, cond in enumerate(applies)), else_=literal(-1)) if applies else literal(-1)
    inner = (
        select(
            _s.id.label("subject_id"),
            (literal(model.base) + func.coalesce(func.sum(_p.points), 0)).label("score"),
            case((has_record, 1), else_=0).label("has_record"),
            first.label("ov"),
        )
        .select_from(Subject.__table__)
        .outerjoin(EvaluationPoints.__table__, and_(_p.run_id == run_id, _p.subject_id == _s.id))
        .where(_s.kind.in_(model.subject_kinds))
        .group_by(_s.id)
        .subquery()
    )
    score = inner.c.score
    score_rank = case(*((score >= g.min_score, literal(n)) for n, g in enumerate(model.grades[:-1])),
                      else_=literal(len(model.grades) - 1))  # fmt: skip
    by_score = case(*((score >= g.min_score, literal(g.symbol)) for g in model.grades[:-1]),
                    else_=literal(model.grades[-1].symbol))  # fmt: skip
    ov_grade: ColumnElement[Any]
    ov_code: ColumnElement[Any]
    if overrides:
        ov_rank = case(*((inner.c.ov == n, literal(model.rank(o.grade))) for n, o in enumerate(overrides)),
                       else_=literal(-1))  # fmt: skip
        ov_grade = case(*((inner.c.ov == n, literal(o.grade)) for n, o in enumerate(overrides)), else_=null())
        ov_code = case(*((inner.c.ov == n, literal(o.code)) for n, o in enumerate(overrides)), else_=null())
        lowered: ColumnElement[bool] = ov_rank > score_rank
    else:
        ov_grade = ov_code = null()
        lowered = false()
    no_record = inner.c.has_record == 0
    grade = case((no_record, literal(model.default_grade)), (lowered, ov_grade), else_=by_score)
    override = case((no_record, literal(rules.NO_RECORD)), (lowered, ov_code), else_=null())
    query = select(literal(run_id), inner.c.subject_id, score, grade, override)
    return insert(EvaluationScore.__table__).from_select(["run_id", "subject_id", "score", "grade", "override"], query)


def changes_statement(*, run_id: int, previous_run_id: int) -> Insert:
    """Subjects whose grade differs from the previous run's."""
    now = EvaluationScore.__table__.alias("now")
    before = EvaluationScore.__table__.alias("before")
    query = (
        select(literal(run_id), now.c.subject_id, literal(previous_run_id), before.c.grade, now.c.grade,
               before.c.score, now.c.score)
        .join_from(now, before, and_(before.c.run_id == previous_run_id, before.c.subject_id == now.c.subject_id))
        .where(now.c.run_id == run_id, now.c.grade != before.c.grade)
    )
    return insert(GradeChange.__table__).from_select(
        ["run_id", "subject_id", "previous_run_id", "from_grade", "to_grade", "from_score", "to_score"], query)  # fmt: skip


def grade_counts_query(run_id: int) -> Select[Any]:
    return select(_sc.grade, func.count()).where(_sc.run_id == run_id).group_by(_sc.grade)


def digest_rows(run_id: int) -> Select[Any]:
    return select(_sc.subject_id, _sc.score, _sc.grade).where(_sc.run_id == run_id).order_by(_sc.subject_id)

