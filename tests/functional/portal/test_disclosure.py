"""Disclosure rules end to end: what the portal pages and the public API show on a given day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from tests.factories import records as f

from xinyong.catalog import load_catalog
from xinyong.codes import make_id_number
from xinyong.departments.models import Department
from xinyong.disclosure import rules
from xinyong.disclosure import service as disclosure
from xinyong.disclosure.models import Withdrawal
from xinyong.portal import service
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.subjects import refs
from xinyong.subjects.models import Subject

DECIDED = "2024-10-21"  # 一般 (fine below 100 万元): published through 2025-10-20
INGESTED = date(2024, 10, 23)
ON_SHOW = date(2025, 10, 20)  # the factory rows, decided 2025-09-29, are published


def _penalty(load, **overrides):
    row = f.penalty_row(CF_JDRQ=DECIDED, **overrides)
    return load([row], today=INGESTED)[0], row


@pytest.mark.parametrize(
    ("today", "visible"),
    [(date(2025, 10, 19), True), (date(2025, 10, 20), True), (date(2025, 10, 21), False)],
    ids=["day-before-end", "last-day", "day-after-end"],
)
def test_penalty_leaves_portal_and_api_the_day_after_its_period(client, load, protector, day, today, visible):
    record, row = _penalty(load)
    assert record.tier == "一般"
    assert record.publish_until == date(2025, 10, 20)
    day["today"] = today
    uscc = row["CF_XDR_SHXYM"]
    profile = client.get(f"/subjects/{uscc}", params={"tab": "penalty"})
    assert profile.status_code == 200
    assert (row["CF_WSH"] in profile.text) is visible
    detail = client.get(f"/records/{refs.record_ref(record.id, protector)}")
    assert detail.status_code == (200 if visible else 404)
    api = client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": "penalty"}).json()
    assert [item["doc_no"] for item in api["items"]] == ([row["CF_WSH"]] if visible else [])
    found = client.get("/api/v1/subjects", params={"q": uscc}).json()
    assert found["items"][0]["counts"].get("penalty", 0) == (1 if visible else 0)


def test_penalty_not_shown_before_its_decision_date(client, load, day):
    _record, row = _penalty(load)
    day["today"] = date(2024, 10, 20)
    page = client.get(f"/subjects/{row['CF_XDR_SHXYM']}")
    assert row["CF_WSH"] not in page.text
    assert "查询期内无相关信息" in page.text


def test_revoked_record_never_shown(client, load, db_session, market, protector, day):
    record, row = _penalty(load)
    records_service.revoke_record(db_session, department=market, record_type="penalty", doc_no=row["CF_WSH"],
                                  reason="决定已被复议撤销", actor="test")  # fmt: skip
    db_session.flush()
    day["today"] = date(2025, 1, 1)
    assert row["CF_WSH"] not in client.get(f"/subjects/{row['CF_XDR_SHXYM']}").text
    assert client.get(f"/records/{refs.record_ref(record.id, protector)}").status_code == 404


def test_configured_shorter_period_for_a_department_class(client, load, portal_settings, day):
    _record, row = _penalty(load)
    client.app.state.settings = portal_settings.model_copy(
        update={"disclosure_max_months": {"penalty:market": {"一般": 6}}}
    )
    # 2024-10-21 + 6 months − 1 day = 2025-04-20
    for today, visible in ((date(2025, 4, 19), True), (date(2025, 4, 20), True), (date(2025, 4, 21), False)):
        day["today"] = today
        assert (row["CF_WSH"] in client.get(f"/subjects/{row['CF_XDR_SHXYM']}").text) is visible, today


def _person_row(n: int, **overrides: str) -> dict[str, str]:
    id_number = make_id_number("330523", date(1980, 5, n), "123")
    row = f.penalty_row(CF_XDR_MC="王小明", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJLX="身份证",
                        CF_XDR_ZJHM=id_number, CF_FRDB="",
                        CF_SY="经查，王小明于2025年9月在安吉县递铺街道无证经营。")  # fmt: skip
    row.update(overrides)
    return row


def test_natural_person_masked_everywhere_and_only_found_by_id_number(client, load, protector):
    row = _person_row(3)
    id_number = row["CF_XDR_ZJHM"]
    (record,) = load([row])
    masked = id_number[:4] + "*" * 10 + id_number[-4:]
    # Name search never lists persons.
    by_name = client.get("/search", params={"q": "王小明"})
    assert "王*明" not in by_name.text
    assert "未找到" in by_name.text
    assert client.get("/api/v1/subjects", params={"q": "小明"}).json()["items"] == []
    # Exact ID number finds the person, masked.
    found = client.get("/search", params={"q": id_number})
    assert "王**" in found.text
    assert masked in found.text
    api = client.get("/api/v1/subjects", params={"q": id_number}).json()
    (item,) = api["items"]
    assert item["name"] == "王**"
    assert item["id_masked"] == masked
    assert id_number not in item["ref"]
    profile = client.get(f"/subjects/{item['ref']}")
    detail = client.get(f"/records/{refs.record_ref(record.id, protector)}")
    records = client.get(f"/api/v1/subjects/{item['ref']}/records").json()
    for text in (found.text, profile.text, detail.text, str(records)):
        assert id_number not in text
        assert "王小明" not in text  # name masked, also inside the department's free text
    assert "王**于2025年9月" in detail.text
    # The ID number is not accepted as a path (it would land in logs); and refs cannot be forged.
    assert client.get(f"/api/v1/subjects/{id_number}").status_code == 404
    forged = item["ref"][:-1] + ("0" if item["ref"][-1] != "0" else "1")
    assert client.get(f"/subjects/{forged}").status_code == 404


def test_person_names_shown_when_configured(client, load, portal_settings):
    row = _person_row(4)
    load([row])
    client.app.state.settings = portal_settings.model_copy(update={"portal_mask_person_names": False})
    assert "王小明" in client.get("/search", params={"q": row["CF_XDR_ZJHM"]}).text


def test_person_warning_only_penalty_withheld_unless_configured(client, load, portal_settings, tax):
    row = _person_row(5, CF_CFLB="警告", CF_NR="警告", CF_NR_FK="", CF_CFJG=tax.name, CF_CFJGDM=tax.code,
                      CF_SJLY=tax.name, CF_SJLYDM=tax.code)  # fmt: skip
    load([row], department=tax)
    ref = client.get("/api/v1/subjects", params={"q": row["CF_XDR_ZJHM"]}).json()["items"][0]["ref"]
    assert client.get(f"/api/v1/subjects/{ref}/records").json()["items"] == []
    client.app.state.settings = portal_settings.model_copy(update={"disclosure_publish_person_warnings": True})
    assert len(client.get(f"/api/v1/subjects/{ref}/records").json()["items"]) == 1


def test_counts_of_mixed_kinds_follow_each_kinds_rule(db_session, load, portal_settings, tax):
    """One count query serves subjects of several kinds; a person's warning stays withheld in it."""
    by_tax = {"CF_CFJG": tax.name, "CF_CFJGDM": tax.code, "CF_SJLY": tax.name, "CF_SJLYDM": tax.code}
    warning = {"CF_CFLB": "警告", "CF_NR": "警告", "CF_NR_FK": "", **by_tax}
    person = _person_row(7, **warning)
    company = f.penalty_row(**warning)
    shop = f.penalty_row(CF_XDR_MC="安吉县小店", CF_XDR_LB="个体工商户", CF_XDR_SHXYM=f.individual_code(7), **warning)
    load([person, company, shop, f.penalty_row(CF_XDR_MC=company["CF_XDR_MC"], CF_XDR_SHXYM=company["CF_XDR_SHXYM"],
                                                **by_tax)], department=tax)  # fmt: skip
    subjects = {s.kind.value: s for s in db_session.scalars(select(Subject).where(
        Subject.name.in_(["王小明", company["CF_XDR_MC"], "安吉县小店"])))}  # fmt: skip
    assert set(subjects) == {"person", "organisation", "individual_business"}
    together = service.counts_for(db_session, list(subjects.values()), settings=portal_settings, today=ON_SHOW)
    assert together[subjects["organisation"].id] == {"penalty": 2}
    assert together[subjects["individual_business"].id] == {"penalty": 1}
    assert together[subjects["person"].id] == {}
    for subject in subjects.values():  # the same as one at a time
        alone = service.counts_for(db_session, [subject], settings=portal_settings, today=ON_SHOW)
        assert alone[subject.id] == together[subject.id]


