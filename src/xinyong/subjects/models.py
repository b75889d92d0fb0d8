from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base, UTCDateTime, utcnow


class SubjectKind(enum.StrEnum):
    ORGANISATION = "organisation"
    INDIVIDUAL_BUSINESS = "individual_business"
    PERSON = "person"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    SubjectKind.ORGANISATION: "法人及非法人组织",
    SubjectKind.INDIVIDUAL_BUSINESS: "个体工商户",
    SubjectKind.PERSON: "自然人",
}
KIND_BY_LABEL = {label: kind for kind, label in KIND_LABELS.items()}


def _legacy_code_index(column: str) -> Index:
    # Legacy codes are missing for most subjects; indexing only the present ones keeps inserts cheap.
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_subjects_{column}", column, sqlite_where=where, postgresql_where=where)


class Subject(Base):
    __tablename__ = "subjects"
    __table_args__ = tuple(
        _legacy_code_index(c)
        for c in ("registration_number", "org_code", "tax_number", "institution_cert", "social_org_cert")
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SubjectKind] = mapped_column(
        Enum(SubjectKind, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])
    )
    name: Mapped[str] = mapped_column(String(200))
    name_norm: Mapped[str] = mapped_column(String(200))  # not indexed: see migration 0026
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    id_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    id_sealed: Mapped[str | None] = mapped_column(String(200))
    id_masked: Mapped[str | None] = mapped_column(String(18))
    registration_number: Mapped[str | None] = mapped_column(String(20))
    org_code: Mapped[str | None] = mapped_column(String(10))
    tax_number: Mapped[str | None] = mapped_column(String(20))
    institution_cert: Mapped[str | None] = mapped_column(String(20))
    social_org_cert: Mapped[str | None] = mapped_column(String(40))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    # Set when the subject was found to duplicate another and merged into it: its codes are cleared and its
    # records moved; the row stays so that the history (audit entries, checks) still names it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SubjectGram(Base):
    """Bigram index of normalised subject names (natural persons excluded): a two-character query is one
    index range; longer queries intersect their rarest grams and verify the full string."""

    __tablename__ = "subject_grams"
    __table_args__ = ({"sqlite_with_rowid": False},)

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    # No foreign key: the index is derived data (rebuilt by `xinyong disclosure reindex`), and a key
    # would cost every bulk insert a look-up.
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class SubjectIndexPending(Base):
    """Subjects whose names are not in `subject_grams` yet: an import writes one row per new subject in the chunk
    that creates it, and the name indexer (`names.index_pending`) writes their grams in a transaction of its own
    and deletes the rows (see docs/ingestion.md for how long a new subject may wait)."""

    __tablename__ = "subject_index_pending"

    # No foreign key, as for the index itself: derived data, and a key would cost every insert a look-up.
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class SubjectGramStat(Base):
    """How many subjects each common gram indexes, as of the last index rebuild: the search's plan, never
    its results. Only grams past `names.PROBE_CAP` are kept (a few thousand rows); any other gram is
    counted at query time, where counting it is cheap. Subjects indexed since the rebuild make the numbers
    approximate, which only matters for choosing which grams to intersect."""

    __tablename__ = "subject_gram_stats"
    __table_args__ = ({"sqlite_with_rowid": False},)

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    subjects: Mapped[int] = mapped_column(Integer)


class SubjectNameChange(Base):
    """A name a subject is known to have carried (更名): rows reporting it are not a 一码多名 finding."""

    __tablename__ = "subject_name_changes"
    __table_args__ = (UniqueConstraint("subject_id", "name_norm"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_norm: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
