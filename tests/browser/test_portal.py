"""A citizen's path through the portal in a real browser, on desktop and phone sizes; screenshots kept."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from tests.factories import records as f
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.codes import make_id_number
from xinyong.db import make_engine
from xinyong.disclosure.service import today_in_china
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service

pytestmark = pytest.mark.browser

COMPANY = "安吉县恒达竹木制品有限公司"
PERSON_ID = make_id_number("330523", date(1979, 3, 8), "215")


def _seed(settings) -> dict[str, str]:
    today = today_in_china()
    recent = (today - timedelta(days=10)).isoformat()
    expired = (today - timedelta(days=400)).isoformat()  # 一般: 12 months, long gone
    uscc = f.company_code(4242)
    rows = [
        f.penalty_row(CF_XDR_MC=COMPANY, CF_XDR_SHXYM=uscc, CF_JDRQ=recent, CF_WSH="安市监罚决〔2025〕101号",
                      CF_SY="经查，当事人销售<script>alert(1)</script>不合格竹制品。"),
        f.penalty_row(CF_XDR_MC=COMPANY, CF_XDR_SHXYM=uscc, CF_JDRQ=expired, CF_WSH="安市监罚决〔2024〕7号"),
        f.penalty_row(CF_XDR_MC="赵建国", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJLX="身份证",
                      CF_XDR_ZJHM=PERSON_ID, CF_FRDB="", CF_JDRQ=recent, CF_WSH="安市监罚决〔2025〕102号"),
    ]  # fmt: skip
    engine = make_engine(settings.database_url)
    session = keyed_sessionmaker(engine)()
    try:
        dept = f.department(session)
        session.commit()
        result = records_service.import_rows(
            session, rows, settings=settings, protector=make_protector(settings), record_type="penalty",
            department=dept, actor="browser-test", today=today,
        )  # fmt: skip
        assert result.rejected == 0, result
        licence = f.license_row(XK_XDR_MC=COMPANY, XK_XDR_SHXYM=uscc, XK_JDRQ=recent, XK_YXQZ=recent)
        records_service.import_rows(session, [licence], settings=settings, protector=make_protector(settings),
                                    record_type="license", department=dept, actor="browser-test", today=today)  # fmt: skip
        session.commit()
    finally:
        session.close()
        engine.dispose()
    return {"uscc": uscc}


@pytest.mark.parametrize(
    "viewport", [{"width": 1366, "height": 900}, {"width": 390, "height": 844}], ids=["desktop", "phone"]
)
def test_search_profile_record_masking_and_expiry(live_server, browser, artifacts_dir, viewport):
    seeded = _seed(live_server.settings)
    tag = "desktop" if viewport["width"] > 800 else "phone"
    page = browser.new_page(viewport=viewport, locale="zh-CN")
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None)

    page.goto(live_server.url + "/")
    assert page.title().startswith("首页")
    page.screenshot(path=str(artifacts_dir / f"portal-home-{tag}.png"), full_page=True)

    page.fill("#q", "恒达")
    page.click(".big-search button")
    page.wait_for_url("**/search?q=*")
    assert page.locator(".result-name", has_text=COMPANY).count() == 1
    page.screenshot(path=str(artifacts_dir / f"portal-search-{tag}.png"), full_page=True)

    page.click(f"text={COMPANY}")
    page.wait_for_url(f"**/subjects/{seeded['uscc']}")
    body = page.inner_text("main")
    assert "安市监罚决〔2025〕101号" in body
    assert "安市监罚决〔2024〕7号" not in body  # expired penalty is gone
    page.screenshot(path=str(artifacts_dir / f"portal-subject-{tag}.png"), full_page=True)

    page.click("a.button:has-text('详情')")
    page.wait_for_url("**/records/*")
    detail = page.inner_text("main")
    assert "<script>alert(1)</script>" in detail  # shown as text, never run
    assert "违法事实" in detail
    page.screenshot(path=str(artifacts_dir / f"portal-record-{tag}.png"), full_page=True)

    page.goto(live_server.url + "/search?q=" + PERSON_ID)
    text = page.inner_text("main")
    assert "赵**" in text
    assert PERSON_ID[:4] + "*" * 10 + PERSON_ID[-4:] in text
    assert PERSON_ID not in page.content()
    assert "赵建国" not in page.content()
    page.click(".result-name")
    assert PERSON_ID not in page.content()
    assert "赵建国" not in page.content()
    page.screenshot(path=str(artifacts_dir / f"portal-person-{tag}.png"), full_page=True)

    page.goto(live_server.url + "/search?q=赵建国")
    assert "未找到" in page.inner_text("main")  # persons are never listed by name
    page.goto(live_server.url + "/disclosure/penalty")
    assert "赵" not in page.inner_text("main table") if page.locator("main table").count() else True
    page.screenshot(path=str(artifacts_dir / f"portal-listing-{tag}.png"), full_page=True)
    assert external == []  # nothing fetched from anywhere but the site itself
    page.close()


def test_rate_limit_page(live_server, browser, artifacts_dir):
    from xinyong.web.ratelimit import RateLimiter

    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    limiter = RateLimiter(1, 60)
    limiter._clock = lambda: 90.0  # mid-window: the two visits fall in one window however slow the run
    live_server.app.state.portal_limiter = limiter
    page.goto(live_server.url + "/search?q=恒达")
    response = page.goto(live_server.url + "/search?q=恒达")
    assert response is not None
    assert response.status == 429
    assert "访问过于频繁" in page.inner_text("main")
    page.screenshot(path=str(artifacts_dir / "portal-429-desktop.png"), full_page=True)
    page.close()

