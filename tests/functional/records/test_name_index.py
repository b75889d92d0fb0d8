"""An import queues the subjects it creates for the name index and indexes them outside its chunks' transactions:
while it runs, a new subject is missing from the name search for at most `name_index_seconds` plus one chunk;
once it has returned (completed, failed midway or interrupted), not at all; and what a dead import left queued,
the `subjects-index` job indexes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.factories.records import ON_TIME, penalty_row, write_rows
from tests.functional.records.conftest import BACKDATE_REASON, SYSTEM

from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.jobs import builtin
from xinyong.jobs.registry import JobContext
from xinyong.protect import Protector
from xinyong.records import service, storing
from xinyong.subjects import names
from xinyong.subjects.models import Subject, SubjectIndexPending, SubjectKind
from xinyong.subjects.service import SubjectRef, SubjectResolver

CHUNK_SECONDS = 2.0  # how long each chunk "takes", on the fake clock


def _searchable(session: Session) -> set[int]:
    """The subjects the portal's name search finds by their full name."""
    found = set()
    for subject_id, name in session.execute(select(Subject.id, Subject.name)):
        if subject_id in names.search_names(session, name, offset=0, limit=50).subject_ids:
            found.add(subject_id)
    return found


def _pending(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SubjectIndexPending)) or 0


def _import(session: Session, path: Path, settings: Settings, protector: Protector, dept: Department,
            progress=None) -> service.ImportResult:  # type: ignore[no-untyped-def]  # fmt: skip
    return service.import_file(
        session, path, settings=settings, protector=protector, record_type="penalty", department=dept,
        actor=SYSTEM, reported_on=ON_TIME, backdate_reason=BACKDATE_REASON, today=ON_TIME, progress=progress,
    )  # fmt: skip


@pytest.mark.parametrize("delay", [0.0, 5.0, 9.0])
def test_a_new_subject_is_missing_from_the_search_for_at_most_the_delay_and_one_chunk(
    db_session: Session, settings: Settings, protector: Protector, dept: Department, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, delay: float,
) -> None:  # fmt: skip
    clock = [1000.0]
    monkeypatch.setattr(storing.time, "monotonic", lambda: clock[0])
    path = write_rows(tmp_path / "rows.csv", [penalty_row() for _ in range(70)])
    committed: dict[int, float] = {}  # subject → when the chunk that created it committed (fake clock)
    found: dict[int, float] = {}  # subject → when the search first found it
    missed_while_running = 0

    def progress(_rows: int) -> None:  # called after each chunk has committed (and the indexer's pass, if due)
        nonlocal missed_while_running
        for subject_id in db_session.scalars(select(Subject.id)):
            committed.setdefault(subject_id, clock[0])
        searchable = _searchable(db_session)
        for subject_id in searchable:
            found.setdefault(subject_id, clock[0])
        missed_while_running += len(committed.keys() - searchable)
        db_session.commit()  # the next chunk takes the writers' turn: no read may be left open
        clock[0] += CHUNK_SECONDS

    result = _import(db_session, path, settings.model_copy(update={"import_chunk_rows": 10,
                                                                   "name_index_seconds": delay}),
                     protector, dept, progress)  # fmt: skip

    assert result.status == "completed"
    assert len(committed) == 70
    after = _searchable(db_session)
    assert after == set(committed)  # all of them once the import has returned
    assert _pending(db_session) == 0
    for subject_id, at in committed.items():
        waited = found.get(subject_id, clock[0]) - at
        assert waited <= delay + CHUNK_SECONDS, (subject_id, waited)
    if delay == 0:
        assert missed_while_running == 0  # indexed after every chunk
    else:
        assert missed_while_running > 0  # the index does lag behind the chunks, within the bound


def test_an_interrupted_import_indexes_what_it_stored(
    db_session: Session, settings: Settings, protector: Protector, dept: Department, tmp_path: Path
) -> None:
    path = write_rows(tmp_path / "rows.csv", [penalty_row() for _ in range(50)])
    chunks = 0

    def progress(_rows: int) -> None:
        nonlocal chunks
        chunks += 1
        if chunks == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _import(db_session, path, settings.model_copy(update={"import_chunk_rows": 10, "name_index_seconds": 3600}),
                protector, dept, progress)  # fmt: skip

    stored = set(db_session.scalars(select(Subject.id)))
    assert len(stored) == 30
    assert _searchable(db_session) == stored
    assert _pending(db_session) == 0


