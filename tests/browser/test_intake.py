"""The department catalogue in Chromium: the 信用办 adds lines to a department's catalogue, and the month's 报送率
follows it, its rows naming the type due but not reported."""

from __future__ import annotations

import pytest
from tests.factories import records as rf
from tests.factories.monitoring import import_ten_rows
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.db import make_engine, session_scope
from xinyong.protect import protector as make_protector

PASSWORD = "Browser-test-2025"


@pytest.fixture
def world(live_server):  # type: ignore[no-untyped-def]
    settings = live_server.settings
    engine = make_engine(settings.database_url)
    with session_scope(keyed_sessionmaker(engine)) as session:
        dept = rf.department(session)
        import_ten_rows(session, settings, make_protector(settings), dept)  # penalties reported in October 2025
        auth_service.create_user(session, username="xyb-admin", password=PASSWORD, role=Role.PLATFORM_ADMIN,
                                 department=None, display_name="信用办", actor=Actor.system("test"), settings=settings)  # fmt: skip
    engine.dispose()


@pytest.mark.browser
def test_the_credit_office_sets_a_department_catalogue_and_the_reporting_rate_follows(
    live_server, browser, world, artifacts_dir,
):  # fmt: skip
    url = live_server.url
    errors: list[str] = []
    page = browser.new_context().new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{url}/admin/login")
    page.fill("input[name=username]", "xyb-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin")

    page.goto(f"{url}/admin/monitoring")
    page.click("text=部门目录清单")
    page.wait_for_url("**/admin/intake/duties")
    for key in ("penalty", "license"):
        page.select_option("form.card select[name=record_type]", key)
        page.click("form.card button[type=submit]")
        page.wait_for_load_state()
    table = page.locator("[data-testid=duties]")
    assert "行政处罚" in table.inner_text()
    assert "行政许可" in table.inner_text()
    assert "作出决定后 7 个工作日内（双公示）" in table.inner_text()
    page.screenshot(path=str(artifacts_dir / "duties.png"), full_page=True)

    page.goto(f"{url}/admin/monitoring?month=2025-10")
    cell = page.locator(f"[data-testid=kpi-table] tr[data-department='{rf.DEPT_CODE}'] [data-kpi=coverage]")
    assert "50.0%" in cell.inner_text()
    cell.locator("a").click()
    page.wait_for_url("**/types-due")
    rows = page.locator("[data-testid=drilldown] tbody tr")
    assert rows.count() == 2
    assert "行政许可" in rows.nth(0).inner_text()
    assert "未报送" in rows.nth(0).inner_text()
    assert not errors, errors
