"""Issue 16's "done when", in a real browser: an enterprise consents to a bank, the bank reads the data package
(and not a field more), the enterprise revokes and the bank's next read is refused; the enterprise posts a need,
the bank takes it and records a loan; the 信用办 publishes the whitelist, which lists a clean A-grade subject and
not a listed one; a person opts in, sees points and a benefit, opts out, and the points are gone."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.factories import records as f
from tests.factories.records import company_code
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.accounts import activation
from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.codes import make_id_number
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.disclosure.service import today_in_china
from xinyong.finance import service as finance_service
from xinyong.protect import protector as make_protector
from xinyong.scenarios import service as scenarios_service
from xinyong.subjects.models import Subject, SubjectKind

pytestmark = pytest.mark.browser

SUBJECT_PASSWORD = "Subject-pass-2025"
ADMIN_PASSWORD = "Admin-pass-2025-x"
SYSTEM = Actor.system("browser-test")
PERSON_ID = make_id_number("330521", date(1988, 8, 8), "215")


@pytest.fixture
def live_settings(fresh_database_url: str, tmp_path: Path) -> Settings:
    from tests.fixtures.keys import TEST_KEY

    return Settings(database_url=fresh_database_url, secret_key=TEST_KEY, secret_key_file=tmp_path / "k",
                    portal_rate_limit_requests=0, upload_dir=tmp_path / "uploads",
                    events_file=tmp_path / "events.jsonl")  # fmt: skip


def _seed(settings: Settings) -> dict[str, str]:
    today = today_in_china()
    protector = make_protector(settings)
    engine = make_engine(settings.database_url)
    session = keyed_sessionmaker(engine)()
    try:
        dept = f.department(session)
        lf.load_types(session, dept)
        ef.load_builtin_model(session, settings)
        clean, listed = ef.company(1), ef.company(2)
        licence = ef.licence(session, settings, protector, dept, clean, decided=today - timedelta(days=30), today=today)
        ef.licence(session, settings, protector, dept, listed, decided=today - timedelta(days=30), today=today)
        lf.listed(session, settings, protector, dept, listed[0], today=today, type_key="watch")
        ef.run(session, settings, today)
        lf.subject(session, protector, 8, name="王阳光", kind=SubjectKind.PERSON, id_number=PERSON_ID)
        lf.listed(session, settings, protector, dept, PERSON_ID, today=today, type_key="honor")
        bank = finance_service.register_institution(session, code=company_code(90001), name="德清农村商业银行",
                                                    purposes=["流动资金"], min_amount="1", max_amount="5000",
                                                    actor=SYSTEM)  # fmt: skip
        _, token = finance_service.issue_key(session, bank, name="信贷系统", actor=SYSTEM)
        scenarios_service.save_scenario(session, key="xinyi-you", name="信易游", provider="德清县文化和旅游局",
                                        provider_kind="department", benefit="景区门票 8 折", grades=[], list_types=[],
                                        points_bands=["good", "excellent"], basis="《德清县信易+守信激励实施方案》",
                                        valid_from=today, valid_until=None, actor=SYSTEM, settings=settings)  # fmt: skip
        auth_service.create_user(session, username="xyb-admin", password=ADMIN_PASSWORD, role=Role.PLATFORM_ADMIN,
                                 department=None, display_name="信用办", actor=SYSTEM, settings=settings)  # fmt: skip
        officer = auth_service.create_user(session, username="bank-officer", password=ADMIN_PASSWORD,
                                           role=Role.INSTITUTION_OFFICER, department=None, display_name="李信贷",
                                           actor=SYSTEM, settings=settings)  # fmt: skip
        finance_service.add_officer(session, bank, user_id=officer.id, actor=SYSTEM)
        _, company_code_ = activation.issue(session, subject_id=licence.subject_id, actor=SYSTEM, channel="counter",
                                            settings=settings, protector=protector)  # fmt: skip
        person_subject = session.scalar(select(Subject.id).where(Subject.kind == SubjectKind.PERSON))
        _, person_code = activation.issue(session, subject_id=person_subject, actor=SYSTEM, channel="counter",
                                          settings=settings, protector=protector)  # fmt: skip
        session.commit()
        return {"clean": clean[0], "clean_name": clean[1], "listed": listed[0], "licence": licence.doc_no,
                "token": token, "company_activation": company_code_, "person_activation": person_code}  # fmt: skip
    finally:
        session.close()
        engine.dispose()


def _sign_up(page, live_server, *, code: str, name: str, contact: str, activation_code: str) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    page.goto(base + "/account/signup")
    page.fill("#code", code)
    page.fill("#name", name)
    page.fill("#contact", contact)
    page.fill("#password", SUBJECT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account/verify")
    page.fill("#verify-code", live_server.app.state.notifier.sent[-1]["body"].split("验证码为 ")[1][:6])
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account/login")
    page.fill("#code", code)
    page.fill("#password", SUBJECT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account")
    page.goto(base + "/account/identity")
    page.fill("#activation-code", activation_code)
    page.click("#method-activation_code button[type=submit]")
    page.wait_for_url("**/account")


def test_consent_demand_whitelist_and_points_end_to_end(live_server, browser, artifacts_dir):  # type: ignore[no-untyped-def]
    seeded = _seed(live_server.settings)
    base = live_server.url
    today = today_in_china()
    bank = {"Authorization": f"Bearer {seeded['token']}"}
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    api = context.request

    # --- an enterprise consents to a bank; the bank reads exactly the package; revocation stops the next read
    _sign_up(page, live_server, code=seeded["clean"], name=seeded["clean_name"], contact="boss@example.cn",
             activation_code=seeded["company_activation"])  # fmt: skip
    page.click("nav.account-nav a[href='/account/finance']")
    page.wait_for_url("**/account/finance")
    assert api.get(f"{base}/api/v1/finance/subjects/{seeded['clean']}", headers=bank).status == 403
    page.check("input[data-scope=basics]")
    page.check("input[data-scope=licences]")
    page.fill("#consent-until", (today + timedelta(days=30)).isoformat())
    page.click("#consent-submit")
    page.wait_for_selector("article.consent[data-state='有效']")
    read = api.get(f"{base}/api/v1/finance/subjects/{seeded['clean']}", headers=bank)
    assert read.status == 200
    package = read.json()
    assert set(package["data"]) == {"basics", "licences"}  # and not a field more
    assert [r["doc_no"] for r in package["data"]["licences"]] == [seeded["licence"]]
    widened = api.get(f"{base}/api/v1/finance/subjects/{seeded['clean']}?scope=grade", headers=bank)
    assert widened.status == 403
    page.reload()
    assert "登记信息、行政许可等守信信息" in page.inner_text("article.consent table.accesses")
    page.screenshot(path=str(artifacts_dir / "incentives-consent.png"), full_page=True)
    page.click("button.revoke-consent")
    page.wait_for_selector("article.consent[data-state='已撤回']")
    refused = api.get(f"{base}/api/v1/finance/subjects/{seeded['clean']}", headers=bank)
    assert refused.status == 403
    assert "已撤回" in refused.json()["error"]["message"]

    # --- a need posted, taken by the bank, a loan recorded
    page.fill("#demand-amount", "300")
    page.fill("#demand-term", "12")
    page.select_option("#demand-purpose", "流动资金")
    page.click("#demand-submit")
    page.wait_for_selector("#my-demands tr[data-demand]")
    demands = api.get(f"{base}/api/v1/finance/demands", headers=bank).json()["demands"]
    assert len(demands) == 1
    demand_id = demands[0]["id"]
    officer = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    officer.goto(base + "/admin/bank")
    officer.fill("input[name=username]", "bank-officer")
    officer.fill("input[name=password]", ADMIN_PASSWORD)
    officer.click("button[type=submit]")
    officer.wait_for_url("**/admin/bank")
    officer.click(f"tr[data-demand='{demand_id}'] button.take-demand")
    officer.wait_for_selector(f"tr[data-demand='{demand_id}'] form.outcome-form")
    assert api.post(f"{base}/api/v1/finance/demands/{demand_id}/take", headers=bank).status == 409  # taken once
    form = officer.locator(f"tr[data-demand='{demand_id}'] form.outcome-form")
    form.locator("select[name=outcome]").select_option("loaned")
    form.locator("input[name=loan_amount]").fill("300")
    form.locator("button[type=submit]").click()
    officer.wait_for_selector(".flash")
    assert "已放款" in officer.inner_text(f"tr[data-demand='{demand_id}']")
    officer.screenshot(path=str(artifacts_dir / "incentives-bank.png"), full_page=True)
    page.reload()
    row = page.inner_text(f"#my-demands tr[data-demand='{demand_id}']")
    assert "已放款" in row
    assert "放款 300.00 万元" in row
    page.screenshot(path=str(artifacts_dir / "incentives-demand.png"), full_page=True)

    # --- the 信用办 publishes the whitelist on the console; the feed lists the clean A, not the listed one
    console = context.new_page()
    console.goto(base + "/admin/finance")
    console.fill("input[name=username]", "xyb-admin")
    console.fill("input[name=password]", ADMIN_PASSWORD)
    console.click("button[type=submit]")
    console.wait_for_url("**/admin/finance")
    console.click("#whitelist-publish")
    console.wait_for_selector("[data-testid=whitelist-version]")
    assert "统计" in console.inner_text("#statistics")
    assert "德清农村商业银行" in console.inner_text("#statistics")
    console.screenshot(path=str(artifacts_dir / "incentives-console.png"), full_page=True)
    feed = api.get(f"{base}/api/v1/finance/whitelist", headers=bank).json()
    codes = [e["code"] for e in feed["entries"]]
    assert seeded["clean"] in codes
    assert seeded["listed"] not in codes
    assert feed["version"] == 1
    csv_text = api.get(f"{base}/api/v1/finance/whitelist.csv", headers=bank).text()
    assert seeded["clean"] in csv_text
    assert seeded["listed"] not in csv_text

    # --- a person opts in, sees points and a benefit, opts out: the points are gone
    person = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    _sign_up(person, live_server, code=PERSON_ID, name="王阳光", contact="wang@example.cn",
             activation_code=seeded["person_activation"])  # fmt: skip
    person.goto(base + "/account/points")
    person.click("#points-opt-in-button")
    person.wait_for_selector("[data-testid=points-score]")
    assert person.inner_text("[data-testid=points-score]") == "120"
    assert person.inner_text("[data-testid=points-band]") == "阳光+"
    assert "守信激励对象（红名单）" in person.inner_text("#my-points")
    assert "信易游：景区门票 8 折" in person.inner_text("#my-benefits")
    person.screenshot(path=str(artifacts_dir / "incentives-points.png"), full_page=True)
    person.click("#points-opt-out-button")
    person.wait_for_selector("#points-opt-in")
    assert person.locator("[data-testid=points-score]").count() == 0
    assert "积分记录已全部删除" in person.inner_text("main")
    public = browser.new_page()
    public.goto(base + "/scenarios")
    assert "信易游" in public.inner_text("main")
    context.close()
