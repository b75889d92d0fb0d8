"""The exchange in Chromium: after an export to the province, a webhook that failed until parked and an edition of
the court's list with a row held for review, the 信用办 follows all of it on the console's 数据交换 page."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pytest
from tests.factories import lists as lf
from tests.factories import records as rf
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.db import make_engine, session_scope, utcnow
from xinyong.departments import service as departments_service
from xinyong.exchange import downward, webhooks
from xinyong.exchange import service as exchange_service
from xinyong.exchange.models import Webhook
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service

PASSWORD = "Browser-test-2025"
TODAY = date(2025, 10, 20)


@pytest.fixture
def world(live_server):  # type: ignore[no-untyped-def]
    settings = live_server.settings
    protector = make_protector(settings)
    engine = make_engine(settings.database_url)
    folder = Path(tempfile.mkdtemp(prefix="exchange-browser."))
    with session_scope(keyed_sessionmaker(engine)) as session:
        dept = rf.department(session)
        lf.load_types(session, dept)
        records_service.import_rows(session, [rf.penalty_row() for _ in range(3)], settings=settings,
                                    protector=protector, record_type="penalty", department=dept, actor="test",
                                    today=TODAY)  # fmt: skip
        exported = exchange_service.export_national(session, folder / "e1", settings=settings, protector=protector,
                                                    destination="province")  # fmt: skip
        exchange_service.remember_export(session, exported)
        key, _ = departments_service.issue_api_key(session, department=dept, name="合作银行", scopes=["api:changes:read"])
        hook, _ = webhooks.add(session, key_prefix=key.prefix, url="http://127.0.0.1:9/hook", types=None,
                               settings=settings, protector=protector, actor="test")  # fmt: skip
        hook.parked_at, hook.failures, hook.last_error = utcnow(), 8, "WebhookFailed: HTTP 500"
        path = folder / "court.csv"
        path.write_text("被执行人姓名/名称,统一社会信用代码,案号,列入日期,失信情形\n"
                        "安吉县旧代码竹业有限公司,470000013,（2025）浙0523执88号,2025-09-01,拒不履行\n", encoding="utf-8")  # fmt: skip
        downward.apply_edition(session, path, type_key="court-dishonest-debtors", department=dept, source="人民法院",
                               edition_on=date(2025, 10, 15), actor=lf.SYSTEM, settings=settings, protector=protector,
                               today=TODAY)  # fmt: skip
        auth_service.create_user(session, username="xyb-admin", password=PASSWORD, role=Role.PLATFORM_ADMIN,
                                 department=None, display_name="信用办", actor=Actor.system("test"), settings=settings)  # fmt: skip
        assert session.get(Webhook, hook.id) is not None
    engine.dispose()


@pytest.mark.browser
def test_the_exchange_page_shows_exports_webhooks_and_editions(live_server, browser, world, artifacts_dir):
    url = live_server.url
    errors: list[str] = []
    page = browser.new_context().new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{url}/admin/login")
    page.fill("input[name=username]", "xyb-admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/admin")
    page.click("nav.main >> text=数据交换")
    page.wait_for_url(f"{url}/admin/exchange")
    text = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    assert "province" in text
    assert "已暂停（多次失败" in text
    assert "WebhookFailed: HTTP 500" in text
    assert "失信被执行人名单" in text
    assert "人民法院" in text
    assert "2025-10-15" in text
    assert "安吉县旧代码竹业有限公司" in text
    assert "主体库中没有使用该旧代码的主体" in text
    page.screenshot(path=str(artifacts_dir / "exchange.png"), full_page=True)
    assert not errors, errors
