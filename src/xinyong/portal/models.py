from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.db import Base


class SubjectGram(Base):
    """Bigram index of normalised subject names (natural persons excluded): a two-character query is one
    index range; longer queries intersect their rarest grams and verify the full string."""

    __tablename__ = "subject_grams"
    __table_args__ = ({"sqlite_with_rowid": False},)

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    # No foreign key: the index is derived data (rebuilt by `xinyong disclosure reindex`), and a key
    # would cost every bulk insert a look-up.
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class SubjectGramStat(Base):
    """How many subjects each common gram indexes, as of the last index rebuild: the search's plan, never
    its results. Only grams past `search.PROBE_CAP` are kept (a few thousand rows); any other gram is
    counted at query time, where counting it is cheap. Subjects indexed since the rebuild make the numbers
    approximate, which only matters for choosing which grams to intersect."""

    __tablename__ = "subject_gram_stats"
    __table_args__ = ({"sqlite_with_rowid": False},)

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    subjects: Mapped[int] = mapped_column(Integer)
