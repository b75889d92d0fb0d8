"""What a person gets on the portal: 下载信用报告 on a profile, the verification page for genuine, malformed,
altered and unknown numbers, a person's report for the person alone, the account's report form."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.functional.reports.conftest import COMPANY, pdf_text

from xinyong.audit.models import AuditEntry
from xinyong.reports import rules
from xinyong.reports.models import IssuedReport, ReportKind
from xinyong.subjects import refs


def test_profile_offers_the_report_and_the_download_registers_it(client, db_session, world, tmp_path):
    page = client.get(f"/subjects/{world.company.uscc}")
    assert page.status_code == 200
    assert f'href="http://testserver/reports/public/{world.company.uscc}"' in page.text
    assert "下载信用报告" in page.text
    response = client.get(f"/reports/public/{world.company.uscc}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    number = response.headers["x-report-number"]
    assert f'filename="{number}.pdf"' in response.headers["content-disposition"]
    text = pdf_text(response.content, tmp_path)
    assert COMPANY in text
    assert number in text
    assert f"http://testserver/reports/verify/{number}" in text
    row = db_session.scalars(select(IssuedReport).where(IssuedReport.number == number)).one()
    assert (row.kind, row.subject_id, row.requested_by) == (ReportKind.PUBLIC, world.company.id, "public")
    assert row.pdf_sha256 == rules.sha256(response.content)
    json_copy = client.get(f"/reports/public/{world.company.uscc}?format=json")
    assert json_copy.status_code == 200
    assert json_copy.headers["content-type"] == "application/json"
    assert json_copy.json()["report"]["subject"]["name"] == COMPANY


def test_verification_page_shows_the_registry_never_the_content(client, world):
    number = client.get(f"/reports/public/{world.company.uscc}").headers["x-report-number"]
    page = client.get(f"/reports/verify/{number}")
    assert page.status_code == 200
    assert "真实有效：该报告由本平台出具" in page.text
    assert COMPANY in page.text
    assert world.company.uscc in page.text
    assert "公共信用信息报告（公开版）" in page.text
    assert "截至" in page.text
    assert 'id="verify-digest"' in page.text
    assert 'id="verify-pdf-digest"' in page.text
    for role in ("disputed", "licence", "tax"):  # the content is not on the page
        assert world.records[role].doc_no not in page.text
    assert "销售过期食品" not in page.text
    lower = client.get(f"/reports/verify/{number.lower()}")
    assert lower.status_code == 200
    assert number in lower.text
    typed = client.get(f"/reports/verify?number=+{number[:8]}+{number[8:]}+")
    assert typed.status_code == 303
    assert typed.headers["location"] == f"/reports/verify/{number}"
    form = client.get("/reports/verify")
    assert form.status_code == 200
    assert 'name="number"' in form.text


def test_verification_refuses_malformed_altered_and_unknown_numbers(client, world, today):
    number = client.get(f"/reports/public/{world.company.uscc}").headers["x-report-number"]
    malformed = client.get("/reports/verify/XY2026")
    assert malformed.status_code == 400
    assert "报告编号格式不正确" in malformed.text
    assert "核验未通过" in malformed.text
    assert client.get("/reports/verify/%3Cscript%3E").status_code == 400
    position = 12
    swapped = rules.ALPHABET[(rules.ALPHABET.index(number[position]) + 1) % len(rules.ALPHABET)]
    altered = client.get(f"/reports/verify/{number[:position]}{swapped}{number[position + 1:]}")
    assert altered.status_code == 404
    assert "校验不通过" in altered.text
    assert COMPANY not in altered.text
    unknown = rules.new_number(today)
    answer = client.get(f"/reports/verify/{unknown}")
    assert answer.status_code == 404
    assert f"未找到编号为 {unknown} 的报告" in answer.text


def test_a_persons_report_is_for_the_person_alone(client, world, protector, portal_sign_in, today, tmp_path):
    ref = refs.subject_ref(world.person, protector)
    refused = client.get(f"/reports/public/{ref}")
    assert refused.status_code == 403
    assert "自然人的信用报告只能由本人登录信用主体账户后申请" in refused.text
    assert client.get(f"/reports/public/{world.person_id_number}").status_code == 404  # never an ID number in a URL
    other = portal_sign_in(world.accounts["company"], world.company.uscc)
    assert other.client.get(f"/reports/public/{ref}").status_code == 403
    own = portal_sign_in(world.accounts["person"], world.person_id_number)
    response = own.post("/account/reports", {"kind": "own"})
    assert response.status_code == 200, response.text
    text = pdf_text(response.content, tmp_path)
    assert "李报告" in text
    assert f"证件号码{world.person.id_masked}" in text  # the cover: masked, documents travel
    # the subject's own restricted fields, opened for it alone, as on its account page
    assert text.count(world.person_id_number) == 1
    assert f"证件号码（受限）{world.person_id_number}" in text
    public = own.client.get(f"/reports/public/{ref}")
    assert public.status_code == 200
    public_text = pdf_text(public.content, tmp_path)
    assert "李*" in public_text
    assert "李报告" not in public_text
    assert world.person_id_number not in public_text


def test_unknown_subjects_are_not_found(client):
    for ref in ("91330521MA0000000X", "unknown", "s1-0000000000000000"):
        response = client.get(f"/reports/public/{ref}")
        assert response.status_code == 404, ref
        assert "未找到该信用主体" in response.text


def test_account_page_issues_each_kind_and_audits_it(client, db_session, world, portal_sign_in, tmp_path):
    portal = portal_sign_in(world.accounts["company"], world.company.uscc)
    page = portal.client.get("/account/reports")
    assert page.status_code == 200
    assert "专项信用报告" in page.text
    assert 'name="csrf_token"' in page.text
    numbers = {}
    for kind in ("public", "own", "special"):
        response = portal.post("/account/reports", {"kind": kind, "domains": world.market.name if kind == "special" else ""})
        assert response.status_code == 200, (kind, response.text[:300])
        numbers[kind] = response.headers["x-report-number"]
    special = portal.post("/account/reports", {"kind": "special", "format": "json"})
    assert special.json()["report"]["kind"] == "special"
    rows = {r.number: r for r in db_session.scalars(select(IssuedReport).where(IssuedReport.number.in_(numbers.values())))}
    assert {rows[n].kind.value for n in numbers.values()} == {"public", "own", "special"}
    assert all(r.requested_by == f"subject-account:{world.accounts['company'].id}" for r in rows.values())
    audited = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "report.issued")).all()
    assert {a.target for a in audited} >= {f"report:{n}" for n in numbers.values()}


def test_account_form_refuses_bad_spans_domains_and_kinds_with_the_reason(client, world, portal_sign_in, today):
    portal = portal_sign_in(world.accounts["company"], world.company.uscc)
    cases = [
        ({"kind": "special", "from": (today - timedelta(days=365 * 6)).isoformat()}, "查询期最长 5 年"),
        ({"kind": "special", "from": today.isoformat(), "to": (today - timedelta(days=3)).isoformat()}, "晚于截止日期"),
        ({"kind": "special", "domains": "不存在的部门\n<script>alert(1)</script>"}, "未知的领域“不存在的部门”"),
        ({"kind": "special", "from": "2025-13-01"}, "不是有效日期"),
        ({"kind": "all"}, "不是可申请的报告类型"),
    ]
    for data, message in cases:
        response = portal.post("/account/reports", data)
        assert response.status_code == 422, (data, response.status_code)
        assert message in response.text, data
        assert 'id="form-error"' in response.text
    hostile = portal.post("/account/reports", {"kind": "special", "domains": "<script>alert(1)</script>"})
    assert hostile.status_code == 422
    assert "<script>alert(1)</script>" not in hostile.text
    assert "&lt;script&gt;" in hostile.text
    assert portal.client.post("/account/reports", data={"kind": "own"}).status_code == 403  # no CSRF token


def test_account_pages_need_a_sign_in(client):
    assert client.get("/account/reports").headers["location"] == "/account/login"


def test_verification_is_rate_limited(app, client, world):
    app.state.portal_limiter.limit = 2
    statuses = [client.get("/reports/verify/XY0000").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


def test_the_certificate_is_published(client, report_settings):
    from xinyong.reports import signing

    response = client.get("/reports/certificate.pem")
    assert response.status_code == 200
    assert response.content == signing.material(report_settings).cert_pem


def test_an_account_without_a_proven_identity_gets_no_restricted_report(client, db_session, world, report_settings,
                                                                        protector, portal_sign_in):  # fmt: skip
    from xinyong.accounts import service as accounts_service

    accounts_service.revoke_identity(db_session, world.accounts["person"].id, actor=_system(), reason="身份核验有误，撤销")
    db_session.commit()
    portal = portal_sign_in(world.accounts["empty"], world.empty.uscc)  # a claim that never proved the identity
    for kind in ("own", "special"):
        refused = portal.post("/account/reports", {"kind": kind})
        assert refused.status_code == 403, kind
        assert "尚未完成主体身份核验" in refused.text
    assert portal.post("/account/reports", {"kind": "public"}).status_code == 200  # what anyone may have
    person = portal_sign_in(world.accounts["person"], world.person_id_number)
    refused = person.client.get(f"/reports/public/{refs.subject_ref(world.person, protector)}")
    assert refused.status_code == 403
    assert "只能由本人" in refused.text


def _system():  # type: ignore[no-untyped-def]
    from xinyong.actors import Actor

    return Actor.system("test")