def test_market_regulation_warning_withheld_other_departments_published(client, load, tax, portal_settings):
    market_row = f.penalty_row(CF_CFLB="警告", CF_NR="警告", CF_NR_FK="")
    tax_row = f.penalty_row(CF_CFLB="警告", CF_NR="警告", CF_NR_FK="", CF_CFJG=tax.name, CF_CFJGDM=tax.code,
                            CF_SJLY=tax.name, CF_SJLYDM=tax.code)  # fmt: skip
    load([market_row])
    load([tax_row], department=tax)
    assert market_row["CF_WSH"] not in client.get(f"/subjects/{market_row['CF_XDR_SHXYM']}").text
    assert tax_row["CF_WSH"] in client.get(f"/subjects/{tax_row['CF_XDR_SHXYM']}").text
    client.app.state.settings = portal_settings.model_copy(update={"disclosure_publish_market_warnings": True})
    assert market_row["CF_WSH"] in client.get(f"/subjects/{market_row['CF_XDR_SHXYM']}").text


def test_sql_clause_agrees_with_pure_rule(db_session, load, tax, portal_settings):
    """Every public query uses the SQL clause; it must say exactly what rules.withheld_reason says."""
    settings = portal_settings.model_copy(update={"disclosure_max_months": {"penalty:market": {"一般": 6}}})
    rows = [
        f.penalty_row(CF_JDRQ="2024-10-21"),
        f.penalty_row(CF_JDRQ="2024-10-21", CF_CFLB="警告", CF_NR="警告", CF_NR_FK=""),
        f.penalty_row(CF_JDRQ="2024-06-30", CF_CFLB="吊销许可证件", CF_NR="吊销", CF_NR_FK=""),
        f.penalty_row(CF_JDRQ="2024-08-31", CF_CFLB="通报批评", CF_NR="通报批评", CF_NR_FK=""),
        _person_row(6, CF_JDRQ="2024-10-21"),
        _person_row(7, CF_JDRQ="2024-10-21", CF_CFLB="警告", CF_NR="警告", CF_NR_FK=""),
    ]
    load(rows, today=INGESTED)
    tax_rows = [f.penalty_row(CF_JDRQ="2024-10-21", CF_CFJG=tax.name, CF_CFJGDM=tax.code, CF_SJLY=tax.name,
                              CF_SJLYDM=tax.code, CF_CFLB=c, CF_NR=c, CF_NR_FK="") for c in ("警告", "没收违法所得")]  # fmt: skip
    load(tax_rows, department=tax, today=INGESTED)
    policy = disclosure.load_policy(settings)
    catalog = load_catalog()
    classes = disclosure.department_classes(db_session, policy)
    pairs = db_session.execute(select(Record, Subject.kind).join(Subject, Subject.id == Record.subject_id)).all()
    start = date(2024, 10, 19)
    for offset in range(0, 1100, 7):
        today = start + timedelta(days=offset)
        clause = disclosure.published_clause(db_session, policy, today, subject_kind=Subject.kind)
        in_sql = set(db_session.scalars(select(Record.id).join(Subject, Subject.id == Record.subject_id).where(clause)))
        in_rule = {
            r.id for r, kind in pairs
            if rules.is_published(disclosure.facts_of(r, kind.value, classes.by_id[r.department_id], catalog),
                                  policy, today)
        }  # fmt: skip
        assert in_sql == in_rule, today


