"""Catalogue fixtures: record types declared only in files of an operator's catalogue folder, imported through the
real pipeline, and a portal app that reads them (its 'today' movable by the test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import catalog as cf
from tests.factories import records as rf
from tests.fixtures.sessions import serve_from

from xinyong.app import create_app
from xinyong.catalog import Catalog, load_catalog
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.web.deps import get_today

TODAY = date(2025, 10, 20)


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return cf.write_catalog(tmp_path / "catalog")


@pytest.fixture
def catalog_settings(settings: Settings, catalog_dir: Path) -> Settings:
    return settings.model_copy(update={"catalog_dirs": (catalog_dir,), "portal_rate_limit_requests": 0})


@pytest.fixture
def catalog(catalog_settings: Settings) -> Catalog:
    return load_catalog(catalog_settings.catalog_dirs)


@pytest.fixture
def day() -> dict[str, date]:
    """The portal's 'today'; tests move it to cross publicity periods."""
    return {"today": TODAY}


@pytest.fixture
def client(catalog_settings: Settings, db_session: Session, day: dict[str, date]) -> Iterator[TestClient]:
    app = create_app(catalog_settings)

    serve_from(app, db_session)
    app.dependency_overrides[get_today] = lambda: day["today"]
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def market(db_session: Session) -> Department:
    return rf.department(db_session)


Loader = Callable[..., list[Record]]


@pytest.fixture
def load(db_session: Session, catalog_settings: Settings, catalog: Catalog, protector: Any, market: Department
         ) -> Loader:  # fmt: skip
    """Ingest rows of one type through the real pipeline; returns the stored records in row order."""

    def run(rows: list[dict[str, str]], record_type: str) -> list[Record]:
        result = records_service.import_rows(
            db_session, rows, settings=catalog_settings, protector=protector, record_type=record_type,
            department=market, actor="test", today=TODAY, reported_on=TODAY,
        )  # fmt: skip
        assert result.rejected == 0, [(p.column, p.code, p.message) for p in records_service.iter_problems(db_session, result.batch_id)]
        doc_code = catalog.get(record_type).role_code("doc_no")
        docs = [r[doc_code] for r in rows]
        found = {r.doc_no: r for r in db_session.scalars(select(Record).where(Record.doc_no.in_(docs)))}
        return [found[d] for d in docs]

    return run
