"""The name index of the subject register: exact codes, and name substrings from two characters up via a
bigram index (the portal's search and the credit checks' name look-ups read it; subjects keep it).

LIKE '%…%' scans every subject and trigram indexes cannot answer two-character queries, so names are
indexed as overlapping character pairs of `name_norm` in `subject_grams`. A query of n ≥ 2 characters
needs every one of its n−1 grams: the subjects of the rarest are sieved through the next rarest (when that
one is selective) and verified against the full normalised name. Which grams are rarest comes from
`subject_gram_stats` (common grams, counted at each index rebuild) or from a capped count of the index.
Natural persons are never indexed (no bulk listing of persons).

Subjects created by an import are indexed after the chunk that created them has committed, by the name
indexer (`index_pending`), from the queue `subject_index_pending` that the chunk fills: the import runs it every
few seconds and when it ends, and the `subjects-index` job every minute (for an import whose process died).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Integer, Select, bindparam, case, delete, false, func, insert, literal, select
from sqlalchemy.orm import Session

from xinyong.codes import normalize_code, normalize_name
from xinyong.db import among, bulk_insert
from xinyong.subjects.models import Subject, SubjectGram, SubjectGramStat, SubjectIndexPending, SubjectKind

MIN_QUERY_CHARS = 2
COUNT_CAP = 1000  # "more than 1000": exact totals of common fragments cost a scan and help nobody
PROBE_CAP = 2000
# A second gram on more subjects than this is not worth probing: on the 1,000,000-subject benchmark such
# grams are place names and legal forms (德清, 湖州, 有限, 公司) that the candidates nearly all contain too,
# and probing them doubled the cost of the capped searches on PostgreSQL (docs/performance.md).
SIEVE_MAX = 50_000


def grams_of(name_norm: str) -> set[str]:
    return {name_norm[i : i + 2] for i in range(len(name_norm) - 1)}


def index_subjects(session: Session, subjects: Iterable[tuple[int, str, str]]) -> int:
    """Add (id, kind, name_norm) subjects to the name index; called when subjects are created."""
    person = SubjectKind.PERSON.value
    # Each gram kept once: a pass holds hundreds of thousands of rows but a few tens of thousands of distinct
    # grams, and a string apiece took half its memory (48 → 22 MB for 25,000 names).
    distinct: dict[str, str] = {}
    rows = [
        (distinct.setdefault(gram, gram), subject_id)
        for subject_id, kind, name_norm in subjects
        if kind != person
        for gram in grams_of(name_norm)
    ]
    if rows:
        # In key order: the index is clustered on (gram, subject_id), and ordered inserts touch each page once.
        # Callers pass subjects in ascending id order, so a stable sort by gram alone is that order, at a
        # third of the cost of comparing tuples (14 → 7 µs a new subject).
        rows.sort(key=itemgetter(0))
        bulk_insert(session, SubjectGram.__table__, rows, columns=("gram", "subject_id"))
    return len(rows)


def queue_subjects(session: Session, subjects: Iterable[tuple[int, str]]) -> int:
    """Queue (id, kind) subjects just created for the name indexer, in the creating transaction: one row each
    instead of a dozen grams. Persons are not indexed, so not queued."""
    person = SubjectKind.PERSON.value
    rows = [(subject_id,) for subject_id, kind in subjects if kind != person]
    bulk_insert(session, SubjectIndexPending.__table__, rows, columns=("subject_id",))
    return len(rows)


# Subjects the indexer claims, reads and indexes at a time (and, for an import, per transaction): about what an
# import creates between two passes (`name_index_seconds` at 5,000 rows/s). The grams of a pass go in as one
# ordered insert, which touches the last page of each gram's run once. Each pass touches about one such page for
# each distinct gram of its names, and at 10⁷ subjects those pages no longer fit in the page cache: passes of
# 5,000 subjects, five per import pass, wrote them five times (the name index took 39 % of the storing process
# at 6 × 10⁶ rows). The cost is the pass's grams in memory, about 22 MB, for the moment of the pass.
INDEX_PASS = 25_000


def index_pending(session: Session, *, limit: int | None = None) -> int:
    """The name indexer: index the queued subjects (all of them, or about `limit`), set-based, in the caller's
    transaction, and return how many were taken off the queue. Each pass first claims up to INDEX_PASS queue rows
    by deleting them, in one statement that is the transaction's first: two indexers running at once (an import's
    and the job's) never index a subject twice (on PostgreSQL the second claims the rows the first has not locked;
    SQLite has one writer at a time), and on SQLite the transaction writes
    from its start, so no other writer's commit can invalidate a read it made first. A subject merged away before
    its turn is dropped from the queue without being indexed."""
    pending, subjects = SubjectIndexPending.__table__, Subject.__table__
    # On PostgreSQL, rows another indexer is claiming are skipped rather than waited for (SQLite renders no lock).
    oldest = select(pending.c.subject_id).order_by(pending.c.subject_id).limit(INDEX_PASS).with_for_update(
        skip_locked=True
    )
    claim = delete(pending).where(pending.c.subject_id.in_(oldest.scalar_subquery())).returning(pending.c.subject_id)
    taken = 0
    while limit is None or taken < limit:
        claimed = sorted(session.scalars(claim))
        if not claimed:
            break
        named = session.execute(
            select(subjects.c.id, subjects.c.kind, subjects.c.name_norm)
            .where(among(session, subjects.c.id, claimed), subjects.c.merged_into_id.is_(None))
            .order_by(subjects.c.id)
        )
        index_subjects(session, ((i, str(kind), name_norm) for i, kind, name_norm in named))
        taken += len(claimed)
    return taken


def unindex_subject(session: Session, subject_id: int) -> None:
    """Take a subject out of the name index (it was merged into another)."""
    session.execute(delete(SubjectGram).where(SubjectGram.subject_id == subject_id))


def rebuild_index(session: Session, *, batch: int = 20_000) -> int:
    """Rebuild the whole name index from `subjects` (after bulk loads that bypassed the resolver). Every subject is
    indexed, so the indexer's queue is emptied too."""
    session.execute(delete(SubjectGram.__table__))
    session.execute(delete(SubjectIndexPending.__table__))
    table = Subject.__table__
    last_id, total = 0, 0
    while True:
        rows = session.execute(
            select(table.c.id, table.c.kind, table.c.name_norm)
            .where(table.c.id > last_id)
            .order_by(table.c.id)
            .limit(batch)
        ).all()
        if not rows:
            refresh_gram_stats(session)
            return total
        total += index_subjects(session, ((r.id, str(r.kind), r.name_norm) for r in rows))
        last_id = rows[-1].id


