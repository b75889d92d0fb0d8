"""Departments ask for reports inside a credit check: through their system's key (`POST /api/v1/reports`) or the
console. The check is recorded as every check is, names the report, and the issue is audited."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests.factories import records as f
from tests.functional.reports.conftest import COMPANY, pdf_text

from xinyong.audit.models import AuditEntry
from xinyong.auth.rules import Role
from xinyong.checks.models import CreditCheck
from xinyong.departments import service as departments_service
from xinyong.reports.models import IssuedReport


def _key(db_session, world, scopes):  # type: ignore[no-untyped-def]
    _key_row, secret = departments_service.issue_api_key(db_session, department=world.market, name="审批系统",
                                                         scopes=scopes)  # fmt: skip
    db_session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_a_department_system_gets_a_report_inside_a_check(client, db_session, world):
    headers = _key(db_session, world, ["api:reports:write"])
    body = {"code": world.company.uscc, "matter": "政府采购", "kind": "special", "from": "", "to": "",
            "domains": [world.market.name]}  # fmt: skip
    response = client.post("/api/v1/reports", json=body, headers=headers)
    assert response.status_code == 200, response.text
    number, check_number = response.headers["x-report-number"], response.headers["x-check-number"]
    document = json.loads(response.content)
    assert document["report"]["number"] == number
    assert document["report"]["kind"] == "special"
    assert document["report"]["subject"]["name"] == COMPANY
    check = db_session.scalars(select(CreditCheck).where(CreditCheck.number == check_number)).one()
    assert (check.matter, check.subject_id, check.department_id) == ("政府采购", world.company.id, world.market.id)
    assert check.result["report"]["number"] == number
    row = db_session.scalars(select(IssuedReport).where(IssuedReport.number == number)).one()
    assert (row.check_number, row.department_id, row.domains) == (check_number, world.market.id, [world.market.name])
    assert row.requested_by.startswith("api-key:")
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.target == f"report:{number}")).one()
    assert entry.action == "report.issued"
    assert entry.details["check"] == check_number


def test_the_api_returns_the_signed_pdf_on_request(client, db_session, world, tmp_path):
    headers = _key(db_session, world, ["api:reports:write"])
    response = client.post("/api/v1/reports", json={"code": world.company.uscc, "matter": "招标投标", "format": "pdf"},
                           headers=headers)  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-report-number"] in pdf_text(response.content, tmp_path)


def test_the_api_refuses_what_it_must(client, db_session, world):
    good = {"code": world.company.uscc, "matter": "政府采购"}
    assert client.post("/api/v1/reports", json=good).status_code == 401
    wrong_scope = client.post("/api/v1/reports", json=good, headers=_key(db_session, world, ["api:checks:write"]))
    assert wrong_scope.status_code == 403
    headers = _key(db_session, world, ["api:reports:write"])
    cases = [
        ({**good, "code": world.person_id_number}, 403, "report-person-only"),
        ({**good, "code": "!!"}, 422, "report-code-malformed"),
        ({**good, "code": f.company_code(99998)}, 404, "not-found"),
        ({**good, "matter": "随便查查"}, 422, "invalid-input"),
        ({**good, "kind": "own"}, 422, "invalid-request"),  # the schema names the kinds a department may ask
        ({**good, "kind": "special", "from": "2019-01-01"}, 422, "report-span-invalid"),
        ({**good, "kind": "special", "domains": ["火星局"]}, 422, "report-domain-unknown"),
        ({**good, "format": "docx"}, 422, "invalid-request"),
    ]
    for body, status, code in cases:
        response = client.post("/api/v1/reports", json=body, headers=headers)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == code, body
    assert db_session.scalars(select(IssuedReport)).all() == []
    assert db_session.scalars(select(CreditCheck)).all() == []


def test_console_registry_and_a_report_in_a_check(client, db_session, world, staff_sign_in, tmp_path):
    operator = staff_sign_in(Role.OPERATOR, world.market)
    page = operator.client.get("/admin/reports")
    assert page.status_code == 200
    assert 'data-testid="report-form"' in page.text
    response = operator.post("/admin/reports", {"code": world.company.uscc, "matter": "行政审批", "kind": "public"})
    assert response.status_code == 200, response.text[:500]
    number = response.headers["x-report-number"]
    assert COMPANY in pdf_text(response.content, tmp_path)
    listed = operator.client.get("/admin/reports")
    assert number in listed.text
    assert response.headers["x-check-number"] in listed.text
    refused = operator.post("/admin/reports", {"code": world.person_id_number, "matter": "行政审批"})
    assert refused.status_code == 403
    assert "自然人的信用报告只能由本人" in refused.text
    assert 'id="form-error"' in refused.text
    bad = operator.post("/admin/reports", {"code": world.company.uscc, "matter": "行政审批", "kind": "special",
                                           "domains": "<b>火星局</b>"})  # fmt: skip
    assert bad.status_code == 422
    assert "&lt;b&gt;火星局&lt;/b&gt;" in bad.text
    other = staff_sign_in(Role.OPERATOR, world.tax)
    assert number not in other.client.get("/admin/reports").text  # another department's reports
    auditor = staff_sign_in(Role.AUDITOR, None)
    assert number in auditor.client.get("/admin/reports").text
    assert auditor.post("/admin/reports", {"code": world.company.uscc, "matter": "行政审批"}).status_code == 403
