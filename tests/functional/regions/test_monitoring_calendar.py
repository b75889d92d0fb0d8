"""Monitoring's timeliness on each county's calendar: a decision is late or on time by the working days of its
department's region (its local days over the platform's), in the record's flag, the batch's count, the 及时率 of
the monitoring page, and the 逾期工作日 of the late records' list."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import records as f
from tests.fixtures.regions import CHANGXING, DEQING, Regional

from xinyong.calendar import service as calendar_service
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.records.models import Batch, Record

DECIDED = date(2025, 11, 3)  # a Monday: the 7th working day after it is Wednesday 12 November
REPORTED = date(2025, 11, 17)  # the next Monday


@pytest.fixture
def local_days(db_session: Session, regional: Regional) -> None:
    # 德清县 rests 10–12 November: its deadline moves to Monday 17th, the day of reporting.
    for day in (10, 11, 12):
        calendar_service.set_override(db_session, day=date(2025, 11, day), is_workday=False, note="德清县地方休息日",
                                      region=DEQING)  # fmt: skip
    # 长兴县 works on Saturday 15th (调休): a day later than the deadline, so one more working day late.
    calendar_service.set_override(db_session, day=date(2025, 11, 15), is_workday=True, note="长兴县调休上班",
                                  region=CHANGXING)  # fmt: skip
    db_session.commit()


def _report(session: Session, settings: Settings, protector: Protector, dept: Department, doc_no: str) -> Record:
    row = f.penalty_row(CF_JDRQ=DECIDED.isoformat(), CF_CFJG=dept.name, CF_CFJGDM=dept.code, CF_SJLY=dept.name,
                        CF_SJLYDM=dept.code, CF_WSH=doc_no)  # fmt: skip
    result = records_service.import_rows(session, [row], settings=settings, protector=protector, record_type="penalty",
                                         department=dept, actor="test", today=REPORTED)  # fmt: skip
    assert result.rejected == 0, result
    session.commit()
    return session.scalars(select(Record).where(Record.doc_no == doc_no)).one()


@pytest.fixture
def reported(db_session: Session, console_settings: Settings, protector: Protector, regional: Regional,
             local_days: None) -> dict[str, Record]:  # fmt: skip
    return {
        "deqing": _report(db_session, console_settings, protector, regional.accounts.dept_a, "德市监罚〔2025〕88号"),
        "changxing": _report(db_session, console_settings, protector, regional.dept_c, "长市监罚〔2025〕88号"),
    }


def _cells(text: str, pattern: str) -> list[str]:
    row = re.search(pattern, text, re.S)
    assert row, pattern
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


def test_a_decision_is_late_by_its_countys_working_days(db_session, reported, regional) -> None:  # type: ignore[no-untyped-def]
    deqing, changxing = reported["deqing"], reported["changxing"]
    assert (deqing.deadline, deqing.is_late) == (date(2025, 11, 17), False)
    assert (changxing.deadline, changxing.is_late) == (date(2025, 11, 12), True)
    assert db_session.get(Batch, deqing.batch_id).late == 0
    assert db_session.get(Batch, changxing.batch_id).late == 1


def test_the_monitoring_page_counts_timeliness_per_county(reported, regional, sign_in) -> None:  # type: ignore[no-untyped-def]
    page = sign_in(regional.users["platform_admin"]).get("/admin/monitoring?month=2025-11")
    assert page.status_code == 200
    table = page.text[page.text.index('data-testid="region-table"'):]
    timeliness = 'data-kpi="timeliness"[^>]*>(.*?)</td>'
    assert re.sub(r"<[^>]+>", "", re.search(rf'data-region="{DEQING}".*?{timeliness}', table, re.S).group(1)) == "100.0% 1/1"
    assert re.sub(r"<[^>]+>", "", re.search(rf'data-region="{CHANGXING}".*?{timeliness}', table, re.S).group(1)) == "0.0% 0/1"
    assert re.sub(r"<[^>]+>", "", re.search(rf'data-region="total".*?{timeliness}', table, re.S).group(1)) == "50.0% 1/2"

    county = sign_in(regional.users["county_admin"]).get("/admin/monitoring?month=2025-11")
    assert county.status_code == 200
    assert "100.0%" in county.text
    assert "长兴县" not in county.text


def test_the_late_records_list_counts_days_on_the_countys_calendar(reported, regional, sign_in) -> None:  # type: ignore[no-untyped-def]
    browser = sign_in(regional.users["platform_admin"])
    page = browser.get(f"/admin/monitoring/2025-11/departments/{regional.dept_c.id}/late")
    assert page.status_code == 200
    cells = _cells(page.text, r"<tbody>\s*<tr>(.*?)</tr>")
    # 信息类型, 文书号, 主体, 决定日期, 报送期限, 报送日期, 逾期工作日: 13, 14, 15 (调休) and 17 November — four on
    # 长兴县's calendar, three on the platform's.
    assert cells[1:7] == ["长市监罚〔2025〕88号", cells[2], "2025-11-03", "2025-11-12", "2025-11-17", "4"]
    on_time = browser.get(f"/admin/monitoring/2025-11/departments/{regional.accounts.dept_a.id}/late")
    assert on_time.status_code == 200
    assert "没有数据行" in on_time.text


def test_a_moved_departments_late_record_keeps_the_days_it_was_made_on(db_session, reported, regional, sign_in) -> None:  # type: ignore[no-untyped-def]
    from xinyong.actors import Actor
    from xinyong.departments import service as departments_service

    departments_service.move_department(db_session, department_id=regional.dept_c.id, region=DEQING,
                                        actor=Actor.system("test"))  # fmt: skip
    db_session.commit()
    assert departments_service.region_at(db_session, regional.dept_c.id, reported["changxing"].created_at) == CHANGXING
    assert departments_service.region_at(db_session, regional.dept_c.id) == DEQING
    page = sign_in(regional.users["platform_admin"]).get(f"/admin/monitoring/2025-11/departments/{regional.dept_c.id}/late")
    assert _cells(page.text, r"<tbody>\s*<tr>(.*?)</tr>")[6] == "4"  # not 德清县's count (three)
