"""Engine settings that matter for a server on SQLite."""

from __future__ import annotations

from xinyong.db import make_engine


def test_sqlite_page_cache_follows_the_setting(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}", sqlite_cache_mb=8)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -8 * 1024
    engine.dispose()


def test_the_pool_hands_out_the_most_recently_used_connection(tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'lifo.db'}")
    first, second = engine.connect(), engine.connect()
    first_dbapi, second_dbapi = first.connection.driver_connection, second.connection.driver_connection
    first.close()
    second.close()  # returned last: its page cache is the warmest
    with engine.connect() as conn:
        assert conn.connection.driver_connection is second_dbapi
        assert conn.connection.driver_connection is not first_dbapi
    engine.dispose()
