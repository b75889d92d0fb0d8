"""The migrations and the models describe the same schema, on whichever database the suite runs."""

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