def looks_like_code(query: str) -> bool:
    code = normalize_code(query)
    return len(code) >= 8 and code.isascii() and code.isalnum()


def refresh_gram_stats(session: Session) -> int:
    """Recount the common grams (those indexing at least PROBE_CAP subjects); returns how many there are.
    Run after the whole index is rebuilt. In between, subjects only ever add grams, so the stored numbers
    are lower bounds: a gram recorded as common stays common."""
    g, stats = SubjectGram.__table__, SubjectGramStat.__table__
    session.execute(delete(stats))
    common = select(g.c.gram, func.count()).group_by(g.c.gram).having(func.count() >= PROBE_CAP)
    session.execute(insert(stats).from_select(["gram", "subjects"], common))
    return session.scalar(select(func.count()).select_from(stats)) or 0


@dataclass
class NameHits:
    subject_ids: list[int]
    total: int  # capped at COUNT_CAP + 1
    is_capped: bool


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The statements below are built once and take their values as parameters: building and hashing a
# statement with a subquery per gram cost ten times more than running it.


@lru_cache(maxsize=128)
def _sizes_statement(grams: int, cap: int) -> Select[Any]:
    g, stats = SubjectGram.__table__, SubjectGramStat.__table__
    columns = []
    for i in range(grams):
        gram = bindparam(f"g{i}", type_=g.c.gram.type)
        known = select(stats.c.subjects).where(stats.c.gram == gram).scalar_subquery()
        capped = select(g.c.subject_id).where(g.c.gram == gram).limit(cap).subquery()
        columns.append(func.coalesce(known, select(func.count()).select_from(capped).scalar_subquery()))
    return select(*columns)


def _gram_sizes(session: Session, grams: list[str], *, cap: int) -> list[tuple[int, str]]:
    """(subjects, gram) for each gram, rarest first, in one statement: a common gram's number comes from
    `subject_gram_stats`; any other gram is counted in the index up to `cap` (COALESCE evaluates the count
    only when the statistics lack the gram, on both databases)."""
    values = {f"g{i}": gram for i, gram in enumerate(grams)}
    row = session.execute(_sizes_statement(len(grams), cap), values).one()
    return sorted(zip((int(n or 0) for n in row), grams, strict=True))


def _paged(walk: Select[Any]) -> Select[Any]:
    """One page of a walk of ids (`walk_limit` at most), each row carrying the length of the whole walk: the
    database counts the walk while it pages it, and only the page crosses over."""
    walked = walk.subquery("walk")
    return (
        select(walked.c.subject_id, func.count().over())
        .order_by(walked.c.subject_id)
        .offset(bindparam("offset", type_=Integer()))
        .limit(bindparam("limit", type_=Integer()))
    )


