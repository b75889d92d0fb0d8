"""承诺按期核验率, from the commitments domain: per accepting department, the 告知承诺 verification tasks whose
deadline falls in the month (verified or not) and those verified by their deadline; the figure counts toward the
department's score, shows on the console and in `xinyong monitoring kpis --json`, and its rows are the tasks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import records as rf
from tests.factories.commitments import commitment_row
from tests.factories.monitoring import TODAY
from tests.fixtures.keys import TEST_KEY
from typer.testing import CliRunner

from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.cli import app as cli_app
from xinyong.commandline import session_factory
from xinyong.commandline import settings as cli_settings
from xinyong.commitments import service as commitments_service
from xinyong.commitments.models import TaskStatus, VerificationTask
from xinyong.config import Settings
from xinyong.db import session_scope
from xinyong.departments.models import Department
from xinyong.monitoring import rules, service
from xinyong.monitoring.rules import Month
from xinyong.protect import Protector
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service
from xinyong.web.deps import get_today

OCTOBER = Month(2025, 10)
SYSTEM = Actor.system("test")
# Tasks of the first department: four due in October (one verified on time, one late, one overdue and open, one
# open and not yet due on TODAY), one due before October, one after, and a commitment that needs no verification.
IN_OCTOBER = ("on_time", "late", "overdue", "pending")


@dataclass
class World:
    codes: dict[str, str]  # name → 承诺编码
    tasks: dict[str, VerificationTask]


def _row(department: Department, made_on: date, **overrides: str) -> dict[str, str]:
    return commitment_row(made_on, **{"承诺受理单位": department.name, "承诺受理单位统一社会信用代码": department.code,
                                      "数据来源单位": department.name, "数据来源单位统一社会信用代码": department.code,
                                      **overrides})  # fmt: skip


def build(session: Session, settings: Settings, protector: Protector, dept_a: Department, dept_b: Department) -> World:
    """Commitments of two departments imported on TODAY, their tasks created and some verified on given days."""
    rows_a = {
        "on_time": _row(dept_a, date(2025, 9, 10)), "late": _row(dept_a, date(2025, 9, 11)),
        "overdue": _row(dept_a, date(2025, 9, 12)), "pending": _row(dept_a, date(2025, 9, 26)),
        "earlier": _row(dept_a, date(2025, 8, 1)), "later": _row(dept_a, date(2025, 10, 10)),
        "voluntary": _row(dept_a, date(2025, 9, 10), 承诺类型="主动型"),
    }  # fmt: skip
    rows_b = {"b_on_time": _row(dept_b, date(2025, 9, 10))}
    for department, rows in ((dept_a, rows_a), (dept_b, rows_b)):
        result = records_service.import_rows(session, list(rows.values()), settings=settings, protector=protector,
                                             record_type="commitment", department=department, actor="test",
                                             today=TODAY)  # fmt: skip
        assert (result.created, result.rejected) == (len(rows), 0), result
    assert commitments_service.sync_tasks(session, settings=settings) == 7  # not the 主动型 one
    codes = {name: row["承诺编码"] for name, row in {**rows_a, **rows_b}.items()}
    by_code = {t.code: t for t in session.scalars(select(VerificationTask))}
    tasks = {name: by_code[code] for name, code in codes.items() if code in by_code}
    # What the test relies on, from the working-day calendar: which month each deadline falls in.
    for name in (*IN_OCTOBER, "b_on_time"):
        assert Month.of(tasks[name].due_on) == OCTOBER, (name, tasks[name].due_on)
    assert tasks["earlier"].due_on < OCTOBER.start
    assert tasks["later"].due_on > OCTOBER.end
    assert tasks["overdue"].due_on < TODAY < tasks["pending"].due_on

    def verify(name: str, day: date, finding: str = "confirmed", **kwargs: object) -> None:
        commitments_service.verify(session, tasks[name].id, actor=SYSTEM, settings=settings, protector=protector,
                                   today=day, finding=finding, **kwargs)  # type: ignore[arg-type]  # fmt: skip

    verify("on_time", tasks["on_time"].due_on)  # on the deadline itself: on time
    verify("late", tasks["late"].due_on.replace(day=28), "untrue", note="场所证明系伪造", actions=["终止办理"])
    verify("earlier", date(2025, 10, 9))  # late too, but due in August: not October's
    verify("b_on_time", date(2025, 10, 9))
    session.flush()
    assert tasks["late"].verified_on > tasks["late"].due_on
    assert tasks["late"].status is TaskStatus.UNTRUE
    return World(codes, tasks)


@pytest.fixture
def world(db_session, console_settings, protector, accounts) -> World:  # type: ignore[no-untyped-def]
    made = build(db_session, console_settings, protector, accounts.dept_a, accounts.dept_b)
    db_session.commit()
    return made


def test_the_kpi_counts_the_tasks_due_in_the_month_verified_or_not(db_session, console_settings, accounts, world):
    result = service.compute_month(db_session, month=OCTOBER, settings=console_settings, today=TODAY)
    a, b = result.row(accounts.dept_a.id), result.row(accounts.dept_b.id)
    assert (a.measures["commitments_due"], a.measures["commitments_verified_on_time"]) == (4, 1)
    value = a.values["commitments"]
    assert (value.numerator, value.denominator) == (1, 4)
    assert value.value == 0.25
    assert value.reason is None
    assert (b.values["commitments"].numerator, b.values["commitments"].denominator) == (1, 1)
    assert result.city is not None
    assert (result.city.values["commitments"].numerator, result.city.values["commitments"].denominator) == (2, 5)
    assert "commitments_due" not in result.unavailable
    # Weighted 5 in the built-in file: it counts toward the score now that it applies.
    kpi = result.definitions.kpi("commitments")
    assert kpi.weight == 5
    assert value.score == 1.25
    assert a.score == rules.total_score(result.definitions.kpis, a.values)
    without = rules.total_score(tuple(k for k in result.definitions.kpis if k.key != "commitments"), a.values)
    assert without is not None
    assert a.score is not None
    assert a.score < without  # 25 % of its weight drags the score down
    # August and November have their own figures.
    august = service.compute_month(db_session, month=Month(2025, 8), settings=console_settings, today=TODAY)
    assert (august.row(accounts.dept_a.id).values["commitments"].numerator,
            august.row(accounts.dept_a.id).values["commitments"].denominator) == (0, 1)  # fmt: skip
    september = service.compute_month(db_session, month=Month(2025, 9), settings=console_settings, today=TODAY)
    assert september.row(accounts.dept_a.id).values["commitments"].value is None  # nothing due: "—", not 0 %
    assert september.row(accounts.dept_a.id).values["commitments"].reason == "本月无可计算的数据"


def test_the_rows_behind_the_figure_are_the_tasks_due_with_their_status(db_session, console_settings, accounts, world):
    admin = auth_service.actor_for_user(accounts.users["platform_admin"])
    rows = service.drilldown(db_session, month=OCTOBER, department_id=accounts.dept_a.id, kind="commitments",
                             settings=console_settings, actor=admin, today=TODAY)  # fmt: skip
    assert rows.total == 4
    status = {cells[0]: cells[-1] for cells in rows.rows}
    assert status == {world.codes["on_time"]: "按期核验", world.codes["late"]: "逾期核验",
                      world.codes["overdue"]: "逾期未核验", world.codes["pending"]: "待核验（未到期）"}  # fmt: skip
    assert rows.rows[-1][0] == world.codes["on_time"]  # the ones not verified on time first
    late = next(cells for cells in rows.rows if cells[0] == world.codes["late"])
    assert late[3:6] == [str(world.tasks["late"].due_on), str(world.tasks["late"].verified_on), "承诺不实"]
    assert f"/admin/commitments/{world.tasks['overdue'].record_id}" in rows.links
    other = service.drilldown(db_session, month=OCTOBER, department_id=accounts.dept_b.id, kind="commitments",
                              settings=console_settings, actor=admin, today=TODAY)  # fmt: skip
    assert [cells[0] for cells in other.rows] == [world.codes["b_on_time"]]


_CELL = re.compile(r'<td data-kpi="([a-z-]+)"([^>]*)>(.*?)</td>', re.S)
_TAG = re.compile(r"<[^>]+>")


def _kpi_cell(page: str, department_code: str, key: str) -> tuple[str, str, str]:
    """(text shown, cell attributes, cell HTML) of one KPI in the department's row of the month's table."""
    match = re.search(rf'<tr data-department="{department_code}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {department_code}"
    cells = {k: (" ".join(_TAG.sub(" ", html).split()), attributes, html) for k, attributes, html in _CELL.findall(match.group(1))}
    return cells[key]


def test_the_console_shows_the_figure_and_its_rows(app, accounts, sign_in, world):  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_today] = lambda: TODAY
    browser = sign_in(accounts.users["platform_admin"])
    page = browser.get("/admin/monitoring?month=2025-10")
    assert page.status_code == 200
    assert "数据来源“信用承诺”尚未接入" not in page.text
    text, _, html = _kpi_cell(page.text, accounts.dept_a.code, "commitments")
    assert text == "25.0% 1/4"
    url = f"/admin/monitoring/2025-10/departments/{accounts.dept_a.id}/commitments"
    assert f'href="{url}"' in html
    assert _kpi_cell(page.text, accounts.dept_b.code, "commitments")[0] == "100.0% 1/1"
    rows = browser.get(url)
    assert rows.status_code == 200
    assert "本月应核验的信用承诺" in rows.text
    assert "共 4 行" in rows.text
    for name in IN_OCTOBER:
        assert world.codes[name] in rows.text, name
    for name in ("earlier", "later", "voluntary", "b_on_time"):
        assert world.codes[name] not in rows.text, name
    for status in ("按期核验", "逾期核验", "逾期未核验", "待核验（未到期）"):
        assert status in rows.text
    assert f'href="/admin/commitments/{world.tasks["overdue"].record_id}"' in rows.text
    # A department user reads its own tasks, not another department's.
    operator_b = sign_in(accounts.users["operator_b"])
    assert world.codes["b_on_time"] in operator_b.get(f"/admin/monitoring/2025-10/departments/{accounts.dept_b.id}/commitments").text
    refused = operator_b.get(url)
    assert refused.status_code == 404
    assert world.codes["overdue"] not in refused.text


@pytest.fixture
def shell(fresh_database_url, monkeypatch) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """A migrated database of its own holding the same commitments and tasks."""
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    cli_settings.cache_clear()
    session_factory.cache_clear()
    with session_scope(session_factory()) as session:
        dept_a = rf.department(session)
        dept_b = rf.department(session, code=rf.OTHER_DEPT_CODE, name="安吉县交通运输局")
        build(session, cli_settings(), make_protector(cli_settings()), dept_a, dept_b)
        codes = {"a": dept_a.code, "b": dept_b.code}
    yield codes
    session_factory().kw["bind"].dispose()
    cli_settings.cache_clear()
    session_factory.cache_clear()


def test_the_command_line_prints_the_figure_and_its_rows_url(shell):
    result = CliRunner().invoke(cli_app, ["monitoring", "kpis", "--month", "2025-10", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    a = next(d for d in document["departments"] if d["code"] == shell["a"])
    figure = a["kpis"]["commitments"]
    assert (figure["numerator"], figure["denominator"], figure["display"]) == (1, 4, "25.0%")
    assert figure["score"] == 1.25
    assert "not_applicable" not in figure
    assert figure["rows_url"].endswith("/commitments")
    assert "/admin/monitoring/2025-10/departments/" in figure["rows_url"]
    b = next(d for d in document["departments"] if d["code"] == shell["b"])
    assert b["kpis"]["commitments"]["display"] == "100.0%"
    assert document["city"]["kpis"]["commitments"]["display"] == "40.0%"
    table = CliRunner().invoke(cli_app, ["monitoring", "kpis", "--month", "2025-10"])
    assert table.exit_code == 0, table.output
    assert "尚未接入" not in table.output
