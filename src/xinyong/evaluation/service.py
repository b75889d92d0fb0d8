"""Use-cases of evaluation: loading a model, running it over every subject, reading and explaining grades.

A run is long (every subject): like an import it commits step by step — the run row first, then each
indicator's points, then the scores — each step in the SQLite writers' turn, so that short writers (credit
checks) wait for a step, not for the run. Nobody reads a run before it is completed; a run that fails is
marked so and its rows are deleted. Everything else here leaves the commit to the caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from xinyong import refcache, writequeue
from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.catalog import load_catalog
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.errors import DomainError, InvalidInput, NotFound
from xinyong.evaluation import loader, rules, scoring, spec
from xinyong.evaluation.models import (
    EvaluationPoints,
    EvaluationRun,
    EvaluationScore,
    GradeChange,
    RunStatus,
    ScoringModel,
)
from xinyong.lists import service as lists_service
from xinyong.lists.models import ListType
from xinyong.regions import inherit
from xinyong.subjects.models import Subject

BUILTIN_MODEL = Path(__file__).resolve().parent.parent / "catalog" / "evaluation" / "public-credit.toml"
MODEL_MAX_BYTES = 512 * 1024


class ModelVersionExists(DomainError):
    code = "evaluation-model-version-exists"
    status_code = 409
    message_template = "评价模型 {key} 的 {version} 版本已载入且内容不同：已载入的版本不能修改，请提高版本号（version）后载入"


class NoModel(DomainError):
    code = "evaluation-no-model"
    status_code = 409
    message_template = "尚未载入评价模型，请先运行 xinyong evaluation load-model"


# ------------------------------------------------------------------------------------------ models


def _list_type_keys(session: Session) -> set[str]:
    return {t.key for t in lists_service.list_types(session)}


@lru_cache(maxsize=16)
def _parse(text: str, catalog_dirs: tuple[Path, ...], list_types: frozenset[str]) -> spec.Model:
    return loader.parse_model(text, load_catalog(catalog_dirs), set(list_types))


def parse(session: Session, text: str, *, settings: Settings) -> spec.Model:
    """The model in `text`, checked against the catalogue and the list types now in the database."""
    return _parse(text, tuple(settings.catalog_dirs), frozenset(_list_type_keys(session)))


def load_model_text(session: Session, text: str, *, actor: Actor | str, settings: Settings) -> tuple[ScoringModel, bool]:
    """Store a model version (audited); (row, False) when this exact version was loaded before."""
    if len(text.encode("utf-8")) > MODEL_MAX_BYTES:
        raise InvalidInput(reason=f"评价模型文件超过 {MODEL_MAX_BYTES // 1024} KB")
    model = parse(session, text, settings=settings)
    existing = session.scalar(select(ScoringModel).where(ScoringModel.key == model.key,
                                                         ScoringModel.version == model.version))  # fmt: skip
    if existing is not None:
        if existing.digest != model.digest:
            raise ModelVersionExists(key=model.key, version=model.version)
        return existing, False
    label = actor.label if isinstance(actor, Actor) else str(actor)
    row = ScoringModel(key=model.key, version=model.version, name=model.name, source=text, digest=model.digest,
                       loaded_by=label[:100])  # fmt: skip
    session.add(row)
    session.flush()  # the audit entry names it
    audit.record(session, AuditAction.EVALUATION_MODEL_LOADED, actor=actor, target=f"evaluation-model:{row.id}",
                 details={"key": model.key, "version": model.version, "digest": model.digest,
                          "indicators": [i.key for i in model.indicators]})  # fmt: skip
    return row, True


def load_model_file(session: Session, path: Path, *, actor: Actor | str, settings: Settings) -> tuple[ScoringModel, bool]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(reason=f"无法读取评价模型文件 {path.name}：{exc}") from None
    return load_model_text(session, text, actor=actor, settings=settings)


def list_models(session: Session) -> list[ScoringModel]:
    return list(session.scalars(select(ScoringModel).order_by(ScoringModel.id.desc())))


def pick_model(session: Session, key: str | None = None, version: str | None = None) -> ScoringModel:
    """The named model version; the latest loaded version of `key`; or the latest loaded model."""
    query = select(ScoringModel).order_by(ScoringModel.id.desc())
    if key:
        query = query.where(ScoringModel.key == key)
    if version:
        query = query.where(ScoringModel.version == version)
    row = session.scalars(query.limit(1)).first()
    if row is None:
        if key or version:
            raise NotFound(what=f"评价模型 {key or ''} {version or ''}".strip())
        raise NoModel()
    return row


MODEL_SETTING = "evaluation.model"


def region_model(session: Session, region: str | None) -> str | None:
    """The key of the model a region's evaluation runs use: its own choice, else its nearest ancestor's, else
    the platform's (None: the latest loaded model)."""
    return inherit.setting(session, region, MODEL_SETTING)