@lru_cache(maxsize=2)
def _posting_statement(*, counted: bool) -> Select[Any]:
    g = SubjectGram.__table__
    query = select(g.c.subject_id).where(g.c.gram == bindparam("gram", type_=g.c.gram.type)).order_by(g.c.subject_id)
    if counted:
        return _paged(query.limit(bindparam("walk_limit", type_=Integer())))
    return query.offset(bindparam("offset", type_=Integer())).limit(bindparam("limit", type_=Integer()))


@lru_cache(maxsize=2)
def _matches_statement(*, with_second: bool) -> Select[Any]:
    """The rarest gram's subjects in id order, each verified against the needle.

    The plan is spelled out, because PostgreSQL cannot know that most candidates match. Given a join to
    `subjects`, it took LIKE '%…%' for very rare and scanned every subject (300 ms for 术有限); the
    subqueries below leave it only the gram's index range, walked in order until the LIMIT. COALESCE hides
    the LIKE from its estimate, which otherwise priced a walk of 1,001 rows high enough to switch JIT
    compilation on (12–350 ms). CASE probes the second gram before the name is read."""
    g = SubjectGram.__table__
    s = Subject.__table__
    name: Any = select(s.c.name_norm).where(s.c.id == g.c.subject_id).scalar_subquery()
    if with_second:
        g2 = g.alias("g2")
        has_second = (
            select(literal(1))
            .where(g2.c.gram == bindparam("second", type_=g.c.gram.type), g2.c.subject_id == g.c.subject_id)
            .scalar_subquery()
        )
        name = case((has_second.is_not(None), name))
    matches = name.like(bindparam("pattern", type_=s.c.name_norm.type), escape="\\")
    return _paged(
        select(g.c.subject_id)
        .where(g.c.gram == bindparam("first", type_=g.c.gram.type), func.coalesce(matches, false()))
        .order_by(g.c.subject_id)
        .limit(bindparam("walk_limit", type_=Integer()))
    )


def _page_and_total(session: Session, statement: Select[Any], values: dict[str, Any]) -> NameHits:
    rows: list[Any] = list(session.execute(statement, values).all())
    if not rows and values["offset"]:  # past the last page: the walk's length from its first row
        rows = [(None, n) for _, n in session.execute(statement, {**values, "offset": 0, "limit": 1})]
    walked = rows[0][1] if rows else 0
    return NameHits([r[0] for r in rows if r[0] is not None], min(walked, COUNT_CAP), walked > COUNT_CAP)


def search_names(session: Session, query: str, *, offset: int, limit: int) -> NameHits:
    """Subjects (not persons) whose normalised name contains the query, by id, one page and a capped total."""
    needle = normalize_name(query)
    grams = sorted(grams_of(needle))
    if len(needle) < MIN_QUERY_CHARS or not grams:
        return NameHits([], 0, False)
    # Every page within the cap lies in the first COUNT_CAP + 1 ids of a walk, and they give the total.
    page = {"offset": offset, "limit": limit, "walk_limit": max(COUNT_CAP + 1, offset + limit)}
    if len(grams) == 1:
        # The gram is the whole query: its posting list is the answer.
        ((size, gram),) = _gram_sizes(session, grams, cap=COUNT_CAP + 1)
        if size == 0:
            return NameHits([], 0, False)
        if size > COUNT_CAP:  # counted, or common by the statistics (lower bounds): only the page is read
            ids = session.scalars(_posting_statement(counted=False), {"gram": gram, **page})
            return NameHits(list(ids), COUNT_CAP, True)
        # Counted again with the page, so that the total is exact whatever the statistics say.
        return _page_and_total(session, _posting_statement(counted=True), {"gram": gram, **page})

    # Rarest grams first. A gram past PROBE_CAP is common: its number comes from the statistics, or it
    # counts as PROBE_CAP, since counting a posting list of 100,000 would cost more than the search.
    sizes = _gram_sizes(session, grams, cap=PROBE_CAP)
    if sizes[0][0] == 0:
        return NameHits([], 0, False)
    # The rarest gram's subjects are walked in id order and verified against the whole needle. The next
    # rarest gram, probed in the index first, spares the verification of subjects that lack it, unless it
    # is so common that nearly every candidate has it anyway (see SIEVE_MAX).
    statement = _matches_statement(with_second=sizes[1][0] <= SIEVE_MAX)
    walk = {"first": sizes[0][1], "second": sizes[1][1], "pattern": f"%{_escape_like(needle)}%", **page}
    return _page_and_total(session, statement, walk)
