"""The demo is a city with three counties (市县信用一张网): 湖州市 the platform's region, 德清县, 长兴县 and 安吉县
each with its departments, records, 信用办 account and portal."""

from __future__ import annotations

from collections import Counter
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.demo.loader import load_demo
from xinyong.departments.models import Department
from xinyong.records.models import Record
from xinyong.regions import service as regions_service
from xinyong.web.deps import get_today

TODAY = date(2025, 10, 20)


def test_the_default_demo_is_a_city_with_three_counties(db_session: Session, console_settings, protector,
                                                        app) -> None:  # type: ignore[no-untyped-def]
    summary = load_demo(db_session, settings=console_settings, protector=protector, subjects=90, records=240, seed=2,
                        today=TODAY)  # fmt: skip
    db_session.commit()
    tree = regions_service.tree(db_session)
    assert tree.root is not None
    assert tree.root.code == "330500"
    assert [n.code for n in tree.children("330500")] == ["330521", "330522", "330523"]
    assert [code for code, _ in summary.regions] == ["330500", "330521", "330522", "330523"]
    by_region = Counter(db_session.scalars(select(Department.region)))
    assert by_region == {"330521": 8, "330522": 8, "330523": 8}
    made = Counter(db_session.execute(select(Department.region, Record.id).join(Record, Record.department_id == Department.id))
                   .scalars())  # fmt: skip
    assert set(made) == {"330521", "330522", "330523"}
    assert {username for username, _, _ in summary.accounts} >= {"admin", "county1", "county2", "county3"}

    app.dependency_overrides[get_today] = lambda: TODAY
    with TestClient(app) as client:
        city = client.get("/")
        county = client.get("/region/330522/")
        assert (city.status_code, county.status_code) == (200, 200)
        assert "湖州市长兴县" in county.text
        listing = client.get("/region/330522/disclosure/penalty")
        assert "长兴县" in listing.text
        assert "德清县市场监督管理局" not in listing.text
        assert "安吉县市场监督管理局" not in listing.text


def test_a_single_county_demo_registers_no_region(db_session: Session, console_settings, protector) -> None:  # type: ignore[no-untyped-def]
    summary = load_demo(db_session, settings=console_settings, protector=protector, subjects=30, records=60, seed=2,
                        today=TODAY, city=None, counties=("330521",))  # fmt: skip
    assert summary.regions == []
    assert regions_service.tree(db_session).root is None
    assert {r for (r,) in db_session.execute(select(Department.region))} == {"330521"}
