"""Monitoring and the integrity board in Chromium: the month's table with its trend charts drawn, a figure
followed to its rows; a government body's listing on the board with its clearing date, and one entered there."""

from __future__ import annotations

from datetime import date

import pytest
from tests.factories import records as rf
from tests.factories.monitoring import import_ten_rows
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.codes import make_uscc
from xinyong.db import make_engine, session_scope
from xinyong.integrity import service as integrity_service
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service

PASSWORD = "Browser-test-2025"
GOV = make_uscc("1", "1", "330521", "00000088")
OTHER_GOV = make_uscc("1", "2", "330521", "00000089")


@pytest.fixture
def world(live_server):  # type: ignore[no-untyped-def]
    settings = live_server.settings
    protector = make_protector(settings)
    engine = make_engine(settings.database_url)
    with session_scope(keyed_sessionmaker(engine)) as session:
        dept = rf.department(session)
        import_ten_rows(session, settings, protector, dept)
        records_service.import_rows(session, [rf.penalty_row(CF_XDR_MC="安吉县某某管理局", CF_XDR_SHXYM=GOV),
                                              rf.penalty_row(CF_XDR_MC="安吉县某某中心", CF_XDR_SHXYM=OTHER_GOV)],
                                    settings=settings, protector=protector, record_type="penalty", department=dept,
                                    actor="test", today=date(2025, 9, 30))  # fmt: skip
        admin = auth_service.create_user(session, username="xyb-admin", password=PASSWORD, role=Role.PLATFORM_ADMIN,
                                         department=None, display_name="信用办", actor=Actor.system("test"),
                                         settings=settings)  # fmt: skip
        session.flush()
        integrity_service.open_case(session, code=GOV, kind="court-debtor", summary="未履行生效判决", reference="(2025)浙0523执1号",
                                    amount=None, listed_on=date(2025, 10, 10), supervisor_id=dept.id, clear_by=None,
                                    actor=auth_service.actor_for_user(admin), settings=settings, protector=protector,
                                    today=date(2025, 10, 20))  # fmt: skip
    engine.dispose()


def _sign_in(page, url):  # type: ignore[no-untyped-def]
    page.goto(f"{url}/admin/login")
    page.fill("input[name=username]", "xyb-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin")


@pytest.mark.browser
def test_the_month_with_its_charts_and_the_rows_behind_a_figure(live_server, browser, world, artifacts_dir):
    url = live_server.url
    errors: list[str] = []
    page = browser.new_context().new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    _sign_in(page, url)
    page.goto(f"{url}/admin/monitoring?month=2025-10")
    row = page.locator(f"[data-testid=kpi-table] tr[data-department='{rf.DEPT_CODE}']")
    assert "70.0%" in row.locator("[data-kpi=compliance]").inner_text()
    assert "71.4%" in row.locator("[data-kpi=timeliness]").inner_text()
    page.wait_for_function("document.getElementById('trend-rates').dataset.drawn > 0")
    assert page.locator("#trend-rates").bounding_box()["height"] > 100
    page.screenshot(path=str(artifacts_dir / "monitoring.png"), full_page=True)
    row.locator("[data-kpi=timeliness] a").click()
    page.wait_for_url("**/late")
    assert page.locator("[data-testid=drilldown] tbody tr").count() == 2
    assert not errors, errors


@pytest.mark.browser
def test_the_integrity_board_shows_the_listing_and_takes_a_new_one(live_server, browser, world, artifacts_dir):
    url = live_server.url
    errors: list[str] = []
    page = browser.new_context().new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, url)
    page.goto(f"{url}/admin/integrity?show=all")
    board = page.locator("[data-testid=board]")
    assert "安吉县某某管理局" in board.inner_text()
    assert "失信被执行人" in board.inner_text()
    assert board.locator("[data-testid=clear-by]").first.inner_text() == "2026-01-08"
    form = page.locator("[data-testid=case-form]")
    form.locator("input[name=code]").fill(OTHER_GOV)
    form.locator("select[name=kind]").select_option("arrears")
    form.locator("input[name=summary]").fill("拖欠中小企业账款")
    form.locator("input[name=amount]").fill("120000")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已登记政务失信记录" in page.inner_text(".flash")
    assert "安吉县某某中心" in page.locator("[data-testid=board]").inner_text()
    page.screenshot(path=str(artifacts_dir / "integrity.png"), full_page=True)
    assert not errors, errors
