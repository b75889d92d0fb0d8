"""`records.categories`: the payload's categories copied into a column, so that a subject's published records
are counted from one index (the code look-up and the profile do it on every request)."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import inspect, select, text, update
from sqlalchemy.orm import Session
from tests.factories import records as f
from tests.fixtures.keys import keyed_sessionmaker

from xinyong import migrate
from xinyong.catalog import load_catalog
from xinyong.db import make_engine
from xinyong.disclosure import service as disclosure
from xinyong.portal import service as portal
from xinyong.records import service as records_service
from xinyong.records.models import Record

WARNING = {"CF_CFLB": "警告", "CF_NR": "警告", "CF_NR_FK": ""}


def test_the_pipeline_stores_the_categories_it_publishes(load):
    warning, fine = load([f.penalty_row(**WARNING), f.penalty_row()])
    assert warning.categories == "警告" == warning.payload["CF_CFLB"]
    assert fine.categories == fine.payload["CF_CFLB"]
    assert fine.categories
    (licence,) = load([f.license_row()], record_type="license")
    assert licence.categories is None  # licences have no categories field


def test_a_correction_updates_the_categories(db_session, load):
    row = f.penalty_row()
    (record,) = load([row])
    assert record.categories != "警告"
    (corrected,) = load([{**row, **WARNING}])
    db_session.refresh(corrected)
    assert corrected.id == record.id
    assert corrected.version == 2
    assert corrected.categories == "警告"


def test_reindex_refills_the_categories_from_the_payload(db_session, load, settings):
    warning, fine = load([f.penalty_row(**WARNING), f.penalty_row()])
    db_session.execute(update(Record).values(categories=None))
    db_session.execute(update(Record).where(Record.id == fine.id).values(categories="警告"))  # wrong, not missing
    catalog = load_catalog(settings.catalog_dirs)
    assert disclosure.refill_categories(db_session, catalog) == 2
    db_session.expire_all()
    assert db_session.get(Record, warning.id).categories == "警告"
    assert db_session.get(Record, fine.id).categories == fine.payload["CF_CFLB"]
    assert disclosure.refill_categories(db_session, catalog) == 0  # nothing left to change


def test_migration_0009_fills_the_column_for_records_stored_before_it(fresh_database_url, settings, protector):
    engine = make_engine(fresh_database_url)
    try:
        with keyed_sessionmaker(engine)() as session:
            department = f.department(session)
            result = records_service.import_rows(
                session, [f.penalty_row(**WARNING), f.penalty_row()], settings=settings, protector=protector,
                record_type="penalty", department=department, actor="test", today=date(2025, 10, 20),
                reported_on=date(2025, 10, 20),
            )  # fmt: skip
            assert result.created == 2
            payloads = dict(session.execute(select(Record.id, Record.payload)).all())
        config = migrate.alembic_config(fresh_database_url)
        command.downgrade(config, "0008")
        with engine.connect() as connection:
            assert "categories" not in {c["name"] for c in inspect(connection).get_columns("records")}
            assert "ix_records_subject_type" in {i["name"] for i in inspect(connection).get_indexes("records")}
        engine.dispose()
        migrate.upgrade(fresh_database_url)
        with engine.connect() as connection:
            stored = dict(connection.execute(text("SELECT id, categories FROM records")).all())
            indexes = {i["name"] for i in inspect(connection).get_indexes("records")}
        assert stored == {i: p["CF_CFLB"] for i, p in payloads.items()}
        assert "警告" in stored.values()
        assert "ix_records_subject_published" in indexes
        assert "ix_records_subject_type" not in indexes
    finally:
        engine.dispose()


def test_the_published_count_reads_only_the_index(db_session: Session, load, portal_settings, engine):
    (record,) = load([f.penalty_row(**WARNING)])
    clause = disclosure.published_clause(
        db_session, disclosure.load_policy(portal_settings), date(2025, 10, 20), subject_kind="organisation"
    )
    statement = portal._count_statement(clause, reads_subjects=False).params(ids=[record.subject_id])
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL chooses index-only scans by its visibility map; seen in the portal benchmark")
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(row[-1]) for row in db_session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "COVERING INDEX ix_records_subject_published" in plan, plan
