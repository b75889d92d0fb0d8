from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import records as f
from tests.fixtures.sessions import serve_from

from xinyong.app import create_app
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.web.deps import get_today

TODAY = date(2025, 10, 20)


@pytest.fixture
def portal_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"portal_rate_limit_requests": 0})


@pytest.fixture
def day() -> dict[str, date]:
    """The portal's 'today'; tests move it to cross period boundaries."""
    return {"today": TODAY}


@pytest.fixture
def client(portal_settings: Settings, db_session: Session, day: dict[str, date]) -> Iterator[TestClient]:
    app = create_app(portal_settings)

    serve_from(app, db_session)
    app.dependency_overrides[get_today] = lambda: day["today"]
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def market(db_session: Session) -> Department:
    return f.department(db_session)


@pytest.fixture
def tax(db_session: Session) -> Department:
    return f.department(db_session, code=f.OTHER_DEPT_CODE, name="国家税务总局安吉县税务局")


Loader = Callable[..., list[Record]]


@pytest.fixture
def load(db_session: Session, portal_settings: Settings, protector: Any, market: Department) -> Loader:
    """Ingest rows through the real pipeline; returns the stored records in row order."""

    def run(rows: list[dict[str, str]], record_type: str = "penalty", department: Department | None = None,
            today: date = TODAY) -> list[Record]:  # fmt: skip
        dept = department or market
        result = records_service.import_rows(
            db_session, rows, settings=portal_settings, protector=protector, record_type=record_type,
            department=dept, actor="test", today=today, reported_on=today,
        )  # fmt: skip
        assert result.rejected == 0, result
        doc_key = "CF_WSH" if record_type == "penalty" else "XK_WSH"
        docs = [r[doc_key] for r in rows]
        found = {r.doc_no: r for r in db_session.scalars(select(Record).where(Record.doc_no.in_(docs)))}
        return [found[d] for d in docs]

    return run
