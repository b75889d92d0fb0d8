"""Hostile text in every text field a department can fill: the report prints it as text (its HTML escapes it,
the PDF shows it literally, nothing is fetched), and the verification page escapes it too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.factories import records as f
from tests.functional.reports.conftest import _import, pdf_text

from xinyong.catalog import load_catalog
from xinyong.reports import pdf, service

HOSTILE = [
    "<script>alert('x')</script>",
    "</td></tr></table><h1>伪造的结论：未发现违法违规记录</h1>",
    '<img src="http://127.0.0.1:9/leak.png">',
    "{{7*7}}{%raw%}${jndi}",
    "&lt;b&gt;已转义&amp;",
    "url(http://127.0.0.1:9/x)<link rel=stylesheet href=http://127.0.0.1:9/s.css>",
]
LONG = "长" * 20 + "W" * 400  # no break opportunity for the Latin run


def _hostile_row(record_type: str, code: str, dept, decided: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    rtype = load_catalog().get(record_type)
    base = f.penalty_row() if record_type == "penalty" else f.license_row()
    row = {**base, rtype.role_code("uscc"): code, rtype.role_code("decision_date"): decided,
           rtype.role_code("authority_code"): dept.code, rtype.role_code("source_code"): dept.code}  # fmt: skip
    if record_type == "license":
        row.update({"XK_YXQZ": decided})
    texts = [s for s in rtype.fields if s.kind == "text" and s.role not in ("id_type",)]
    for n, spec in enumerate(texts):
        value = HOSTILE[n % len(HOSTILE)] if spec.code != rtype.role_code("doc_no") else f"<i>{record_type}〔2026〕{n}号</i>"
        if spec.role in ("authority_name", "source_name"):
            value = dept.name + value
        if spec.role == "subject_name":
            value = "<b>恶意名称</b>有限公司"
        if spec.code.endswith("BZ"):
            value = LONG
        row[spec.code] = value[: spec.max_length or 4000]
    return row


@pytest.fixture
def hostile(db_session, report_settings, protector, today):  # type: ignore[no-untyped-def]
    dept = f.department(db_session)
    code = f.company_code(6100)
    decided = (today - timedelta(days=30)).isoformat()
    for record_type in ("license", "penalty"):
        _import(db_session, report_settings, protector, [_hostile_row(record_type, code, dept, decided)],
                record_type=record_type, department=dept, today=today)  # fmt: skip
    db_session.commit()
    return code


def test_hostile_text_stays_text_in_every_kind(db_session, hostile, report_settings, protector, today, tmp_path):
    for kind in ("public", "own", "special"):
        issued = service.prepare_for_platform(db_session, hostile, kind=kind, settings=report_settings,
                                              protector=protector, today=today, now=datetime.now(UTC), base_url=None)  # fmt: skip
        markup = pdf.html(issued.content, content_sha256=issued.content_sha256)
        for markup_only in ("<script", "<h1>伪造", "<b>恶意", 'src="http', "<link", "<i>"):
            assert markup_only not in markup, (kind, markup_only)
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in markup
        assert "&amp;lt;b&amp;gt;已转义&amp;amp;" in markup  # an entity stays the characters typed
        text = pdf_text(issued.pdf, tmp_path)
        for value in ("<script>alert('x')</script>", "</td></tr></table><h1>伪造的结论：未发现违法违规记录</h1>",
                      "{{7*7}}{%raw%}${jndi}", "&lt;b&gt;已转义&amp;", "<b>恶意名称</b>有限公司"):  # fmt: skip
            assert value in text, (kind, value)
        assert "W" * 200 in text.replace("\n", "")  # the long run is wrapped onto the page, not cut


def test_the_renderer_fetches_nothing():
    fetcher = pdf._fetcher()
    for url in ("http://127.0.0.1:9/leak.png", "file:///etc/passwd", "https://example.cn/x.css"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"


def test_the_verification_page_escapes_the_subject(client, db_session, hostile, report_settings, protector, today):
    issued = service.prepare_for_platform(db_session, hostile, kind="public", settings=report_settings,
                                          protector=protector, today=today, now=datetime.now(UTC), base_url=None)  # fmt: skip
    service.register(db_session, issued, actor="test")
    db_session.commit()
    page = client.get(f"/reports/verify/{issued.number}")
    assert page.status_code == 200
    assert "&lt;b&gt;恶意名称&lt;/b&gt;有限公司" in page.text
    assert "<b>恶意名称" not in page.text
