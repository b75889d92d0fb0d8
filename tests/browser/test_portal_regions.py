"""A county's portal under the city's host (/region/<code>/…) in a real browser: its name heads the pages, and
following its links stays under its prefix and among its own records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.factories import records as f
from tests.fixtures.keys import keyed_sessionmaker
from tests.fixtures.regions import CHANGXING, CHANGXING_DEPT_CODE, CITY, DEQING

from xinyong.actors import Actor
from xinyong.db import make_engine
from xinyong.disclosure.service import today_in_china
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service
from xinyong.regions import service as regions_service

pytestmark = pytest.mark.browser

COMPANY = "长兴县两地建材有限公司"


def _seed(settings) -> str:  # type: ignore[no-untyped-def]
    today = today_in_china()
    recent = (today - timedelta(days=10)).isoformat()
    uscc = f.company_code(5151)
    engine = make_engine(settings.database_url)
    session = keyed_sessionmaker(engine)()
    try:
        for code in (CITY, DEQING, CHANGXING):
            regions_service.add_region(session, code=code, actor=Actor.system("browser-test"))
        deqing = f.department(session, name="德清县市场监督管理局")
        changxing = f.department(session, code=CHANGXING_DEPT_CODE, name="长兴县市场监督管理局")
        session.commit()
        for dept, doc in ((deqing, "德市监罚〔2025〕31号"), (changxing, "长市监罚〔2025〕32号")):
            row = f.penalty_row(CF_XDR_MC=COMPANY, CF_XDR_SHXYM=uscc, CF_JDRQ=recent, CF_WSH=doc, CF_CFJG=dept.name,
                                CF_CFJGDM=dept.code, CF_SJLY=dept.name, CF_SJLYDM=dept.code)  # fmt: skip
            result = records_service.import_rows(session, [row], settings=settings, protector=make_protector(settings),
                                                 record_type="penalty", department=dept, actor="browser-test",
                                                 today=today)  # fmt: skip
            assert result.rejected == 0, result
        session.commit()
    finally:
        session.close()
        engine.dispose()
    return uscc


def test_a_county_portal_keeps_its_prefix(live_server, browser, artifacts_dir):  # type: ignore[no-untyped-def]
    uscc = _seed(live_server.settings)
    base = f"{live_server.url}/region/{CHANGXING}"
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(base + "/")
    assert "湖州市长兴县" in page.title()
    assert "湖州市长兴县" in page.inner_text("header")

    page.fill("#q", uscc)
    page.click(".big-search button")
    page.wait_for_url(f"{base}/search?q=*")
    page.click(f"text={COMPANY}")
    page.wait_for_url(f"{base}/subjects/{uscc}")
    body = page.inner_text("main")
    assert "长市监罚〔2025〕32号" in body
    assert "德市监罚〔2025〕31号" not in body  # made in 德清县: not this county's
    page.screenshot(path=str(artifacts_dir / "portal-county-subject.png"), full_page=True)

    page.click("a.button:has-text('详情')")
    page.wait_for_url(f"{base}/records/*")
    assert "长市监罚〔2025〕32号" in page.inner_text("main")

    page.click("nav.mainnav a:has-text('行政处罚')")
    page.wait_for_url(f"{base}/disclosure/penalty")
    listing = page.inner_text("main")
    assert "长市监罚〔2025〕32号" in listing
    assert "德市监罚〔2025〕31号" not in listing

    # the subjects' pages: their links and the sign-in redirect stay in the county
    page.click("nav.mainnav a:has-text('信用修复')")
    page.wait_for_url(f"{base}/repair")
    page.click("main a:has-text('登录')")
    page.wait_for_url(f"{base}/account/login")
    page.goto(base + "/account/reports")
    page.wait_for_url(f"{base}/account/login")
    page.click("main a:has-text('注册')")
    page.wait_for_url(f"{base}/account/signup")

    page.goto(live_server.url + f"/subjects/{uscc}")  # the city's portal: both
    city = page.inner_text("main")
    assert "长市监罚〔2025〕32号" in city
    assert "德市监罚〔2025〕31号" in city
    page.close()
