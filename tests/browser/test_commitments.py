"""信用承诺 in a real browser: a signed-in subject reads a template in full, agrees and commits; its printable copy
carries the content hash; the public commitment is on the portal; the accepting department's verification finds
it untrue and the subject sees it broken. Screenshots kept."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from urllib.request import urlopen

import pytest
from tests.browser.test_repair import STAFF_PASSWORD, _prove_identity, _sign_up_and_in, _staff_sign_in
from tests.factories import records as f
from tests.factories.commitments import commitment_row
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.codes import make_id_number, mask_id_number
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.disclosure.service import today_in_china
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service

pytestmark = pytest.mark.browser
KEY = "commitment"


@pytest.fixture
def live_settings(fresh_database_url: str, tmp_path: Path) -> Settings:
    from tests.fixtures.keys import TEST_KEY

    return Settings(database_url=fresh_database_url, secret_key=TEST_KEY, secret_key_file=tmp_path / "k",
                    portal_rate_limit_requests=0, upload_dir=tmp_path / "uploads",
                    events_file=tmp_path / "events.jsonl")  # fmt: skip


def _seed(settings: Settings, row: dict[str, str] | None = None) -> dict[str, str]:
    """A department with its reviewer, and a company (or the subject of `row`) the platform knows from an earlier
    commitment (不予公开)."""
    today = today_in_china()
    name, uscc = "安吉县承诺示范食品有限公司", f.company_code(7300)
    if row is None:
        row = commitment_row(today, 承诺人名称=name, 统一社会信用代码=uscc, 公开类型="不予公开", 承诺类型="主动型")
    engine = make_engine(settings.database_url)
    session = keyed_sessionmaker(engine)()
    try:
        dept = f.department(session)
        auth_service.create_user(session, username="reviewer-browser", password=STAFF_PASSWORD, role=Role.REVIEWER,
                                 department=dept, display_name="审核员", actor=Actor.system("test"), settings=settings)  # fmt: skip
        session.commit()
        result = records_service.import_rows(session, [row], settings=settings, protector=make_protector(settings),
                                             record_type=KEY, department=dept, actor="browser-test", today=today)  # fmt: skip
        assert result.rejected == 0, result
        session.commit()
    finally:
        session.close()
        engine.dispose()
    return {"uscc": uscc, "name": name, "doc_no": row["承诺编码"], "department": dept.name}


def test_a_subject_commits_online_and_the_department_finds_it_untrue(live_server, browser, artifacts_dir):
    seeded = _seed(live_server.settings)
    base = live_server.url
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    _sign_up_and_in(page, base, live_server.app, seeded)
    _prove_identity(page, browser, base, seeded)

    page.goto(base + "/account/commitments")
    assert seeded["doc_no"] in page.inner_text("[data-testid=own-commitments]")  # 不予公开: the subject sees it
    page.click("text=食品经营许可证明事项告知承诺书")
    page.wait_for_url("**/account/commitments/new/*")
    assert "如承诺不实，愿意承担相应的法律责任" in page.inner_text("[data-testid=full-text]")
    page.select_option("select[name=department]", label=seeded["department"])
    page.check("input[name=agreed]")
    page.screenshot(path=str(artifacts_dir / "commitment-new.png"), full_page=True)
    page.click("[data-testid=commit-form] button[type=submit]")
    page.wait_for_url("**/account/commitments/*")
    code = page.inner_text("[data-testid=code]").strip()
    assert len(code) == 20
    assert len(page.inner_text("[data-testid=hash]").strip()) == 64
    page.screenshot(path=str(artifacts_dir / "commitment-copy.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.is_visible("header.masthead")
    assert page.is_visible("[data-testid=copy]")
    page.pdf(path=str(artifacts_dir / "commitment-copy.pdf"))
    page.emulate_media(media="screen")

    page.goto(f"{base}/subjects/{seeded['uscc']}?tab={KEY}")
    main = page.inner_text("main")
    assert code in main
    assert seeded["doc_no"] not in main  # 不予公开 stays off the portal
    with urlopen(f"{base}/api/v1/subjects/{seeded['uscc']}/records?record_type={KEY}") as response:
        assert [i["doc_no"] for i in json.load(response)["items"]] == [code]

    staff = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    _staff_sign_in(staff, base, "/admin/commitments/verifications")
    row = staff.locator(f"tr[data-code='{code}']")
    row.locator("input[value=untrue]").check()
    row.locator("input[name=note]").fill("经核查，经营场所使用证明系伪造")
    row.locator("input[value=终止办理]").check()
    row.locator("input[value=撤销行政决定]").check()
    row.locator("button[type=submit]").click()
    staff.wait_for_selector("text=承诺不实，已认定为全部未履行")
    staff.goto(base + "/admin/commitments?status=全部未履行")
    assert code in staff.inner_text("[data-testid=commitments]")
    staff.goto(base + "/admin/commitments/dashboard")
    staff.screenshot(path=str(artifacts_dir / "commitment-dashboard.png"), full_page=True)
    assert staff.inner_text(f"tr[data-department='{seeded['department']}'] [data-testid=broken]").strip() == "1"
    staff.close()

    page.goto(base + "/account/commitments")
    status = page.inner_text(f"tr[data-code='{code}'] [data-testid=status]")
    assert "全部未履行" in status
    assert "终止办理" in status
    page.screenshot(path=str(artifacts_dir / "commitment-broken-subject.png"), full_page=True)
    page.close()


def test_a_person_commits_online_and_sees_the_id_number_masked(live_server, browser, artifacts_dir):
    """A natural person signs in with the ID number, proves its identity and commits; the printable copy and
    every page on the way show the number masked."""
    today = today_in_china()
    id_number = make_id_number("330523", date(1984, 6, 18), "352")
    name = "赵承诺"
    row = commitment_row(today, 承诺人名称=name, 承诺人类别="自然人", 统一社会信用代码="", 证件类型="居民身份证",
                         证件号码=id_number, 公开类型="不予公开", 承诺类型="主动型")  # fmt: skip
    seeded = _seed(live_server.settings, row)
    seeded.update({"uscc": id_number, "name": name, "doc_no": row["承诺编码"]})  # the helpers sign in by this code
    base = live_server.url
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    _sign_up_and_in(page, base, live_server.app, seeded)
    _prove_identity(page, browser, base, seeded)

    page.goto(base + "/account/commitments/new/general-self")
    assert page.inner_text("[data-testid=identity]").strip() == mask_id_number(id_number)
    page.select_option("select[name=department]", label=seeded["department"])
    page.check("input[name=agreed]")
    page.click("[data-testid=commit-form] button[type=submit]")
    page.wait_for_url("**/account/commitments/*")
    code = page.inner_text("[data-testid=code]").strip()
    assert len(code) == 20
    assert page.inner_text("[data-testid=identity]").strip() == mask_id_number(id_number)
    assert id_number not in page.content()
    page.screenshot(path=str(artifacts_dir / "commitment-person-copy.png"), full_page=True)
    page.goto(base + "/account/commitments")
    assert code in page.inner_text("[data-testid=own-commitments]")
    assert id_number not in page.content()
    page.close()
