"""bulk_insert stores what SQLAlchemy would store, from dicts or from tuples, with JSON given as objects
or already encoded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, select

from xinyong.db import JSONType, UTCDateTime, bulk_insert, encode_json

metadata = MetaData()
probe = Table(
    "bulk_insert_probe",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20)),
    Column("day", Date),
    Column("at", UTCDateTime),
    Column("doc", JSONType),
)
AT = datetime(2025, 10, 15, 8, 30, tzinfo=UTC)
DOC = {"名称": "某公司", "n": "1"}


def _stored(db_session) -> list[tuple]:
    return [tuple(row) for row in db_session.execute(select(probe).order_by(probe.c.id))]


def test_tuples_and_encoded_json_store_the_same_as_dicts(db_session):
    metadata.create_all(db_session.connection())  # inside the test's transaction, rolled back with it
    bulk_insert(db_session, probe, [{"id": 1, "name": "甲", "day": date(2025, 1, 2), "at": AT, "doc": DOC}])
    bulk_insert(db_session, probe, [(2, "甲", date(2025, 1, 2), AT, DOC)], columns=["id", "name", "day", "at", "doc"])
    bulk_insert(
        db_session, probe, [(3, "甲", date(2025, 1, 2), AT, encode_json(DOC)), (4, None, None, None, None)],
        columns=["id", "name", "day", "at", "doc"], json_encoded=True,
    )  # fmt: skip
    one, two, three, four = _stored(db_session)
    assert one[1:] == two[1:] == three[1:] == ("甲", date(2025, 1, 2), AT, DOC)
    assert four[1:] == (None, None, None, None)


def test_a_single_column_of_dicts(db_session):
    metadata.create_all(db_session.connection())
    bulk_insert(db_session, probe, [{"id": 5}, {"id": 6}])
    assert [row[0] for row in _stored(db_session)] == [5, 6]


def test_among_matches_in_for_text_and_integers(db_session):
    from sqlalchemy import delete

    from xinyong.db import among

    metadata.create_all(db_session.connection())
    bulk_insert(db_session, probe, [(n, f"名称{n}'\"", None, None, None) for n in range(1, 2001)],
                columns=["id", "name", "day", "at", "doc"])  # fmt: skip
    wanted = [f"名称{n}'\"" for n in range(1, 2001, 7)] + ["没有这个", ""]
    by_name = db_session.scalars(select(probe.c.id).where(among(db_session, probe.c.name, wanted)).order_by(probe.c.id))
    assert list(by_name) == list(range(1, 2001, 7))
    assert list(db_session.scalars(select(probe.c.id).where(among(db_session, probe.c.id, [5, 3, 99_999])))) in (
        [3, 5], [5, 3])  # fmt: skip
    assert list(db_session.scalars(select(probe.c.id).where(among(db_session, probe.c.id, [])))) == []
    removed = db_session.scalars(delete(probe).where(among(db_session, probe.c.id, [1, 2])).returning(probe.c.id))
    assert sorted(removed) == [1, 2]
