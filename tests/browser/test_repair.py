"""Repair and objections in a real browser: a subject signs up, applies and is approved, and the record
leaves the portal and the public API; an objection ends in a correction. Screenshots kept."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from urllib.request import urlopen

import pytest
from sqlalchemy import select
from tests.factories import records as f
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.actors import Actor
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.config import Settings
from xinyong.db import make_engine
from xinyong.disclosure.service import today_in_china
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service
from xinyong.records.models import Record

pytestmark = pytest.mark.browser

STAFF_PASSWORD = "Reviewer-pass-42"
SUBJECT_PASSWORD = "Subject-pass-2025"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def live_settings(fresh_database_url: str, tmp_path: Path) -> Settings:
    from tests.fixtures.keys import TEST_KEY

    return Settings(database_url=fresh_database_url, secret_key=TEST_KEY, secret_key_file=tmp_path / "k",
                    portal_rate_limit_requests=0, upload_dir=tmp_path / "uploads",
                    events_file=tmp_path / "events.jsonl")  # fmt: skip


def _seed(settings: Settings, **overrides: str) -> dict[str, str]:
    today = today_in_china()
    uscc = f.company_code(7100 + len(overrides))
    name = "安吉县修复示范竹业有限公司"
    row = f.penalty_row(CF_XDR_MC=name, CF_XDR_SHXYM=uscc, CF_JDRQ=(today - timedelta(days=200)).isoformat(),
                        **overrides)  # fmt: skip
    engine = make_engine(settings.database_url)
    session = keyed_sessionmaker(engine)()
    try:
        dept = f.department(session)
        auth_service.create_user(session, username="reviewer-browser", password=STAFF_PASSWORD, role=Role.REVIEWER,
                                 department=dept, display_name="审核员", actor=Actor.system("test"), settings=settings)  # fmt: skip
        auth_service.create_user(session, username="admin-browser", password=STAFF_PASSWORD, role=Role.PLATFORM_ADMIN,
                                 department=None, display_name="信用办", actor=Actor.system("test"), settings=settings)  # fmt: skip
        session.commit()
        result = records_service.import_rows(session, [row], settings=settings, protector=make_protector(settings),
                                             record_type="penalty", department=dept, actor="browser-test", today=today)  # fmt: skip
        assert result.rejected == 0, result
        session.commit()
    finally:
        session.close()
        engine.dispose()
    return {"uscc": uscc, "name": name, "doc_no": row["CF_WSH"], "row": json.dumps(row, ensure_ascii=False)}


def _sign_up_and_in(page, base: str, app, seeded: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/account/signup")
    page.fill("#code", seeded["uscc"])
    page.fill("#name", seeded["name"])
    page.fill("#contact", "owner@example.cn")
    page.fill("#password", SUBJECT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account/verify")
    code = app.state.notifier.sent[-1]["body"].split("验证码为 ")[1][:6]  # the console notifier's last message
    page.fill("#verify-code", code)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account/login")
    page.fill("#code", seeded["uscc"])
    page.fill("#password", SUBJECT_PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/account")
    assert "本账户尚未完成主体身份核验" in page.inner_text("main")
    assert seeded["doc_no"] not in page.inner_text("main")


def _issue_at_counter(browser, base: str, seeded: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    """A department reviewer, having checked the papers at the counter, issues an activation code."""
    staff = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    _staff_sign_in(staff, base, "/admin/subject-accounts")
    staff.fill("input[name=code]", seeded["uscc"])
    staff.click("form.filters button[type=submit]")
    staff.wait_for_selector("#issue-form")
    staff.select_option("select[name=channel]", "counter")
    staff.click("#issue")
    code = staff.inner_text("[data-testid=secret]").strip()
    staff.close()
    return code


def _prove_identity(page, browser, base: str, seeded: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    code = _issue_at_counter(browser, base, seeded)
    page.fill("#activation-code", code)
    page.click("#method-activation_code button[type=submit]")
    page.wait_for_selector("#my-records")


def test_a_claim_sees_nothing_until_it_enters_the_activation_code(live_server, browser, artifacts_dir):
    seeded = _seed(live_server.settings, CF_FR_ZJLX="身份证", CF_FR_ZJHM="330523197503080517")
    base = live_server.url
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    _sign_up_and_in(page, base, live_server.app, seeded)
    assert "激活码" in page.inner_text("#method-activation_code")
    page.screenshot(path=str(artifacts_dir / "account-identity.png"), full_page=True)
    page.fill("#activation-code", "ABCD-EFGH-JKMN-PQRS")
    page.click("#method-activation_code button[type=submit]")
    page.wait_for_selector("#form-error")
    assert "激活码不正确" in page.inner_text("#form-error")
    code = _issue_at_counter(browser, base, seeded)
    page.fill("#activation-code", code.lower())
    page.click("#method-activation_code button[type=submit]")
    page.wait_for_selector("#my-records")
    assert "主体身份核验已完成" in page.inner_text("main")
    assert seeded["doc_no"] in page.inner_text("#my-records")
    page.click(f"article[data-doc='{seeded['doc_no']}'] summary")
    assert "330523197503080517" in page.inner_text("#my-records")
    page.screenshot(path=str(artifacts_dir / "account-proven.png"), full_page=True)
    page.close()


def _staff_sign_in(page, base: str, target: str, username: str = "reviewer-browser") -> None:  # type: ignore[no-untyped-def]
    page.goto(base + target)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**" + target)


def test_subject_applies_department_approves_record_leaves_portal(live_server, browser, artifacts_dir):
    seeded = _seed(live_server.settings)
    base = live_server.url
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page.goto(f"{base}/subjects/{seeded['uscc']}?tab=penalty")
    assert seeded["doc_no"] in page.inner_text("main")

    _sign_up_and_in(page, base, live_server.app, seeded)
    _prove_identity(page, browser, base, seeded)
    assert seeded["doc_no"] in page.inner_text("#my-records")
    page.screenshot(path=str(artifacts_dir / "repair-account.png"), full_page=True)
    page.click("a.apply-repair")
    page.wait_for_url("**/repair/apply/*")
    page.fill("#contact_name", "李经理")
    page.fill("#contact_phone", "0572-5123456")
    page.fill("#statement", "已足额缴纳罚款并完成整改，附缴款凭证。")
    page.set_input_files("#evidence", files=[{"name": "缴款凭证.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.check("#agree")
    page.fill("#signer_name", "张三")
    page.screenshot(path=str(artifacts_dir / "repair-apply.png"), full_page=True)
    page.click("#submit-repair")
    page.wait_for_url("**/repair/applications/*")
    number = page.inner_text("#application-number").strip()
    assert "已提交，待受理" in page.inner_text("#application-status")

    platform = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")  # the 信用办 accepts
    _staff_sign_in(platform, base, "/admin/repairs", "admin-browser")
    platform.click(f"text={number}")
    platform.click("#accept")
    platform.wait_for_selector("text=已受理，部门审核中")
    assert platform.locator("#approve").count() == 0  # the decision is the department's
    platform.close()
    staff = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")  # the department decides
    _staff_sign_in(staff, base, "/admin/repairs")
    staff.click(f"text={number}")
    staff.fill("#opinion", "材料齐全，同意修复")
    staff.click("#approve")
    staff.wait_for_selector("text=修复成功，已停止公示")
    staff.screenshot(path=str(artifacts_dir / "repair-admin-approved.png"), full_page=True)

    page.goto(f"{base}/subjects/{seeded['uscc']}?tab=penalty")
    assert seeded["doc_no"] not in page.inner_text("main")
    with urlopen(f"{base}/api/v1/subjects/{seeded['uscc']}/records?record_type=penalty") as response:
        assert json.load(response)["total"] == 0
    page.goto(f"{base}/repair/applications/{number}")
    assert "修复成功，已停止公示" in page.inner_text("#application-status")
    page.screenshot(path=str(artifacts_dir / "repair-approved-subject.png"), full_page=True)
    page.close()
    staff.close()


def test_objection_ends_in_a_correction(live_server, browser, artifacts_dir):
    seeded = _seed(live_server.settings, CF_NR="警告，罚款人民币贰万元整")
    base = live_server.url
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
    _sign_up_and_in(page, base, live_server.app, seeded)
    _prove_identity(page, browser, base, seeded)
    page.click("a.file-objection")
    page.wait_for_url("**/objections/file/*")
    page.check("input[value=wrong-data]")
    page.fill("#reason", "处罚内容记载的罚款金额有误，决定书为贰仟元。")
    page.fill("#contact_name", "李经理")
    page.fill("#contact_phone", "13800000000")
    page.click("#submit-objection")
    page.wait_for_url("**/objections/YY*")
    assert "异议处理中" in page.inner_text("#objection-status")
    page.goto(f"{base}/subjects/{seeded['uscc']}?tab=penalty")
    assert "异议处理中" in page.inner_text("main")
    page.screenshot(path=str(artifacts_dir / "objection-badge-phone.png"), full_page=True)

    # The department re-sends the corrected decision through its normal channel (same 文书号).
    settings = live_server.settings
    engine = make_engine(settings.database_url)
    session = keyed_sessionmaker(engine)()
    try:
        row = {**json.loads(seeded["row"]), "CF_NR": "警告，罚款人民币贰仟元整"}
        dept = session.scalars(select(Record)).first()
        from xinyong.departments.models import Department

        department = session.get(Department, dept.department_id)
        result = records_service.import_rows(session, [row], settings=settings, protector=make_protector(settings),
                                             record_type="penalty", department=department, actor="browser-test",
                                             today=today_in_china())  # fmt: skip
        assert result.updated == 1, result
        session.commit()
    finally:
        session.close()
        engine.dispose()

    staff = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    _staff_sign_in(staff, base, "/admin/objections")
    staff.click("#objection-queue a")
    assert "贰仟元" in staff.inner_text("#changes")
    staff.check("input[value=correct]")
    staff.fill("#decide-reason", "经核实，罚款金额记载有误，已更正")
    staff.click("#decide")
    staff.wait_for_selector("text=异议成立，记录已更正")
    staff.screenshot(path=str(artifacts_dir / "objection-admin-corrected.png"), full_page=True)

    page.goto(f"{base}/subjects/{seeded['uscc']}?tab=penalty")
    text = page.inner_text("main")
    assert "异议处理中" not in text
    page.click("a.button:has-text('详情')")
    page.wait_for_url("**/records/*")
    detail = page.inner_text("main")
    assert "贰仟元" in detail
    assert "贰万元" not in detail
    page.close()
    staff.close()