def set_region_model(session: Session, region: str | None, key: str | None, *, actor: Actor) -> str | None:
    """Choose the model of a region's evaluation runs (`key` None: inherit its parent's again). The model must
    have been loaded. A county's 信用办 chooses its own region's only."""
    owner = inherit.owner(session, region)
    if key is not None:
        pick_model(session, key)  # NotFound for a model never loaded
    inherit.set_setting(session, owner, MODEL_SETTING, key, actor=actor)
    return owner


def model_of(session: Session, row: ScoringModel, *, settings: Settings) -> spec.Model:
    return parse(session, row.source, settings=settings)


# ------------------------------------------------------------------------------------------ runs


def _active_list_types(session: Session) -> dict[str, tuple[int, ...]]:
    """The ids of each active list type key, every region's (a region's override of a key is the same list)."""
    found: dict[str, list[int]] = {}
    for key, type_id in session.execute(select(ListType.key, ListType.id).where(ListType.is_active.is_(True))):
        found.setdefault(key, []).append(type_id)
    return {key: tuple(sorted(ids)) for key, ids in found.items()}


def latest_run(session: Session) -> EvaluationRun | None:
    return session.scalars(select(EvaluationRun).where(EvaluationRun.status == RunStatus.COMPLETED.value)
                           .order_by(EvaluationRun.id.desc()).limit(1)).first()  # fmt: skip


def run_evaluation(session: Session, *, as_of: date, actor: Actor | str, settings: Settings, key: str | None = None,
                   version: str | None = None, progress: Callable[[str], None] | None = None,
                   region: str | None = None) -> EvaluationRun:  # fmt: skip
    """Evaluate every subject of the model's kinds as of `as_of` (commits, step by step; see the module).
    `progress` is told the name of each step as it finishes. Without `key`, the model is the one `region` uses
    (`region_model`), else the latest loaded."""
    done = progress or (lambda step: None)
    row = pick_model(session, key or region_model(session, region), version)
    model = model_of(session, row, settings=settings)
    previous = latest_run(session)
    label = actor.label if isinstance(actor, Actor) else str(actor)
    run = EvaluationRun(model_id=row.id, as_of=as_of, status=RunStatus.RUNNING.value, actor=label[:100],
                        previous_run_id=previous.id if previous else None, grade_counts={})  # fmt: skip
    # Each write below begins a writer's transaction in the writers' turn: on SQLite a transaction that has read
    # cannot start writing once another connection (an import's chunk, a console action) has committed since.
    session.commit()
    with writequeue.writing(session):
        session.add(run)
    dialect = session.get_bind().dialect.name
    try:
        type_ids = _active_list_types(session)
        session.commit()  # no transaction may be open while waiting for the writers' turn
        for indicator in model.indicators:
            with writequeue.turn(session):
                session.execute(scoring.points_statement(model, indicator, run_id=run.id, as_of=as_of,
                                                         dialect=dialect, type_ids=type_ids))  # fmt: skip
                session.commit()
            done(indicator.key)
        with writequeue.turn(session):
            session.execute(scoring.scores_statement(model, run_id=run.id, as_of=as_of, type_ids=type_ids,
                                                     active_type_ids=sorted(i for ids in type_ids.values() for i in ids)))  # fmt: skip
            if run.previous_run_id is not None:
                session.execute(scoring.changes_statement(run_id=run.id, previous_run_id=run.previous_run_id))
            session.commit()
        done("scores")
        _finish(session, run, model, settings)
        done("summary")
    except BaseException as exc:
        session.rollback()
        _fail(session, run, exc)
        raise
    return run


def _finish(session: Session, run: EvaluationRun, model: spec.Model, settings: Settings) -> None:
    counts = {grade: int(n) for grade, n in session.execute(scoring.grade_counts_query(run.id))}
    digest = hashlib.sha256()
    for subject_id, score, grade in session.execute(scoring.digest_rows(run.id)):
        digest.update(rules.result_digest_line(subject_id, score, grade).encode())
    session.commit()  # the reads end here; the summary is written as a writer's transaction
    with writequeue.writing(session):
        run.grade_counts = {g.symbol: counts.get(g.symbol, 0) for g in model.grades}
        run.subjects = sum(counts.values())
        run.digest = digest.hexdigest()
        run.changes = session.scalar(select(func.count()).select_from(GradeChange)
                                     .where(GradeChange.run_id == run.id)) or 0  # fmt: skip
        run.status = RunStatus.COMPLETED.value
        run.finished_at = utcnow()
        _prune(session, keep=settings.evaluation_keep_detail_runs)
        audit.record(session, AuditAction.EVALUATION_RUN, actor=run.actor, target=f"evaluation-run:{run.id}",
                     details={"model": f"{model.key}@{model.version}", "as_of": run.as_of.isoformat(),
                              "subjects": run.subjects, "grades": run.grade_counts, "changes": run.changes,
                              "digest": run.digest})  # fmt: skip


