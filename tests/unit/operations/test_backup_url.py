"""pg_dump and pg_restore get the database's URL without its password, which goes in their environment: a
password on the command line shows in every process listing."""

from __future__ import annotations

from xinyong.backup import libpq_url


def test_password_goes_to_the_environment() -> None:
    assert libpq_url("postgresql+psycopg://credit:s3cr%40t@db.internal:5432/xinyong") == (
        "postgresql://credit@db.internal:5432/xinyong", {"PGPASSWORD": "s3cr@t"})
    assert libpq_url("postgresql://credit@127.0.0.1/xinyong") == ("postgresql://credit@127.0.0.1/xinyong", {})
