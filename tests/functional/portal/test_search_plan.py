"""How name searches are planned (gram statistics, one walk for total and page) never changes what they find."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, insert, select
from tests.factories import records as f

from xinyong.portal import service
from xinyong.subjects import names as search
from xinyong.subjects.models import Subject, SubjectGramStat

NAMES = [
    "安吉县甲乙竹木有限公司",
    "安吉县丙丁茶业有限公司",
    "湖州戊己建材有限公司",
    "湖州庚辛竹木有限公司",
    "德清县壬癸竹木制品有限公司",
    "安吉县恒达竹木制品厂",
]
QUERIES = ["有限", "竹木", "有限公司", "竹木有限", "竹木制品", "县恒达", "恒达竹木制品厂", "达竹木有", "公司有限", "不存在"]


@pytest.fixture
def companies(load, db_session):
    load([f.penalty_row(CF_XDR_MC=name, CF_XDR_SHXYM=f.company_code(800 + n)) for n, name in enumerate(NAMES)])
    return {s.name: s.id for s in db_session.scalars(select(Subject).where(Subject.name.in_(NAMES)))}


def _found(session, query, *, offset=0, limit=20):
    hits = search.search_names(session, query, offset=offset, limit=limit)
    return hits.subject_ids, hits.total, hits.is_capped


def _expected(companies, query):
    return sorted(i for name, i in companies.items() if query in name)


def test_rebuilding_the_index_counts_its_common_grams(db_session, companies, monkeypatch):
    monkeypatch.setattr(search, "PROBE_CAP", 4)
    search.rebuild_index(db_session)
    stats = dict(db_session.execute(select(SubjectGramStat.gram, SubjectGramStat.subjects)).all())
    assert stats["有限"] == stats["公司"] == 5
    assert stats["竹木"] == 4
    assert "恒达" not in stats  # rare grams are counted when searched, not stored


@pytest.mark.parametrize("sieve_max", [search.SIEVE_MAX, 0], ids=["sieved-by-second-gram", "verified-only"])
def test_statistics_choose_the_plan_never_the_results(db_session, companies, monkeypatch, sieve_max):
    monkeypatch.setattr(search, "PROBE_CAP", 2)
    monkeypatch.setattr(search, "SIEVE_MAX", sieve_max)
    without = {q: _found(db_session, q) for q in QUERIES}
    for q in QUERIES:
        assert without[q] == (_expected(companies, q), len(_expected(companies, q)), False), q
    search.rebuild_index(db_session)
    assert {q: _found(db_session, q) for q in QUERIES} == without
    # Statistics gone stale or plain wrong (a rare gram said to be common, a common one missing) still
    # give the same answers: they only decide which grams are intersected.
    db_session.execute(delete(SubjectGramStat))
    db_session.execute(insert(SubjectGramStat), [{"gram": "恒达", "subjects": 10**6}, {"gram": "竹木", "subjects": 3}])
    assert {q: _found(db_session, q) for q in QUERIES} == without


@pytest.mark.parametrize("with_statistics", [False, True], ids=["counted", "from-statistics"])
def test_totals_stop_at_the_cap_and_every_page_within_it_is_served(db_session, companies, monkeypatch,
                                                                   with_statistics):  # fmt: skip
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    monkeypatch.setattr(search, "PROBE_CAP", 3)
    if with_statistics:
        search.rebuild_index(db_session)
    for query in ("有限", "有限公司"):
        expected = _expected(companies, query)
        assert len(expected) == 5
        assert _found(db_session, query, limit=2) == (expected[:2], 3, True)
        assert _found(db_session, query, offset=2, limit=2) == (expected[2:4], 3, True)
        # past the cap, still the right ids
        assert _found(db_session, query, offset=4, limit=2)[0] == expected[4:]
    assert _found(db_session, "竹木制品") == (_expected(companies, "竹木制品"), 2, False)
    # a page past the last still tells the total
    assert _found(db_session, "竹木制品", offset=20) == ([], 2, False)
    assert _found(db_session, "恒达", offset=20) == ([], 1, False)


def test_code_lookups_stay_on_the_event_loop_and_name_searches_leave_it(client, companies, monkeypatch):
    where = []
    real = service.find_subjects

    def spy(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            where.append("event loop")
        except RuntimeError:
            where.append("worker thread")
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "find_subjects", spy)
    code = client.get("/api/v1/subjects", params={"q": f.company_code(800)}).json()
    assert code["mode"] == "code"
    assert code["items"][0]["name"] == NAMES[0]
    assert set(code["items"][0]["counts"]) == {"penalty"}
    name = client.get("/api/v1/subjects", params={"q": "竹木制品"}).json()
    assert [i["name"] for i in name["items"]] == [NAMES[4], NAMES[5]]
    assert where == ["event loop", "worker thread"]


def test_which_queries_are_code_lookups():
    assert service.is_code_query(f" {f.company_code(1).lower()} ")
    assert service.is_code_query("3305230001234")
    assert not service.is_code_query("恒达竹木")
    assert not service.is_code_query("")
    assert not service.is_code_query(None)
