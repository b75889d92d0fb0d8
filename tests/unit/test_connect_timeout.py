"""A PostgreSQL server that is down costs a page, a scrape or a job CONNECT_TIMEOUT_SECONDS, not the system's TCP
timeout; a URL that sets its own `connect_timeout` keeps it. No server is needed: the connection's parameters are
read as the driver would receive them, and the attempt stopped there."""

import pytest
from sqlalchemy import event

from xinyong.db import CONNECT_TIMEOUT_SECONDS, make_engine


class _Stop(Exception):
    pass


def _timeout_given(url: str) -> object:
    engine = make_engine(url)
    seen: dict[str, object] = {}

    @event.listens_for(engine, "do_connect")
    def _capture(dialect, record, cargs, cparams):  # type: ignore[no-untyped-def]
        seen.update(cparams)
        raise _Stop

    try:
        with pytest.raises(_Stop):
            engine.connect()
    finally:
        engine.dispose()
    return seen.get("connect_timeout")


def test_postgresql_connections_give_up_after_the_platforms_timeout() -> None:
    assert _timeout_given("postgresql://xinyong@127.0.0.1:5432/xinyong") == CONNECT_TIMEOUT_SECONDS


def test_a_url_that_sets_its_own_timeout_keeps_it() -> None:
    assert str(_timeout_given("postgresql://xinyong@127.0.0.1:5432/xinyong?connect_timeout=3")) == "3"
