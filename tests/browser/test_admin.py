"""The console in Chromium: sign in, upload a file with the progress bar, see the batch; no JS errors."""

from __future__ import annotations

import pytest
from tests.factories.records import department, penalty_row, write_rows
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.db import make_engine, session_scope

PASSWORD = "Browser-test-2025"


@pytest.fixture
def operator(live_server):  # type: ignore[no-untyped-def]
    engine = make_engine(live_server.settings.database_url)
    with session_scope(keyed_sessionmaker(engine)) as session:
        dept = department(session)
        auth_service.create_user(session, username="op-browser", password=PASSWORD, role=Role.OPERATOR,
                                 department=dept, display_name="浏览器测试员", actor=Actor.system("test"),
                                 settings=live_server.settings)  # fmt: skip
    engine.dispose()
    return "op-browser"


@pytest.mark.browser
def test_sign_in_upload_and_see_the_batch(live_server, browser, operator, tmp_path, artifacts_dir):
    path = write_rows(tmp_path / "十月处罚.csv", [penalty_row(CF_JDRQ="2025-09-29"), penalty_row(CF_WSH="")])
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/admin/upload")
    assert "/admin/login" in page.url
    page.fill("input[name=username]", operator)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/upload")
    assert "浏览器测试员" in page.inner_text("[data-testid=current-user]")

    page.select_option("select[name=record_type]", "penalty")
    page.set_input_files("input[name=file]", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/admin/batches/*")
    assert "已导入 2 行" in page.inner_text(".flash")
    assert page.inner_text("[data-testid=batch-filename]") == "十月处罚.csv"
    assert page.inner_text("[data-testid=batch-rows]") == "2"
    page.screenshot(path=str(artifacts_dir / "admin-batch.png"), full_page=True)

    for url in ("/admin", "/admin/batches", "/admin/records", "/admin/subjects?q=安吉", "/admin/account/password"):
        page.goto(live_server.url + url)
        assert page.locator("h1").count() >= 1, url
    page.goto(f"{live_server.url}/admin")
    page.screenshot(path=str(artifacts_dir / "admin-dashboard.png"), full_page=True)
    page.click("button.link")  # 退出
    page.wait_for_url("**/admin/login")
    assert not errors, errors
