"""Evaluation and random inspections in a real browser: a subject reads why it has its grade and what would
change it; the public reads a published draw. Screenshots kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.factories import records as f
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.accounts import activation
from xinyong.actors import Actor
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.disclosure.service import today_in_china
from xinyong.inspections import roster
from xinyong.inspections import service as inspections_service
from xinyong.protect import protector as make_protector

pytestmark = pytest.mark.browser

SUBJECT_PASSWORD = "Subject-pass-2025"
SYSTEM = Actor.system("browser-test")


@pytest.fixture
def live_settings(fresh_database_url: str, tmp_path: Path) -> Settings:
    from tests.fixtures.keys import TEST_KEY

    return Settings(database_url=fresh_database_url, secret_key=TEST_KEY, secret_key_file=tmp_path / "k",
                    portal_rate_limit_requests=0, upload_dir=tmp_path / "uploads",
                    events_file=tmp_path / "events.jsonl")  # fmt: skip


def _seed(settings: Settings) -> dict[str, str]:
    """A company with a serious penalty (old enough to repair) and a watch-list entry, a clean one, an evaluation
    run as of today, and a published plan drawn with seed 20251020."""
    today = today_in_china()
    protector = make_protector(settings)
    engine = make_engine(settings.database_url)
    session = keyed_sessionmaker(engine)()
    try:
        dept = f.department(session)
        lf.load_types(session, dept)
        ef.load_builtin_model(session, settings)
        bad, clean = ef.company(1), ef.company(2)
        serious = ef.penalty(session, settings, protector, dept, bad, tier="严重", decided=today - timedelta(days=400),
                             today=today)  # fmt: skip
        lf.listed(session, settings, protector, dept, bad[0], today=today, type_key="watch")
        ef.licence(session, settings, protector, dept, clean, decided=today - timedelta(days=30), today=today)
        ef.run(session, settings, today)
        for n, name in enumerate(("张明", "李华"), start=1):
            roster.add_inspector(session, department=dept, name=name, badge_no=f"ZF3305{n:04d}", actor=SYSTEM)
        draft = inspections_service.PlanDraft("食品经营许可事项监督检查", today, today + timedelta(days=60), [], [], None, [],
                                              {"A": "100"}, [])  # fmt: skip
        plan = inspections_service.create_plan(session, draft, department=dept, actor=SYSTEM, settings=settings,
                                               today=today)  # fmt: skip
        session.flush()
        inspections_service.draw_plan(session, plan.id, seed=20251020, actor=SYSTEM, settings=settings, today=today)
        inspections_service.publish_plan(session, plan.id, actor=SYSTEM, settings=settings, today=today)
        # The activation code a department issues at its counter after checking the subject's papers.
        _, code = activation.issue(session, subject_id=serious.subject_id, actor=SYSTEM, channel="counter",
                                   settings=settings, protector=protector)  # fmt: skip
        session.commit()
        return {"uscc": bad[0], "name": bad[1], "doc_no": serious.doc_no, "clean": clean[1], "plan": plan.number,
                "activation": code}  # fmt: skip
    finally:
        session.close()
        engine.dispose()


def test_a_subject_reads_why_and_the_public_reads_the_draw(live_server, browser, artifacts_dir):
    seeded = _seed(live_server.settings)
    base = live_server.url
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(base + "/account/signup")
    page.fill("#code", seeded["uscc"])
    page.fill("#name", seeded["name"])
    page.fill("#contact", "owner@example.cn")
    page.fill("#password", SUBJECT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account/verify")
    page.fill("#verify-code", live_server.app.state.notifier.sent[-1]["body"].split("验证码为 ")[1][:6])
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account/login")
    page.fill("#code", seeded["uscc"])
    page.fill("#password", SUBJECT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account")
    page.goto(base + "/account/evaluation")  # a claim not yet proven is sent to prove itself
    page.wait_for_url("**/account")
    assert "请先完成主体身份核验" in page.inner_text("main")
    page.fill("#activation-code", seeded["activation"])
    page.click("#method-activation_code button[type=submit]")
    page.wait_for_selector("#my-evaluation")
    assert "信用风险较高" in page.inner_text("#my-evaluation")

    page.click("#my-evaluation a.button")
    page.wait_for_url("**/account/evaluation")
    assert page.inner_text("[data-testid=grade]").strip() == "C"
    why = page.inner_text("#my-indicators")
    assert seeded["doc_no"] in why
    assert "-150 分" in why
    assert "重点关注名单" in why
    change = page.inner_text("#what-would-change-it")
    assert f"对 {seeded['doc_no']} 完成信用修复（停止公示）" in change
    assert "等级 B" in change
    page.screenshot(path=str(artifacts_dir / "evaluation-account.png"), full_page=True)

    public = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    public.goto(base + "/")
    public.click("nav.mainnav a[href$='/inspections']")
    public.wait_for_url("**/inspections")
    public.click(f"text={seeded['plan']}")
    public.wait_for_url(f"**/inspections/{seeded['plan']}")
    assert public.inner_text("[data-testid=seed]").strip() == "20251020"
    assert len(public.inner_text("[data-testid=population-digest]").strip()) == 64
    drawn = public.inner_text("[data-testid=drawn]")
    assert seeded["clean"] in drawn
    assert seeded["name"] in drawn
    assert "ZF3305" not in public.inner_text("main")
    public.screenshot(path=str(artifacts_dir / "inspections-portal.png"), full_page=True)
    page.close()
    public.close()