def test_sweep_records_what_left_publication_once(db_session, load, portal_settings, market):
    record, _row = _penalty(load)
    records_service.revoke_record(db_session, department=market, record_type="penalty",
                                  doc_no=load([f.penalty_row(CF_JDRQ=DECIDED)], today=INGESTED)[0].doc_no,
                                  reason="决定已被撤销", actor="test")  # fmt: skip
    assert disclosure.sweep(db_session, settings=portal_settings, today=date(2025, 10, 20)) == {"revoked": 1}
    assert disclosure.sweep(db_session, settings=portal_settings, today=date(2025, 10, 21)) == {"expired": 1}
    assert disclosure.sweep(db_session, settings=portal_settings, today=date(2025, 10, 22)) == {}
    withdrawal = db_session.get(Withdrawal, record.id)
    assert withdrawal is not None
    assert withdrawal.last_day == date(2025, 10, 20)
    assert withdrawal.swept_on == date(2025, 10, 21)


def test_listing_excludes_persons_and_filters(client, load, tax):
    company = f.penalty_row()
    person = _person_row(8)
    load([company, person])
    tax_row = f.penalty_row(CF_CFJG=tax.name, CF_CFJGDM=tax.code, CF_SJLY=tax.name, CF_SJLYDM=tax.code)
    load([tax_row], department=tax)
    page = client.get("/disclosure/penalty")
    assert company["CF_WSH"] in page.text
    assert tax_row["CF_WSH"] in page.text
    assert person["CF_WSH"] not in page.text
    assert "王" not in page.text.split("<main")[1].split("<footer")[0]
    only_tax = client.get("/disclosure/penalty", params={"department": str(tax.id)})
    assert tax_row["CF_WSH"] in only_tax.text
    assert company["CF_WSH"] not in only_tax.text
    none = client.get("/disclosure/penalty", params={"date_from": "2030-01-01"})
    assert "查询期内无相关信息" in none.text
    licences = load([f.license_row()], record_type="license")
    assert licences[0].doc_no in client.get("/disclosure/license", params={"category": "普通"}).text