def test_the_job_indexes_what_a_dead_import_left_queued(db_session: Session, protector: Protector,
                                                        settings: Settings) -> None:  # fmt: skip
    resolver = SubjectResolver(db_session, protector, defer_index=True)
    refs = [SubjectRef(SubjectKind.ORGANISATION, f"湖州队列{n}号贸易有限公司", uscc=row["CF_XDR_SHXYM"])
            for n, row in enumerate(penalty_row() for _ in range(5))]  # fmt: skip
    refs.append(SubjectRef(SubjectKind.PERSON, "张三", id_number="330106199001011234"))
    created = {r.subject_id for r in resolver.resolve(refs).values()}
    merged = db_session.scalar(select(Subject).where(Subject.name == "湖州队列4号贸易有限公司"))
    assert merged is not None
    db_session.commit()  # the process died here: the subjects are stored, their names queued, not indexed
    assert _searchable(db_session) == set()
    assert _pending(db_session) == 5  # persons are never indexed, so never queued
    merged.merged_into_id = min(created)  # merged away before its turn: dropped from the queue, not indexed
    db_session.commit()

    factory = sessionmaker(bind=db_session.connection(), join_transaction_mode="create_savepoint")
    summary = builtin.subjects_index(JobContext(settings=settings, session_factory=factory,
                                                now=datetime(2026, 12, 5, tzinfo=UTC)))  # fmt: skip

    assert summary == "补建名称索引 5 个主体"
    assert _pending(db_session) == 0
    organisations = set(db_session.scalars(select(Subject.id).where(Subject.kind != SubjectKind.PERSON,
                                                                    Subject.id != merged.id)))  # fmt: skip
    assert _searchable(db_session) == organisations
    assert len(organisations) == 4


@pytest.mark.parametrize(("seed", "delay"), [(1, 0.0), (2, 3600.0), (3, 0.0)])
def test_the_index_an_import_leaves_is_the_one_a_rebuild_makes(
    db_session: Session, settings: Settings, protector: Protector, tmp_path: Path, seed: int, delay: float
) -> None:
    """Generated files with bad rows mixed in, imported twice (the second time with rows changed): the name index
    the deferred indexer leaves holds exactly the grams that indexing every subject at once would."""
    import random

    from tests.factories import records as factories

    from xinyong.demo import generator
    from xinyong.subjects.models import SubjectGram

    rng = random.Random(seed)
    departments = generator.generate_departments(rng)
    source = next(d for d in departments if generator.decides(d, "penalty"))
    dept = factories.department(db_session, code=source.code, name=source.name)
    subjects = list(generator.generate_subjects(60, rng))
    rows = [row for row, _, _ in generator.penalty_rows(subjects, departments, 200, rng, today=ON_TIME,
                                                         malformed_share=0.3, department=source)]  # fmt: skip
    changed = [{**row, "CF_XDR_MC": row["CF_XDR_MC"] + "（分公司）"} if n % 5 == 0 else row
               for n, row in enumerate(rows)]  # fmt: skip
    tuned = settings.model_copy(update={"import_chunk_rows": 37, "name_index_seconds": delay})
    for number, content in enumerate((rows, changed)):
        path = tmp_path / f"round{number}.csv"
        generator.write_csv(path, content, generator.PENALTY_COLUMNS, encoding="gbk", header="chinese")
        result = _import(db_session, path, tuned, protector, dept)
        assert result.rejected > 0

    def index() -> set[tuple[str, int]]:
        return {(g, s) for g, s in db_session.execute(select(SubjectGram.gram, SubjectGram.subject_id))}

    left = index()
    assert _pending(db_session) == 0
    names.rebuild_index(db_session)
    assert left == index()
    assert left  # organisations were created and indexed


def test_two_indexers_at_once_claim_different_subjects(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:  # fmt: skip
    """PostgreSQL: an indexer whose transaction is still open holds its claim; a second one takes the next
    subjects instead of waiting for it or indexing the same ones. (SQLite has one writer at a time.)"""
    if not fresh_database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one transaction write at a time")
    from tests.fixtures.keys import keyed_sessionmaker

    from xinyong.db import make_engine
    from xinyong.subjects.models import SubjectGram

    engine = make_engine(fresh_database_url)
    factory = keyed_sessionmaker(engine)
    try:
        with factory() as setup:
            for n in range(1, 5):
                setup.add(Subject(id=n, kind=SubjectKind.ORGANISATION, name=f"并发{n}号公司", name_norm=f"并发{n}号公司"))
            setup.flush()
            names.queue_subjects(setup, [(n, SubjectKind.ORGANISATION.value) for n in range(1, 5)])
            setup.commit()
        monkeypatch.setattr(names, "INDEX_PASS", 2)
        with factory() as first, factory() as second:
            assert names.index_pending(first, limit=2) == 2  # claimed and indexed, not committed yet
            assert names.index_pending(second) == 2  # the other two, at once
            second.commit()
            first.commit()
        with factory() as check:
            indexed = sorted(set(check.scalars(select(SubjectGram.subject_id))))
            assert indexed == [1, 2, 3, 4]
            assert _pending(check) == 0
    finally:
        engine.dispose()
