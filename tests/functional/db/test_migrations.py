"""The migrations and the models describe the same schema, on whichever database the suite runs."""

import time

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from xinyong import models  # noqa: F401  (fills the metadata)
from xinyong.db import Base
from xinyong.migrate import current_heads


def test_migrated_schema_matches_the_models(engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "run `alembic revision --autogenerate` and review it"


def test_one_head(database_url) -> None:
    assert len(current_heads(database_url)) == 1


def test_0010_names_the_account_of_repair_steps_taken_before_it(fresh_database_url) -> None:
    """Applications in progress at the upgrade are covered by the separation of duties too: earlier staff events
    get their account from the actor label; a subject's own events get none."""
    from alembic import command
    from sqlalchemy import text

    from xinyong.db import make_engine
    from xinyong.migrate import alembic_config

    config = alembic_config(fresh_database_url)
    command.downgrade(config, "0009")
    engine = make_engine(fresh_database_url)
    rows = [
        "INSERT INTO departments (id, code, name, is_active, created_at) VALUES (1, '11330521000000001X', '某局', "
        "true, :now)",
        "INSERT INTO users (id, username, display_name, role, password_hash, is_active, must_change_password, "
        "failed_logins, password_changed_at, created_at) VALUES (7, 'zhang', '张', 'platform_admin', 'x', true, "
        "false, 0, :now, :now)",
        "INSERT INTO subjects (id, kind, name, name_norm, created_at, updated_at) VALUES (1, 'organisation', "
        "'某公司', '某公司', :now, :now)",
        "INSERT INTO list_types (id, key, name, nature, origin, legal_basis, deciding_departments, entry_criteria, "
        "exit_conditions, remedy_route, is_public, is_active, created_at, updated_at) VALUES (1, 'watch', '重点关注', "
        "'watch', 'local', '依据', '[]', '标准', '条件', '途径', true, true, :now, :now)",
        "INSERT INTO list_entries (id, list_type_id, subject_id, subject_name, department_id, origin, state, reasons, "
        "basis, is_published_late, created_at, updated_at) VALUES (1, 1, 1, '某公司', 1, 'local', 'published', "
        "'事由', '依据', false, :now, :now)",
        "INSERT INTO repair_applications (id, number, list_entry_id, subject_id, department_id, status, contact_name, "
        "contact_phone, statement, submitted_on, platform_due, round, created_at, updated_at) VALUES (1, "
        "'XF20251020AAAAAA', 1, 1, 1, 'accepted', '李', '13800000000', '已整改', '2025-10-20', '2025-11-03', 1, "
        ":now, :now)",
        "INSERT INTO repair_events (application_id, action, from_status, to_status, actor, created_at) VALUES "
        "(1, 'submit', NULL, 'submitted', 'subject-account:1', :now), "
        "(1, 'accept', 'submitted', 'accepted', 'user:zhang', :now), "
        "(1, 'accept', 'submitted', 'accepted', 'user:nobody', :now)",
    ]
    with engine.begin() as conn:
        for row in rows:
            conn.execute(text(row), {"now": "2025-10-20 08:00:00"})
    command.upgrade(config, "heads")
    with engine.connect() as conn:
        found = conn.execute(text("SELECT actor, user_id FROM repair_events ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in found] == [("subject-account:1", None), ("user:zhang", 7), ("user:nobody", None)]


def test_0025_rebuilds_the_listing_index_in_the_listings_order_and_back(fresh_database_url) -> None:
    """The listing's index gains the id as its last key column and loses it again on downgrade; on PostgreSQL
    the rebuild runs concurrently, and leaves neither a second index nor an invalid one behind."""
    from alembic import command
    from sqlalchemy import inspect, text

    from xinyong.db import make_engine
    from xinyong.migrate import alembic_config

    def listing_index() -> tuple[list[str], list[str]]:
        engine = make_engine(fresh_database_url)
        try:
            indexes = {i["name"]: i for i in inspect(engine).get_indexes("records")}
            names = [name for name in indexes if name.startswith("ix_records_type_decision")]
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    invalid = connection.scalar(text("SELECT count(*) FROM pg_index WHERE NOT indisvalid"))
                assert invalid == 0
            return names, list(indexes["ix_records_type_decision"]["column_names"])
        finally:
            engine.dispose()

    config = alembic_config(fresh_database_url)
    assert listing_index() == (["ix_records_type_decision"], ["record_type", "decision_date", "id"])
    command.downgrade(config, "0024_records_subject_kind")
    assert listing_index() == (["ix_records_type_decision"], ["record_type", "decision_date"])
    command.upgrade(config, "heads")
    assert listing_index() == (["ix_records_type_decision"], ["record_type", "decision_date", "id"])


def test_0023_to_0025_let_other_writers_go_on_on_postgresql(fresh_database_url, settings, protector) -> None:
    """PostgreSQL: the upgrade that gives records their subject's kind and rebuilds the listing's index three
    times takes only short locks. Another connection that updates and reads records throughout,
    giving up on any lock it waits for more than three seconds, is never refused, and the records are filled."""
    import random
    import threading

    import pytest
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from tests.factories import records as rf
    from tests.fixtures.keys import keyed_sessionmaker

    from xinyong.db import make_engine
    from xinyong.migrate import alembic_config
    from xinyong.records import service as records_service

    if make_url(fresh_database_url).get_backend_name() != "postgresql":
        pytest.skip("SQLite has one writer at a time: there is no other writer to let go on")
    engine = make_engine(fresh_database_url)
    with keyed_sessionmaker(engine)() as session:
        rows = [rf.penalty_row() for _ in range(6)]
        result = records_service.import_rows(session, rows, settings=settings, protector=protector,
                                             record_type="penalty", department=rf.department(session), actor="test")  # fmt: skip
        session.commit()
        assert result.rejected == 0, result
    config = alembic_config(fresh_database_url)
    command.downgrade(config, "0022_ingest_name_index")
    with engine.begin() as conn:
        columns = conn.scalars(text("SELECT column_name FROM information_schema.columns WHERE table_name = 'records' "
                                    "AND column_name NOT IN ('id', 'doc_no') ORDER BY ordinal_position")).all()  # fmt: skip
        listed = ", ".join(columns)
        conn.execute(text(f"INSERT INTO records (doc_no, {listed}) SELECT doc_no || '-' || g, {listed} "
                          "FROM records CROSS JOIN generate_series(1, 60000) AS g"))  # fmt: skip
        ids = conn.scalars(text("SELECT id FROM records")).all()
        expected = dict(conn.execute(text("SELECT subjects.kind, count(*) FROM records JOIN subjects "
                                          "ON subjects.id = records.subject_id GROUP BY subjects.kind")).all())  # fmt: skip
    assert len(ids) == 6 * 60_001

    failed: list[BaseException] = []

    def upgrade() -> None:
        try:
            command.upgrade(config, "heads")
        except BaseException as error:
            failed.append(error)

    waits: list[float] = []
    refusals: list[str] = []
    pick = random.Random(1)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SET lock_timeout = '3s'"))
        started = time.monotonic()
        upgrading = threading.Thread(target=upgrade)
        upgrading.start()
        while upgrading.is_alive():
            began = time.monotonic()
            try:
                conn.execute(text("UPDATE records SET updated_at = now() WHERE id = :id"), {"id": pick.choice(ids)})
                conn.execute(text("SELECT doc_no FROM records WHERE id = :id"), {"id": pick.choice(ids)}).one()
            except Exception as error:
                refusals.append(str(error).splitlines()[0])
            waits.append(time.monotonic() - began)
            time.sleep(0.01)
        upgrading.join()
        took = time.monotonic() - started
    assert failed == []
    with engine.connect() as conn:
        filled = dict(conn.execute(text("SELECT subject_kind, count(*) FROM records GROUP BY subject_kind")).all())
        nullable = conn.scalar(text("SELECT is_nullable FROM information_schema.columns "
                                    "WHERE table_name = 'records' AND column_name = 'subject_kind'"))  # fmt: skip
        leftovers = conn.scalars(text("SELECT conname FROM pg_constraint WHERE conname LIKE 'ck_records_%'")).all()
    engine.dispose()
    assert filled == expected
    assert nullable == "NO"
    assert leftovers == []
    # The upgrade is long enough to tell: a writer held for all of it would have been refused.
    assert took > 4, took
    assert refusals == [], refusals[:3]
    assert max(waits) < 3, sorted(waits)[-5:]


def test_0024_stopped_part_way_on_postgresql_starts_again_where_it_stopped(fresh_database_url, settings,
                                                                           protector) -> None:  # fmt: skip
    """A lost connection can stop 0024 after it committed part of its work (the column, some batches, its check
    constraint, the new index half-built): the next upgrade finishes it instead of failing on what is there."""
    import pytest
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from tests.factories import records as rf
    from tests.fixtures.keys import keyed_sessionmaker

    from xinyong.db import make_engine
    from xinyong.migrate import alembic_config
    from xinyong.records import service as records_service

    if make_url(fresh_database_url).get_backend_name() != "postgresql":
        pytest.skip("on SQLite the migration is one transaction: it cannot stop part-way")
    engine = make_engine(fresh_database_url)
    with keyed_sessionmaker(engine)() as session:
        records_service.import_rows(session, [rf.penalty_row() for _ in range(4)], settings=settings,
                                    protector=protector, record_type="penalty", department=rf.department(session),
                                    actor="test")  # fmt: skip
        session.commit()
    config = alembic_config(fresh_database_url)
    command.downgrade(config, "0023_listing_covering_index")
    with engine.begin() as conn:  # what a stopped 0024 leaves behind
        conn.execute(text("ALTER TABLE records ADD COLUMN subject_kind VARCHAR(24)"))
        conn.execute(text("UPDATE records SET subject_kind = 'organisation' WHERE id IN (SELECT min(id) FROM records)"))
        conn.execute(text("ALTER TABLE records ADD CONSTRAINT ck_records_subject_kind_filled "
                          "CHECK (subject_kind IS NOT NULL) NOT VALID"))  # fmt: skip
        conn.execute(text("CREATE INDEX ix_records_type_decision_new ON records (record_type)"))
    command.upgrade(config, "heads")
    with engine.connect() as conn:
        kinds = conn.execute(text("SELECT subject_kind, count(*) FROM records GROUP BY subject_kind")).all()
        constraints = conn.scalars(text("SELECT conname FROM pg_constraint WHERE conname LIKE 'ck_records_%'")).all()
        indexes = conn.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_records_type_decision%'"
                                    )).all()  # fmt: skip
        nullable = conn.scalar(text("SELECT is_nullable FROM information_schema.columns "
                                    "WHERE table_name = 'records' AND column_name = 'subject_kind'"))  # fmt: skip
    engine.dispose()
    assert [tuple(k) for k in kinds] == [("organisation", 4)]
    assert constraints == []
    assert indexes == ["ix_records_type_decision"]
    assert nullable == "NO"
