"""The public look-ups' session (`deps.get_read_session`): no transaction on PostgreSQL, the usual elsewhere."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from sqlalchemy import text

from xinyong.db import make_engine, make_sessionmaker
from xinyong.web.deps import get_read_session


def _open(factory):  # type: ignore[no-untyped-def]
    request = SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(read_session_factory=factory)))
    return get_read_session(request)  # type: ignore[arg-type]


def test_public_reads_run_outside_a_transaction_on_postgresql(database_url):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    postgresql = engine.dialect.name == "postgresql"

    async def look_up():  # type: ignore[no-untyped-def]
        sessions = _open(factory)
        session = await sessions.__anext__()
        assert session.execute(text("SELECT 1")).scalar() == 1
        driver = session.connection().connection.driver_connection
        if postgresql:
            import psycopg

            # No BEGIN was sent: after a statement the server is idle, not "in transaction".
            assert driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
            assert driver.autocommit is True
        await sessions.aclose()
        return driver

    driver = asyncio.run(look_up())
    with factory() as session:  # the pooled connection is back to ordinary transactions
        assert session.execute(text("SELECT 1")).scalar() == 1
        again = session.connection().connection.driver_connection
        assert again is driver
        if postgresql:
            import psycopg

            assert again.autocommit is False
            assert again.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    engine.dispose()