def _fail(session: Session, run: EvaluationRun, exc: BaseException) -> None:
    with writequeue.writing(session):
        for table in (EvaluationPoints, EvaluationScore, GradeChange):
            session.execute(delete(table).where(table.run_id == run.id))
        run.status = RunStatus.FAILED.value
        run.failure = (str(exc) or exc.__class__.__name__)[:500]
        run.finished_at = utcnow()
        audit.record(session, AuditAction.EVALUATION_RUN_FAILED, actor=run.actor, target=f"evaluation-run:{run.id}",
                     details={"failure": run.failure})  # fmt: skip


def _prune(session: Session, *, keep: int) -> None:
    """Per-indicator points of all but the `keep` latest completed runs are deleted (scores stay)."""
    kept = select(EvaluationRun.id).where(EvaluationRun.status == RunStatus.COMPLETED.value) \
        .order_by(EvaluationRun.id.desc()).limit(keep).scalar_subquery()
    old = list(session.scalars(select(EvaluationRun).where(EvaluationRun.status == RunStatus.COMPLETED.value,
                                                           EvaluationRun.has_details == 1,
                                                           EvaluationRun.id.not_in(kept))))  # fmt: skip
    for run in old:
        session.execute(delete(EvaluationPoints).where(EvaluationPoints.run_id == run.id))
        run.has_details = 0


def runs(session: Session, *, limit: int = 50) -> list[tuple[EvaluationRun, ScoringModel]]:
    rows = session.execute(select(EvaluationRun, ScoringModel).join(ScoringModel, ScoringModel.id == EvaluationRun.model_id)
                           .order_by(EvaluationRun.id.desc()).limit(limit))  # fmt: skip
    return [(r[0], r[1]) for r in rows]


def get_run(session: Session, run_id: int) -> tuple[EvaluationRun, ScoringModel]:
    row = session.execute(select(EvaluationRun, ScoringModel).join(ScoringModel, ScoringModel.id == EvaluationRun.model_id)
                          .where(EvaluationRun.id == run_id)).first()  # fmt: skip
    if row is None:
        raise NotFound(what="该评价批次")
    return row[0], row[1]


# ------------------------------------------------------------------------------------------ reads


refcache.watch(EvaluationRun)


def _latest_run_id(session: Session) -> int | None:
    """The latest completed run, from the per-process reference cache (read on every credit check)."""
    return refcache.get(session, "evaluation.latest_run", lambda s: _load_latest_run_id(s) or 0) or None


def _load_latest_run_id(session: Session) -> int | None:
    return session.scalar(select(func.max(EvaluationRun.id)).where(EvaluationRun.status == RunStatus.COMPLETED.value))


@dataclass(frozen=True)
class RunInfo:
    """What readers of grades need of a run, as plain values (kept in the per-process cache)."""

    run_id: int
    as_of: date
    model_key: str
    model_version: str
    labels: tuple[tuple[str, str], ...]  # (grade, label), best first

    @property
    def model_name(self) -> str:
        return f"{self.model_key}@{self.model_version}"


def run_info(session: Session, run_id: int, *, settings: Settings) -> RunInfo:
    def load(s: Session) -> RunInfo:
        run, row = get_run(s, run_id)
        model = model_of(s, row, settings=settings)
        return RunInfo(run.id, run.as_of, row.key, row.version, tuple((g.symbol, g.label) for g in model.grades))

    return refcache.get(session, ("evaluation.run", run_id, tuple(settings.catalog_dirs)), load)


@dataclass(frozen=True)
class GradeInfo:
    grade: str
    label: str
    score: int
    as_of: date
    run_id: int
    model: str

    def as_dict(self) -> dict[str, Any]:
        return {"grade": self.grade, "grade_label": self.label, "score": self.score, "as_of": self.as_of.isoformat(),
                "run": self.run_id, "model": self.model}  # fmt: skip


def grades_for(session: Session, subject_ids: list[int], *, settings: Settings) -> dict[int, GradeInfo]:
    """The latest completed run's grade of each subject (a few queries whatever their number)."""
    run_id = _latest_run_id(session)
    if run_id is None or not subject_ids:
        return {}
    info = run_info(session, run_id, settings=settings)
    labels = dict(info.labels)
    found: dict[int, GradeInfo] = {}
    for start in range(0, len(subject_ids), 900):
        part = subject_ids[start : start + 900]
        for subject_id, score, grade in session.execute(
            select(EvaluationScore.subject_id, EvaluationScore.score, EvaluationScore.grade)
            .where(EvaluationScore.run_id == run_id, EvaluationScore.subject_id.in_(part))
        ):  # fmt: skip
            found[subject_id] = GradeInfo(grade, labels.get(grade, grade), score, info.as_of, run_id, info.model_name)
    return found


