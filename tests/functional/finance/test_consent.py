"""Consent at the centre: no consent, no data; exactly the consented scope; every read recorded; revocation
at once; and the bad inputs of issue 16 (someone else's subject, expired, revoked, widened scope, no key)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.factories.commitments import commitment_row

from xinyong.audit.models import AuditEntry
from xinyong.finance.models import Consent, ConsentAccess
from xinyong.records import service as records_service
from xinyong.subjects.models import Subject

HOSTILE = "<script>alert(1)</script>'; DROP TABLE subjects;--"


def _uscc(db_session, record) -> str:  # type: ignore[no-untyped-def]
    subject = db_session.get(Subject, record.subject_id)
    return subject.uscc


def _consent(portal, bank, scope, until) -> object:  # type: ignore[no-untyped-def]
    return portal.post("/account/finance/consents", {"institution": str(bank.institution.id), "scope": scope,
                                                     "valid_until": until.isoformat()})  # fmt: skip


def test_the_bank_reads_exactly_the_consented_scope_until_revoked(client, db_session, banks, company, subject_account,
                                                                  portal_sign_in, today):  # fmt: skip
    bank, other_bank = banks
    licence = company(1, penalty=True)
    code = _uscc(db_session, licence)
    portal = portal_sign_in(subject_account(licence))

    # No consent, no data.
    refused = client.get(f"/api/v1/finance/subjects/{code}", headers=bank.headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "consent-required"
    assert "未授权本机构" in refused.json()["error"]["message"]

    response = _consent(portal, bank, ["basics", "licences"], today + timedelta(days=30))
    assert response.status_code == 303, response.text
    page = portal.client.get("/account/finance")
    assert "已授权" in page.text
    assert bank.institution.name in page.text

    package = client.get(f"/api/v1/finance/subjects/{code}", headers=bank.headers)
    assert package.status_code == 200, package.text
    body = package.json()
    assert set(body["data"]) == {"basics", "licences"}  # not a field more: no penalties, lists, grade
    assert body["data"]["basics"]["code"] == code
    assert [r["doc_no"] for r in body["data"]["licences"]] == [licence.doc_no]
    assert "penalties" not in package.text
    assert "行政处罚" not in package.text

    # A subset is fine; anything beyond the consent is refused (a forged, widened request).
    assert set(client.get(f"/api/v1/finance/subjects/{code}?scope=licences", headers=bank.headers).json()["data"]) == {
        "licences"}
    widened = client.get(f"/api/v1/finance/subjects/{code}?scope=licences,penalties", headers=bank.headers)
    assert widened.status_code == 403
    assert "超出授权范围" in widened.json()["error"]["message"]

    # Another institution holds no consent from this subject.
    assert client.get(f"/api/v1/finance/subjects/{code}", headers=other_bank.headers).status_code == 403

    # Every read is recorded against its consent, and the subject sees it.
    consent = db_session.scalars(select(Consent)).one()
    accesses = db_session.scalars(select(ConsentAccess).where(ConsentAccess.consent_id == consent.id)).all()
    assert len(accesses) == 2
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "finance.consent-read")).all()
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "finance.consent-read-refused")).all()
    page = portal.client.get("/account/finance")
    assert page.text.count("登记信息、行政许可等守信信息") == 2  # the consent, and its full read
    assert page.text.count("data-scope=\"licences\"") == 2  # the form's box, and the read of the licences only

    # Revoked: the very next read is refused.
    assert portal.post(f"/account/finance/consents/{consent.id}/revoke").status_code == 303
    after = client.get(f"/api/v1/finance/subjects/{code}", headers=bank.headers)
    assert after.status_code == 403
    assert "已撤回" in after.json()["error"]["message"]
    assert "已撤回" in portal.client.get("/account/finance").text


def test_expired_consent_and_unknown_subjects_are_refused(client, db_session, banks, company, subject_account,
                                                          portal_sign_in, today):  # fmt: skip
    bank, _ = banks
    licence = company(2)
    code = _uscc(db_session, licence)
    portal = portal_sign_in(subject_account(licence))
    _consent(portal, bank, ["basics"], today + timedelta(days=10))
    consent = db_session.scalars(select(Consent)).one()
    consent.valid_until = today - timedelta(days=1)
    db_session.commit()
    expired = client.get(f"/api/v1/finance/subjects/{code}", headers=bank.headers)
    assert expired.status_code == 403
    assert "已过期" in expired.json()["error"]["message"]
    assert "已过期" in portal.client.get("/account/finance").text
    unknown = client.get("/api/v1/finance/subjects/91330521MA00000000", headers=bank.headers)
    assert unknown.status_code == 404
    assert client.get(f"/api/v1/finance/subjects/{code}").status_code == 401
    bad = client.get(f"/api/v1/finance/subjects/{code}", headers={"Authorization": "Bearer fi_nothing_wrong"})
    assert bad.status_code == 401
    assert "无效" in bad.json()["error"]["message"]
    department_key = client.get(f"/api/v1/finance/subjects/{code}", headers={"Authorization": "Bearer xy_a_b"})
    assert department_key.status_code == 401


def test_bad_consents_are_refused_with_their_reason(client, db_session, banks, company, subject_account,
                                                    portal_sign_in, today):  # fmt: skip
    bank, _ = banks
    mine, theirs = company(3), company(4)
    other_portal = portal_sign_in(subject_account(theirs))
    _consent(other_portal, bank, ["basics"], today + timedelta(days=10))
    their_consent = db_session.scalars(select(Consent)).one()
    portal = portal_sign_in(subject_account(mine))

    cases = [
        ({"scope": ["basics", "everything"]}, "未知项目"),
        ({"scope": []}, "至少选择一项"),
        ({"valid_until": (today - timedelta(days=1)).isoformat()}, "不能早于今天"),
        ({"valid_until": (today + timedelta(days=4000)).isoformat()}, "授权期限最长"),
        ({"valid_until": "2026-13-45"}, "不是有效日期"),
        ({"institution": "999999"}, "未找到该金融机构"),
        ({"institution": HOSTILE}, "请选择金融机构"),
    ]
    for change, message in cases:
        data = {"institution": str(bank.institution.id), "scope": ["basics"],
                "valid_until": (today + timedelta(days=5)).isoformat(), **change}  # fmt: skip
        response = portal.post("/account/finance/consents", data)
        assert response.status_code == 303, change
        page = portal.client.get("/account/finance")
        assert message in page.text, (change, message)
    assert db_session.scalars(select(Consent)).all() == [their_consent]

    # Consent for someone else's subject: the form cannot name one; a forged field changes nothing.
    portal.post("/account/finance/consents", {"institution": str(bank.institution.id), "scope": ["basics"],
                                              "valid_until": (today + timedelta(days=5)).isoformat(),
                                              "subject_id": str(theirs.subject_id)})  # fmt: skip
    made = db_session.scalars(select(Consent).where(Consent.id != their_consent.id)).one()
    assert made.subject_id == mine.subject_id
    # Nor can it revoke another subject's consent.
    portal.post(f"/account/finance/consents/{their_consent.id}/revoke")
    assert "未找到该授权" in portal.client.get("/account/finance").text
    db_session.refresh(their_consent)
    assert their_consent.revoked_at is None
    # Hostile text is shown as text.
    assert "<script>alert(1)</script>" not in portal.client.get("/account/finance").text


def test_an_unproven_claim_or_the_anonymous_cannot_consent(client, db_session, banks, company, portal_sign_in,
                                                           subject_account, today):  # fmt: skip
    anonymous = client.get("/account/finance")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/account/login")
    portal = portal_sign_in(subject_account(company(7)))
    portal.account.identity_verified_at = None  # the claim is not proven (yet)
    db_session.commit()
    page = portal.client.get("/account/finance")
    assert page.status_code == 303
    assert page.headers["location"] == "/account"
    response = _consent(portal, banks[0], ["basics"], today + timedelta(days=5))
    assert response.status_code == 303
    assert "尚未完成主体身份核验" in portal.client.get("/account").text
    assert db_session.scalars(select(Consent)).all() == []


def test_catalogue_types_marked_shareable_travel_under_consent(client, db_session, banks, company, subject_account,
                                                                portal_sign_in, today, accounts, console_settings,
                                                                protector):  # fmt: skip
    """A commitment (信用承诺) is on the sharing list as a catalogue item; consented, it is in the package."""
    bank, _ = banks
    licence = company(2)
    code = _uscc(db_session, licence)
    row = commitment_row(today - timedelta(days=10), 承诺人名称=licence.subject_name, 统一社会信用代码=code,
                         承诺受理单位统一社会信用代码=accounts.dept_a.code, 数据来源单位统一社会信用代码=accounts.dept_a.code)  # fmt: skip
    result = records_service.import_rows(db_session, [row], settings=console_settings, protector=protector,
                                         record_type="commitment", department=accounts.dept_a, actor="test", today=today)  # fmt: skip
    assert (result.created, result.rejected) == (1, 0), list(records_service.iter_problems(db_session, result.batch_id))
    db_session.commit()
    portal = portal_sign_in(subject_account(licence))
    offered = portal.client.get("/account/finance")
    assert "records:commitment" in offered.text
    assert "信用承诺" in offered.text
    assert _consent(portal, bank, ["records:commitment"], today + timedelta(days=30)).status_code == 303
    package = client.get(f"/api/v1/finance/subjects/{code}", headers=bank.headers)
    assert package.status_code == 200, package.text
    shared = package.json()["data"]
    assert set(shared) == {"records:commitment"}
    assert [r["doc_no"] for r in shared["records:commitment"]] == [row["承诺编码"]]
    assert client.get(f"/api/v1/finance/subjects/{code}?scope=licences", headers=bank.headers).status_code == 403
