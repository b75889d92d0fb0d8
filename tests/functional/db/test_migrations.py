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