def latest_grade(session: Session, subject_id: int, *, settings: Settings) -> GradeInfo | None:
    return grades_for(session, [subject_id], settings=settings).get(subject_id)


def public_grade(session: Session, subject: Subject, *, settings: Settings) -> GradeInfo | None:
    """The grade the portal shows, only where the 信用办 turned publication on, and never of a natural person."""
    if not settings.evaluation_public_grades or subject.kind.value == "person":
        return None
    return latest_grade(session, subject.id, settings=settings)


# ------------------------------------------------------------------------------------------ history


@dataclass(frozen=True)
class Change:
    """A subject whose grade moved between two runs, and the indicators whose points moved with it."""

    subject_id: int
    name: str
    uscc: str | None
    from_grade: str
    to_grade: str
    from_score: int
    to_score: int
    reasons: tuple[tuple[str, int, int], ...]  # (indicator name, points before, points now), largest moves first

    @property
    def is_down(self) -> bool:
        return self.to_score < self.from_score

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "uscc": self.uscc, "from_grade": self.from_grade, "to_grade": self.to_grade,
                "from_score": self.from_score, "to_score": self.to_score,
                "reasons": [{"indicator": n, "before": b, "now": a} for n, b, a in self.reasons]}  # fmt: skip


def changes(session: Session, run: EvaluationRun, *, settings: Settings, direction: str | None = None,
            offset: int = 0, limit: int = 50) -> tuple[list[Change], int]:  # fmt: skip
    """Who moved in `run` against the run before it, a page at a time (largest moves first), with why."""
    where = [GradeChange.run_id == run.id]
    if direction == "down":
        where.append(GradeChange.to_score < GradeChange.from_score)
    elif direction == "up":
        where.append(GradeChange.to_score > GradeChange.from_score)
    total = session.scalar(select(func.count()).select_from(GradeChange).where(*where)) or 0
    rows = session.execute(
        select(GradeChange, Subject.name, Subject.uscc).join(Subject, Subject.id == GradeChange.subject_id)
        .where(*where)
        .order_by(func.abs(GradeChange.to_score - GradeChange.from_score).desc(), GradeChange.subject_id)
        .offset(offset).limit(limit)
    ).all()  # fmt: skip
    if not rows:
        return [], total
    _, row = get_run(session, run.id)
    model = model_of(session, row, settings=settings)
    names = {i.key: i.name for i in model.indicators}
    ids = [r[0].subject_id for r in rows]
    points: dict[tuple[int, int], dict[str, int]] = {}
    for run_id, subject_id, indicator, value in session.execute(
        select(EvaluationPoints.run_id, EvaluationPoints.subject_id, EvaluationPoints.indicator,
               EvaluationPoints.points)
        .where(EvaluationPoints.run_id.in_([run.id, rows[0][0].previous_run_id]),
               EvaluationPoints.subject_id.in_(ids))
    ):  # fmt: skip
        points.setdefault((run_id, subject_id), {})[indicator] = value
    found = []
    for change, name, uscc in rows:
        now = points.get((run.id, change.subject_id), {})
        before = points.get((change.previous_run_id, change.subject_id), {})
        moved = sorted(((names.get(k, k), before.get(k, 0), now.get(k, 0)) for k in set(now) | set(before)
                        if before.get(k, 0) != now.get(k, 0)), key=lambda m: -abs(m[2] - m[1]))  # fmt: skip
        found.append(Change(change.subject_id, name, uscc, change.from_grade, change.to_grade, change.from_score,
                            change.to_score, tuple(moved)))  # fmt: skip
    return found, total


def same_result_as(session: Session, run: EvaluationRun) -> int | None:
    """An earlier completed run of the same model and date with the same result digest, if any."""
    return session.scalar(select(func.min(EvaluationRun.id)).where(
        EvaluationRun.id != run.id, EvaluationRun.model_id == run.model_id, EvaluationRun.as_of == run.as_of,
        EvaluationRun.status == RunStatus.COMPLETED.value, EvaluationRun.digest == run.digest))  # fmt: skip


def grades_of_run(run_id: int) -> Any:
    """A subquery of (subject_id, grade) of a run, for other domains to join (random-inspection plans)."""
    return select(EvaluationScore.subject_id, EvaluationScore.grade).where(EvaluationScore.run_id == run_id).subquery()
