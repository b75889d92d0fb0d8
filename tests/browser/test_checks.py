"""Lists and checks in Chromium: a department proposes, notifies, registers the objection, decides (answering
it) and publishes; then a credit check in a matter the measure list covers shows the measure and its basis."""

from __future__ import annotations

import pytest
from tests.factories import lists as lf
from tests.factories.records import company_code, department
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.db import make_engine, session_scope
from xinyong.protect import protector as make_protector

PASSWORD = "Browser-test-2025"
CODE = company_code(90777)


@pytest.fixture
def people(live_server):  # type: ignore[no-untyped-def]
    engine = make_engine(live_server.settings.database_url)
    with session_scope(keyed_sessionmaker(engine)) as session:
        dept = department(session)
        lf.load_types(session, dept)
        lf.measure(session, live_server.settings)
        lf.subject(session, make_protector(live_server.settings), 777, name="安吉县浏览器失信测试有限公司")
        for username, role in (("op-lists", Role.OPERATOR), ("rv-lists", Role.REVIEWER)):
            auth_service.create_user(session, username=username, password=PASSWORD, role=role, department=dept,
                                     display_name=username, actor=lf.SYSTEM, settings=live_server.settings)  # fmt: skip
    engine.dispose()


def _sign_in(page, url, username):  # type: ignore[no-untyped-def]
    page.goto(f"{url}/admin/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin")


@pytest.mark.browser
def test_propose_notify_object_decide_publish_then_check(live_server, browser, people, artifacts_dir):
    url = live_server.url
    errors: list[str] = []
    context = browser.new_context()
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    _sign_in(page, url, "op-lists")
    page.goto(f"{url}/admin/lists")
    form = page.locator("[data-testid=propose-form]")
    form.locator("select[name=type_key]").select_option("serious-dishonesty")
    form.locator("input[name=subject_code]").fill(CODE)
    form.locator("textarea[name=reasons]").fill("一年内两次因严重违法行为受到较重行政处罚")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/admin/lists/*")
    entry_url = page.url
    assert page.inner_text("[data-testid=entry-state]") == "拟列入"
    page.click("[data-testid=notify-form] button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=entry-state]") == "已告知（异议期）"
    assert page.inner_text("[data-testid=objection-deadline]")
    page.fill("[data-testid=objection-form] textarea[name=text]", "第二次处罚已申请行政复议，请暂缓列入")
    page.click("[data-testid=objection-form] button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=entry-state]") == "异议处理中"
    assert page.locator("[data-testid=decide-form]").count() == 0  # an operator cannot decide
    page.click("button.link")  # 退出

    _sign_in(page, url, "rv-lists")
    page.goto(entry_url)
    page.fill("[data-testid=decide-form] input[name=decision_no]", "安信列〔2025〕7号")
    page.fill("[data-testid=decide-form] textarea[name=answer]", "复议已维持原处罚决定，异议不予采纳")
    page.click("[data-testid=decide-form] button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=entry-state]") == "已决定列入（待公示）"
    page.click("button.link")

    _sign_in(page, url, "op-lists")
    page.goto(entry_url)
    page.click("[data-testid=publish-form] button[type=submit]")
    page.wait_for_load_state()
    assert page.inner_text("[data-testid=entry-state]") == "已公示"
    assert [t.strip() for t in page.locator("[data-testid=events] tbody tr td:nth-child(2)").all_inner_texts()] == [
        "提出列入建议", "告知", "提出异议", "决定列入", "公示"]
    page.screenshot(path=str(artifacts_dir / "lists-entry.png"), full_page=True)

    page.goto(f"{url}/admin/checks")
    page.select_option("[data-testid=check-form] select[name=matter]", "政府采购")
    page.fill("[data-testid=check-form] input[name=code]", CODE)
    page.click("[data-testid=check-form] button[type=submit]")
    page.wait_for_url("**/admin/checks/HC*")
    assert page.inner_text("[data-testid=check-hint]") == "拦截"
    measures = page.inner_text("[data-testid=measures]")
    assert "依法限制参加政府采购活动" in measures
    assert "《中华人民共和国政府采购法》第二十二条" in measures
    assert "严重失信主体名单" in page.inner_text("[data-testid=memberships]")
    page.screenshot(path=str(artifacts_dir / "check-result.png"), full_page=True)
    number = page.inner_text("[data-testid=check-number]")
    page.goto(f"{url}/admin/checks/{number}/print")
    assert "依法限制参加政府采购活动" in page.inner_text("body")

    public = context.new_page()
    public.goto(f"{url}/subjects/{CODE}")
    assert "严重失信主体名单" in public.inner_text("[data-testid=memberships]")
    assert not errors, errors
    context.close()
