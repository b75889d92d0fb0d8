"""`xinyong serve` builds the app and keeps what it built out of the garbage collector's full passes before it
hands the app to uvicorn (not started here), in one process or in each worker."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from xinyong import heap
from xinyong.app import app_from_env
from xinyong.cli import app as cli
from xinyong.commandline import settings


@pytest.fixture
def environment(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from tests.fixtures.keys import TEST_KEY

    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    settings.cache_clear()
    gc.unfreeze()  # whatever an earlier test left frozen: the count starts from nothing
    try:
        yield
    finally:
        heap._settled = False
        gc.unfreeze()  # the test process builds many apps: none of them may stay out of collection
        settings.cache_clear()


def test_serve_settles_the_apps_objects_before_serving(environment, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    seen: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:  # where uvicorn would start serving
        seen.update(app=app, frozen=gc.get_freeze_count(), options=options)

    monkeypatch.setattr(uvicorn, "run", run)
    result = CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert isinstance(seen["app"], FastAPI)
    assert seen["options"]["port"] == 8123
    assert seen["frozen"] > 50_000  # the modules, routes, mappers and templates of the app, at least
    seen["app"].state.engine.dispose()


def test_each_worker_settles_its_own_app(environment) -> None:  # type: ignore[no-untyped-def]
    assert gc.get_freeze_count() == 0
    app = app_from_env()  # what `xinyong serve --workers N` has uvicorn call in each worker process
    assert gc.get_freeze_count() > 50_000
    app.state.engine.dispose()
