"""A person holding a credit report, in a real browser: the profile's 下载信用报告, the PDF it downloads (a page
of it kept as an image for a person to look at), and the verification page that says it is genuine."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from tests.factories import records as f
from tests.fixtures.keys import keyed_sessionmaker

from xinyong.db import make_engine
from xinyong.disclosure.service import today_in_china
from xinyong.protect import protector as make_protector
from xinyong.records import service as records_service
from xinyong.reports import rules

pytestmark = pytest.mark.browser

COMPANY = "安吉县报告浏览器样本有限公司"


def _seed(settings) -> str:  # type: ignore[no-untyped-def]
    today = today_in_china()
    uscc = f.company_code(4343)
    engine = make_engine(settings.database_url)
    session = keyed_sessionmaker(engine)()
    try:
        dept = f.department(session)
        session.commit()
        for record_type, row in (
            ("penalty", f.penalty_row(CF_XDR_MC=COMPANY, CF_XDR_SHXYM=uscc, CF_WSH="安市监罚决〔2026〕301号",
                                      CF_JDRQ=(today - timedelta(days=40)).isoformat())),
            ("license", f.license_row(XK_XDR_MC=COMPANY, XK_XDR_SHXYM=uscc, XK_WSH="安市监许〔2026〕302号",
                                      XK_JDRQ=(today - timedelta(days=20)).isoformat(),
                                      XK_YXQZ=(today - timedelta(days=20)).isoformat())),
        ):  # fmt: skip
            result = records_service.import_rows(session, [row], settings=settings, protector=make_protector(settings),
                                                 record_type=record_type, department=dept, actor="browser-test",
                                                 today=today)  # fmt: skip
            assert result.rejected == 0, result
        session.commit()
    finally:
        session.close()
        engine.dispose()
    return uscc


def test_profile_download_then_verify(live_server, browser, artifacts_dir, tmp_path):
    uscc = _seed(live_server.settings)
    context = browser.new_context(accept_downloads=True, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.goto(f"{live_server.url}/subjects/{uscc}")
    with page.expect_download() as waiting:
        page.click("text=下载信用报告")
    download = waiting.value
    number = download.suggested_filename.removesuffix(".pdf")
    assert rules.parse_number(number) == number
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")

    # The first pages as images, for a person to look at; the text as pdftotext reads it.
    subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "3", str(path),
                    str(artifacts_dir / "report-public")], check=True, timeout=120)  # fmt: skip
    assert (artifacts_dir / "report-public-1.png").exists()
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                          timeout=60).stdout.decode()  # fmt: skip
    assert COMPANY in text
    assert "安市监罚决〔2026〕301号" in text
    verify_url = f"{live_server.url}/reports/verify/{number}"
    assert verify_url in "".join(text.split())

    # What the QR code and the printed address lead to.
    page.goto(verify_url)
    result = page.locator("#verify-result")
    assert "真实有效：该报告由本平台出具" in result.inner_text()
    assert page.inner_text("#verify-subject") == COMPANY
    assert page.inner_text("#verify-number") == number
    assert "公开版" in page.inner_text("#verify-kind")
    assert "安市监罚决〔2026〕301号" not in page.inner_text("main")  # the number tells nothing of the content
    page.screenshot(path=str(artifacts_dir / "report-verify.png"), full_page=True)

    # A number typed with one character wrong is caught by its check character.
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    page.goto(f"{live_server.url}/reports/verify")
    page.fill("#report-number", wrong)
    page.click(".report-verify-form button")
    page.wait_for_url(f"**/reports/verify/{wrong}")
    assert "核验未通过" in page.inner_text("#verify-result")
    assert "校验不通过" in page.inner_text("#verify-message")
    assert external == []
    context.close()
