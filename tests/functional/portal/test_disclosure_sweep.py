"""The sweep, set-based in the database, against the pure rules it stands for (`rules.withheld_reason`,
`rules.last_day`): generated records of every tier and kind, swept on the days around each one's last day."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests.factories import records as f
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.catalog import load_catalog
from xinyong.codes import make_id_number, make_uscc
from xinyong.config import Settings
from xinyong.db import make_engine, session_scope
from xinyong.disclosure import rules
from xinyong.disclosure import service as disclosure
from xinyong.disclosure.models import Withdrawal
from xinyong.records import service as records_service
from xinyong.records.models import Record, RecordStatus
from xinyong.subjects.models import Subject

LOADED = date(2026, 1, 5)
# Shortened periods: per department class (a configured class and the market class by name) and per type.
PERIODS = {"penalty:market": {"一般": 6, "轻微": 0}, "penalty:tax": {"严重": 12}, "penalty": {"一般": 9, "严重": 24}}
# Categories and fines that give every tier; repeated and full-width spellings are made after loading.
SHAPES = [
    ("警告", ""), ("通报批评", ""), ("警告;通报批评", ""), ("警告;罚款", "0.2"), ("罚款", "0.5"), ("罚款", "150"),
    ("吊销许可证件", ""), ("没收违法所得", ""),
]
# Decision dates with month ends, a leap day and days late in the month, where adding months clamps.
DECIDED = [date(2023, 1, 31), date(2023, 8, 31), date(2023, 12, 30), date(2024, 2, 29), date(2024, 3, 31),
           date(2024, 5, 31), date(2024, 8, 30), date(2024, 10, 21), date(2025, 1, 1), date(2025, 6, 30),
           date(2025, 12, 31)]  # fmt: skip


def _rows(tax: Any, plain: Any, rng: random.Random) -> list[tuple[Any, dict[str, str]]]:
    rows = []
    n = 0
    for decided in DECIDED:
        for categories, fine in SHAPES:
            department = rng.choice([None, tax, plain])
            by = {} if department is None else {"CF_CFJG": department.name, "CF_CFJGDM": department.code,
                                                "CF_SJLY": department.name, "CF_SJLYDM": department.code}  # fmt: skip
            row = f.penalty_row(CF_JDRQ=decided.isoformat(), CF_CFLB=categories, CF_NR=categories, CF_NR_FK=fine,
                                **by)  # fmt: skip
            kind = rng.choice(["organisation", "person", "person", "individual"])
            if kind == "person":
                n += 1
                row.update(CF_XDR_MC="王小明", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJLX="身份证",
                           CF_XDR_ZJHM=make_id_number("330523", date(1970, 1, 1) + timedelta(days=n), "123"),
                           CF_FRDB="", CF_SY="经查，当事人无证经营。")  # fmt: skip
            elif kind == "individual":
                row.update(CF_XDR_MC=f"安吉县小店{row['CF_WSH'][-6:-1]}", CF_XDR_LB="个体工商户",
                           CF_XDR_SHXYM=f.individual_code(int(row["CF_WSH"].split("〕")[1][:-1])))  # fmt: skip
            rows.append((department, row))
    return rows


def _expected(records: list[Record], kinds: dict[int, str], classes: Any, policy: Any, catalog: Any,
              today: date, noted: dict[int, tuple[str, date | None, date]]) -> dict[str, int]:  # fmt: skip
    """The sweep as it was written before, record by record with the pure rules."""
    counts: dict[str, int] = {}
    for record in records:
        if record.id in noted or (record.status != RecordStatus.REVOKED and record.tier is None):
            continue
        facts = disclosure.facts_of(record, kinds[record.subject_id], classes.by_id.get(record.department_id), catalog)
        reason = rules.withheld_reason(facts, policy, today)
        if reason in ("expired", "revoked"):
            noted[record.id] = (reason, rules.last_day(facts, policy), today)
            counts[reason] = counts.get(reason, 0) + 1
    return counts


@pytest.mark.parametrize("variant", ["warnings-withheld", "person-warnings-published"])
def test_sweep_agrees_with_pure_rule(db_session, load, portal_settings, market, tax, variant):
    update: dict[str, Any] = {"disclosure_max_months": PERIODS, "disclosure_department_classes": {tax.code: "tax"}}
    if variant == "person-warnings-published":
        update |= {"disclosure_publish_person_warnings": True, "disclosure_warning_categories": ("警告", "通报批评")}
    settings: Settings = portal_settings.model_copy(update=update)
    plain = f.department(db_session, code=make_uscc("1", "1", "330521", "00000003"), name="安吉县交通运输局")
    rng = random.Random(7)
    for department, row in _rows(tax, plain, rng):
        load([row], department=department, today=LOADED)
    load([f.license_row(), f.license_row()], record_type="license", today=LOADED)
    records = list(db_session.scalars(select(Record).order_by(Record.id)))
    assert {r.tier for r in records} == {"轻微", "一般", "严重", None}
    # Spellings the column alone cannot settle, as older imports stored them or before a reindex: the sweep
    # must read the payload for these, as the pure rule does.
    penalties = [r for r in records if r.record_type == "penalty"]
    for record, odd in zip(rng.sample(penalties, 24), ["警告；警告", " 警告 ", "警告;警告", None] * 6, strict=True):
        record.payload = {**record.payload, "CF_CFLB": odd or "警告"}
        record.categories = odd
    for record in rng.sample(records, 10):  # revoked before the first sweep
        record.status = RecordStatus.REVOKED
    late = rng.sample([r for r in records if r.status == RecordStatus.ACTIVE], 10)  # revoked on the way
    db_session.flush()

    policy = disclosure.load_policy(settings)
    catalog = load_catalog()
    classes = disclosure.department_classes(db_session, policy)
    assert {classes.by_id[r.department_id] for r in records} == {rules.MARKET, "tax", None}
    kinds = {s.id: s.kind.value for s in db_session.scalars(select(Subject))}
    assert set(kinds.values()) == {"person", "organisation", "individual_business"}
    last_days = {rules.last_day(disclosure.facts_of(r, kinds[r.subject_id], classes.by_id.get(r.department_id),
                                                    catalog), policy) for r in records}  # fmt: skip
    # The days around every last day (the day before, the day itself, the day after) and some decision dates.
    days = sorted({d + timedelta(days=k) for d in last_days if d for k in (-1, 0, 1)}
                  | {d + timedelta(days=k) for d in DECIDED for k in (-1, 0)})  # fmt: skip
    noted: dict[int, tuple[str, date | None, date]] = {}
    for i, today in enumerate(days):
        if i == len(days) // 3:
            for record in late:
                record.status = RecordStatus.REVOKED
            db_session.flush()
        expected = _expected(records, kinds, classes, policy, catalog, today, noted)
        assert disclosure.sweep(db_session, settings=settings, today=today) == expected, today
        stored = {w.record_id: (w.reason, w.last_day, w.swept_on) for w in db_session.scalars(select(Withdrawal))}
        assert stored == noted, today
    assert disclosure.sweep(db_session, settings=settings, today=days[-1]) == {}  # idempotent
    reasons = {reason for reason, _, _ in noted.values()}
    assert reasons == {"expired", "revoked"}
    # Some records were never public and stay unnoted: withheld warnings of persons or market departments.
    assert len(noted) < len(records) - 2


def test_the_commands_sweep_notes_in_batches_what_the_rule_says(fresh_database_url: str, portal_settings: Settings,
                                                                protector: Any) -> None:  # fmt: skip
    """`sweep_beside_writers` (the command's and the job's): on SQLite the records due are read apart and noted in
    batches of their own (here of 7), committed; it notes what the pure rule says, the payload-settled records
    included, and nothing twice."""
    settings = portal_settings.model_copy(update={"database_url": fresh_database_url, "disclosure_max_months": PERIODS})
    engine = make_engine(fresh_database_url)
    factory = keyed_sessionmaker(engine)
    rng = random.Random(11)
    with session_scope(factory) as session:
        market = f.department(session)
        tax = f.department(session, code=f.OTHER_DEPT_CODE, name="国家税务总局安吉县税务局")
        plain = f.department(session, code=make_uscc("1", "1", "330521", "00000003"), name="安吉县交通运输局")
        for department, row in _rows(tax, plain, rng):
            result = records_service.import_rows(session, [row], settings=settings, protector=protector,
                                                 record_type="penalty", department=department or market,
                                                 actor="test", today=LOADED, reported_on=LOADED)  # fmt: skip
            assert result.rejected == 0, result
        records = list(session.scalars(select(Record).order_by(Record.id)))
        for record, odd in zip(rng.sample(records, 12), ["警告；警告", " 警告 ", None] * 4, strict=True):
            record.payload = {**record.payload, "CF_CFLB": odd or "警告"}  # only the payload settles these
            record.categories = odd
        for record in rng.sample(records, 6):
            record.status = RecordStatus.REVOKED
    noted: dict[int, tuple[str, date | None, date]] = {}
    for today in (date(2024, 3, 1), date(2025, 2, 1), date(2026, 1, 1), date(2027, 6, 30)):
        with factory() as session:
            records = list(session.scalars(select(Record).order_by(Record.id)))
            kinds = {s.id: s.kind.value for s in session.scalars(select(Subject))}
            policy = disclosure.load_policy(settings)
            classes = disclosure.department_classes(session, policy)
            expected = _expected(records, kinds, classes, policy, load_catalog(), today, noted)
        assert disclosure.sweep_beside_writers(factory, settings=settings, today=today, batch=7) == expected, today
        with factory() as session:
            stored = {w.record_id: (w.reason, w.last_day, w.swept_on) for w in session.scalars(select(Withdrawal))}
        assert stored == noted, today
    assert sum(1 for reason, _, _ in noted.values() if reason == "expired") > 7  # several batches
    assert disclosure.sweep_beside_writers(factory, settings=settings, today=date(2027, 6, 30), batch=7) == {}
    engine.dispose()
