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


def test_the_app_applies_its_cache_settings_to_its_engine(tmp_path):  # type: ignore[no-untyped-def]
    from xinyong import refcache
    from xinyong.app import create_app
    from xinyong.config import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}", secret_key="k" * 40,
                              sqlite_cache_mb=4, reference_cache_seconds=0))  # fmt: skip
    engine = app.state.engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -4 * 1024
    assert refcache._ttl[engine] == 0
    engine.dispose()
