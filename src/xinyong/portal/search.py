"""Public subject search: exact codes, and name substrings from two characters up via a bigram index.

LIKE '%…%' scans every subject and trigram indexes cannot answer two-character queries, so names are
indexed as overlapping character pairs of `name_norm` in `subject_grams`. A query of n ≥ 2 characters
needs every one of its n−1 grams: the rarest two are intersected in the index and the candidates verified
against the full normalised name. Natural persons are never indexed (no bulk listing of persons).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from xinyong.codes import normalize_code, normalize_name
from xinyong.db import bulk_insert
from xinyong.portal.models import SubjectGram
from xinyong.subjects.models import Subject, SubjectKind

MIN_QUERY_CHARS = 2
COUNT_CAP = 1000  # "more than 1000": exact totals of common fragments cost a scan and help nobody
PROBE_CAP = 2000


def grams_of(name_norm: str) -> set[str]:
    return {name_norm[i : i + 2] for i in range(len(name_norm) - 1)}


def index_subjects(session: Session, subjects: Iterable[tuple[int, str, str]]) -> int:
    """Add (id, kind, name_norm) subjects to the name index; called when subjects are created."""
    rows = [
        {"gram": gram, "subject_id": subject_id}
        for subject_id, kind, name_norm in subjects
        if kind != SubjectKind.PERSON.value
        for gram in grams_of(name_norm)
    ]
    if rows:
        # In key order: the index is clustered on (gram, subject_id), and ordered inserts touch each page once.
        rows.sort(key=lambda row: (row["gram"], row["subject_id"]))
        bulk_insert(session, SubjectGram.__table__, rows)
    return len(rows)


def rebuild_index(session: Session, *, batch: int = 20_000) -> int:
    """Rebuild the whole name index from `subjects` (after bulk loads that bypassed the resolver)."""
    session.execute(delete(SubjectGram.__table__))
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
            return total
        total += index_subjects(session, ((r.id, str(r.kind), r.name_norm) for r in rows))
        last_id = rows[-1].id


def looks_like_code(query: str) -> bool:
    code = normalize_code(query)
    return len(code) >= 8 and code.isascii() and code.isalnum()


@dataclass
class NameHits:
    subject_ids: list[int]
    total: int  # capped at COUNT_CAP + 1
    is_capped: bool


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_names(session: Session, query: str, *, offset: int, limit: int) -> NameHits:
    """Subjects (not persons) whose normalised name contains the query, by id, one page and a capped total."""
    needle = normalize_name(query)
    grams = sorted(grams_of(needle))
    if len(needle) < MIN_QUERY_CHARS or not grams:
        return NameHits([], 0, False)
    g = SubjectGram.__table__
    if len(grams) == 1:
        ids_query = select(g.c.subject_id).where(g.c.gram == grams[0]).order_by(g.c.subject_id)
        counted = select(g.c.subject_id).where(g.c.gram == grams[0]).limit(COUNT_CAP + 1).subquery()
        total = session.scalar(select(func.count()).select_from(counted)) or 0
        ids = list(session.scalars(ids_query.offset(offset).limit(limit)))
        return NameHits(ids, min(total, COUNT_CAP), total > COUNT_CAP)

    # Rarest grams first. Each probe stops at PROBE_CAP: past that a gram is common and which common
    # gram is driven first matters little, while counting a posting list of 100,000 costs more than the search.
    sizes = []
    for gram in grams:
        capped = select(g.c.subject_id).where(g.c.gram == gram).limit(PROBE_CAP).subquery()
        sizes.append((session.scalar(select(func.count()).select_from(capped)) or 0, gram))
    sizes.sort()
    if sizes[0][0] == 0:
        return NameHits([], 0, False)
    first, second = sizes[0][1], sizes[1][1]
    g2 = g.alias("g2")
    s = Subject.__table__
    matches = (
        select(g.c.subject_id)
        .join(g2, and_(g2.c.subject_id == g.c.subject_id, g2.c.gram == second))
        .join(s, s.c.id == g.c.subject_id)
        .where(g.c.gram == first, s.c.name_norm.like(f"%{_escape_like(needle)}%", escape="\\"))
        .order_by(g.c.subject_id)
    )
    counted = matches.limit(COUNT_CAP + 1).subquery()
    total = session.scalar(select(func.count()).select_from(counted)) or 0
    ids = list(session.scalars(matches.offset(offset).limit(limit)))
    return NameHits(ids, min(total, COUNT_CAP), total > COUNT_CAP)
