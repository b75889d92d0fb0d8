"""Engine settings that matter for a server on SQLite."""

from __future__ import annotations

import pytest

from xinyong import db
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


def _postgres(database_url):  # type: ignore[no-untyped-def]
    if not database_url.startswith("postgresql"):
        pytest.skip("pooled connections are only pinged on PostgreSQL")


def test_a_pooled_connection_is_pinged_only_after_sitting_idle(database_url, monkeypatch, manual_clock):  # type: ignore[no-untyped-def]
    _postgres(database_url)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.3)
    engine = make_engine(database_url)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))
    for _ in range(3):  # a fresh connection, then one returned moments ago: no round trip spent on a ping
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    assert pings == []
    manual_clock.advance(0.4)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    assert len(pings) == 1
    engine.dispose()


def test_a_pooled_connection_the_server_dropped_while_idle_is_replaced(database_url, monkeypatch, manual_clock):  # type: ignore[no-untyped-def]
    _postgres(database_url)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.2)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    other = make_engine(database_url)  # a pool of its own: the first connection stays idle in this one
    with other.connect() as killer:
        assert killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})").scalar()
    other.dispose()
    manual_clock.advance(0.3)
    with engine.connect() as conn:  # the ping finds it dead; the pool connects again instead of failing
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    engine.dispose()
