"""The console's home page (工作台) per county: the city's 信用办 sees one line per county, the city's own
departments and the total; a county's 信用办 sees its own figures only, no other county's name or numbers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from tests.factories.records import department
from tests.fixtures.regions import CITY, Regional

from xinyong.codes import make_uscc
from xinyong.db import utcnow
from xinyong.departments.models import Department
from xinyong.records.models import Batch, BatchSource, BatchStatus


def _batch(session: Session, dept: Department, rows: int, rejected: int, late: int, *, days_ago: int = 1) -> None:
    started = utcnow() - timedelta(days=days_ago)
    session.add(Batch(department_id=dept.id, record_type="penalty", source=BatchSource.UPLOAD, actor="test",
                      status=BatchStatus.COMPLETED, reported_on=started.date(), rows_read=rows,
                      created=rows - rejected, rejected=rejected, late=late, started_at=started,
                      heartbeat_at=started, finished_at=started))  # fmt: skip


@pytest.fixture
def figures(db_session: Session, regional: Regional) -> None:
    """德清县 (two departments): 50 rows, 5 refused, 3 late; 长兴县: 20, 6, 7; the city's own office: 8, 0, 1.
    A batch older than the dashboard's 30 days counts nowhere."""
    city_dept = department(db_session, code=make_uscc("1", "1", CITY, "00000009"), name="湖州市发展和改革委员会")
    assert city_dept.region == CITY
    _batch(db_session, regional.accounts.dept_a, 40, 4, 3)
    _batch(db_session, regional.accounts.dept_b, 10, 1, 0)
    _batch(db_session, regional.dept_c, 20, 6, 7)
    _batch(db_session, regional.dept_c, 900, 900, 0, days_ago=40)
    _batch(db_session, city_dept, 8, 0, 1)
    db_session.commit()


def _line(text: str, region: str) -> list[str]:
    row = re.search(rf'<tr[^>]*data-region="{region}">(.*?)</tr>', text, re.S)
    assert row, region
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]


def test_the_city_sees_each_county_and_the_total(regional, figures, sign_in):  # type: ignore[no-untyped-def]
    page = sign_in(regional.users["platform_admin"]).get("/admin")
    assert page.status_code == 200
    assert "分区划汇总" in page.text
    #                                 rows  refused  rate   late  late rate (of accepted rows)
    assert _line(page.text, "330521") == ["德清县", "50", "5", "10.0%", "3", "6.7%"]
    assert _line(page.text, "330522") == ["长兴县", "20", "6", "30.0%", "7", "50.0%"]
    assert _line(page.text, CITY) == ["湖州市（本级）", "8", "0", "0.0%", "1", "12.5%"]
    assert _line(page.text, "total") == ["全市合计", "78", "11", "14.1%", "11", "16.4%"]
    assert '<div class="num">78</div>' in page.text


def test_a_county_sees_only_its_own_figures(regional, figures, sign_in):  # type: ignore[no-untyped-def]
    page = sign_in(regional.users["county_admin"]).get("/admin")
    assert page.status_code == 200
    assert '<div class="num">50</div>' in page.text
    assert "10.0%" in page.text
    assert "6.7%" in page.text
    assert "分区划汇总" not in page.text
    assert "data-region" not in page.text
    for other in ("长兴县", "湖州市（本级）", "全市合计", "30.0%", "50.0%", ">78<", ">20<"):
        assert other not in page.text, other

    page = sign_in(regional.users["county_admin_c"]).get("/admin")
    assert '<div class="num">20</div>' in page.text
    assert "德清县" not in page.text
    assert "分区划汇总" not in page.text


def test_a_department_and_a_department_filter_show_no_county_lines(regional, figures, sign_in):  # type: ignore[no-untyped-def]
    page = sign_in(regional.users["operator"]).get("/admin")
    assert '<div class="num">40</div>' in page.text
    assert "分区划汇总" not in page.text
    page = sign_in(regional.users["platform_admin"]).get(f"/admin?department={regional.dept_c.id}")
    assert '<div class="num">20</div>' in page.text
    assert "分区划汇总" not in page.text


def test_a_moved_department_counts_where_its_batches_were_made(db_session, regional, figures, sign_in):  # type: ignore[no-untyped-def]
    from xinyong.actors import Actor
    from xinyong.departments import service as departments_service

    departments_service.move_department(db_session, department_id=regional.accounts.dept_b.id, region="330522",
                                        actor=Actor.system("test"))  # fmt: skip
    _batch(db_session, regional.accounts.dept_b, 5, 0, 0, days_ago=0)
    db_session.commit()
    page = sign_in(regional.users["platform_admin"]).get("/admin")
    assert _line(page.text, "330521")[:2] == ["德清县", "50"]  # dept_b's earlier batch stays in 德清县
    assert _line(page.text, "330522")[:2] == ["长兴县", "25"]
    assert _line(page.text, "total")[:2] == ["全市合计", "83"]
    county = sign_in(regional.users["county_admin_c"]).get("/admin")
    assert '<div class="num">25</div>' in county.text