def test_unknown_department_has_no_class(db_session):
    dept = Department(code="X", name="安吉县交通运输局")
    assert disclosure.load_policy  # policy loads without configuration
    assert rules.DisclosurePolicy().department_class(dept.code, dept.name) is None


def test_each_record_carries_its_subjects_kind_and_the_listing_counts_by_it(db_session, load, portal_settings):
    """`records.subject_kind` is what the listing's count reads instead of `subjects`: it is the subject's kind
    for every kind, and the count leaves natural persons out as the page does."""
    company = f.penalty_row()
    business = f.penalty_row(CF_XDR_MC="安吉县小李便利店", CF_XDR_LB="个体工商户", CF_XDR_SHXYM=f.individual_code(77))
    person = _person_row(9)
    loaded = load([company, business, person])
    assert len(loaded) == 3
    kinds = {r.doc_no: (r.subject_kind.value, db_session.get(Subject, r.subject_id).kind.value) for r in loaded}
    assert kinds == {company["CF_WSH"]: ("organisation", "organisation"),
                     business["CF_WSH"]: ("individual_business", "individual_business"),
                     person["CF_WSH"]: ("person", "person")}  # fmt: skip
    listing = disclosure.ListingFilter(record_type="penalty")
    rows, total, capped = disclosure.latest_records(db_session, settings=portal_settings, listing=listing,
                                                    today=date(2025, 10, 20), offset=0, limit=20)  # fmt: skip
    assert total == 2
    assert not capped
    assert sorted(r.doc_no for r, _ in rows) == sorted([company["CF_WSH"], business["CF_WSH"]])


def test_listing_pages_newest_day_first_then_newest_record_without_gaps(db_session, load, portal_settings):
    """The listing's order is the decision date, then the record's id, both descending: pages of one day's
    many records follow each other with none repeated or missed (the order the listing's index holds)."""
    older = load([f.penalty_row(CF_JDRQ="2025-09-28") for _ in range(3)])
    newer = load([f.penalty_row(CF_JDRQ="2025-09-29") for _ in range(7)])
    expected = [r.id for r in sorted(newer, key=lambda r: -r.id)] + [r.id for r in sorted(older, key=lambda r: -r.id)]
    listing = disclosure.ListingFilter(record_type="penalty")
    seen: list[int] = []
    for offset in range(0, 12, 4):
        rows, total, _ = disclosure.latest_records(db_session, settings=portal_settings, listing=listing,
                                                   today=ON_SHOW, offset=offset, limit=4)  # fmt: skip
        assert total == 10
        seen += [r.id for r, _ in rows]
    assert seen == expected
