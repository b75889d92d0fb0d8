"""Bad input, each case on its own: nothing is stored, and the answer says what is wrong."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.fixtures.subject_accounts import PDF
from tests.functional.repair.test_workflow import FORM, apply

from xinyong.evidence.models import Evidence
from xinyong.repair.models import RepairApplication
from xinyong.subjects.refs import record_ref

HOSTILE = '<script>alert("x")</script>{{7*7}}\u202e\x00\x1b[31m'


def count(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(RepairApplication)) or 0


def test_not_yet_eligible(db_session, penalty, subject_account, portal_sign_in, protector):
    record = penalty(days_ago=10)  # 一般: three months must pass first
    portal = portal_sign_in(subject_account(record))
    ref = record_ref(record.id, protector)
    assert "起可申请信用修复" in portal.client.get(f"/repair/apply/{ref}").text
    response = apply(portal, ref)
    assert response.status_code == 422
    assert "最短公示期" in response.text
    assert count(db_session) == 0


def test_not_repairable_by_configuration(db_session, penalty, subject_account, portal_sign_in, protector,
                                         console_settings, today):  # fmt: skip
    from xinyong.repair import service

    record = penalty()
    settings = console_settings.model_copy(update={"repair_not_repairable_tiers": ("一般",)})
    verdict = service.eligibility_of(db_session, record, settings=settings, today=today)
    assert verdict.code == "not-repairable"
    assert "不可提前修复" in verdict.message


def test_someone_elses_record(db_session, penalty, subject_account, portal_sign_in, protector):
    mine, theirs = penalty(), penalty()
    portal = portal_sign_in(subject_account(mine))
    ref = record_ref(theirs.id, protector)
    assert portal.client.get(f"/repair/apply/{ref}").status_code == 404
    assert apply(portal, ref).status_code == 404
    assert portal.client.get(f"/objections/file/{ref}").status_code == 404
    assert count(db_session) == 0


def test_twice_for_the_same_record(db_session, penalty, subject_account, portal_sign_in, protector):
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    ref = record_ref(record.id, protector)
    assert apply(portal, ref).status_code == 303
    second = apply(portal, ref)
    assert second.status_code == 409
    assert "请勿重复申请" in second.text
    assert count(db_session) == 1


@pytest.mark.parametrize(("name", "content", "message"), [
    ("big.pdf", b"%PDF-1.4\n" + b"0" * (70 * 1024), "超过"),
    ("virus.exe", b"MZ\x90\x00", "类型不受支持"),
    ("fake.pdf", b"\x7fELF\x02\x01", "内容与其类型不符"),
    ("empty.png", b"", "为空"),
    ("page.html", b"<html><script>alert(1)</script>", "类型不受支持"),
], ids=["oversized", "wrong-type", "disguised", "empty", "html"])  # fmt: skip
def test_bad_uploads(db_session, penalty, subject_account, portal_sign_in, protector, name, content, message):
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    response = apply(portal, record_ref(record.id, protector), files=[("evidence", (name, content, "application/pdf"))])
    assert response.status_code == 422
    assert message in response.text
    assert count(db_session) == 0


def test_no_files_or_too_many(db_session, penalty, subject_account, portal_sign_in, protector):
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    ref = record_ref(record.id, protector)
    assert "请上传证明材料" in apply(portal, ref, files=[]).text
    many = [("evidence", (f"{i}.pdf", PDF, "application/pdf")) for i in range(4)]
    assert "最多上传" in apply(portal, ref, files=many).text
    assert count(db_session) == 0


@pytest.mark.parametrize("name", ["../../../etc/passwd.pdf", "..\\..\\windows\\win.ini.pdf", "/abs/path.pdf",
                                  "con\x00trol.pdf", ".hidden.pdf"])  # fmt: skip
def test_path_tricks_in_names_never_reach_the_disk(db_session, penalty, subject_account, portal_sign_in, protector,
                                                   console_settings, name):  # fmt: skip
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    assert apply(portal, record_ref(record.id, protector), files=[("evidence", (name, PDF, "application/pdf"))]
                 ).status_code == 303  # fmt: skip
    row = db_session.scalars(select(Evidence)).one()
    assert "/" not in row.display_name
    assert "\\" not in row.display_name
    assert not row.display_name.startswith(".")
    stored = console_settings.upload_dir / "evidence" / row.stored_name
    assert stored.resolve().parent == (console_settings.upload_dir / "evidence").resolve()
    assert stored.read_bytes() == PDF


def test_body_too_large_is_refused_before_parsing(db_session, penalty, subject_account, portal_sign_in, protector):
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    files = [("evidence", ("a.pdf", b"%PDF-" + b"0" * (300 * 1024), "application/pdf"))]
    assert apply(portal, record_ref(record.id, protector), files=files).status_code == 413
    assert count(db_session) == 0


def test_missing_commitment_or_bad_contact(db_session, penalty, subject_account, portal_sign_in, protector):
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    ref = record_ref(record.id, protector)
    assert "承诺书" in apply(portal, ref, agree="").text
    assert "联系电话格式不正确" in apply(portal, ref, contact_phone="call me").text
    assert "电子邮箱格式不正确" in apply(portal, ref, contact_email="x@<script>").text
    assert "至少" in apply(portal, ref, statement="短").text
    assert count(db_session) == 0


def test_forms_need_their_csrf_token(db_session, penalty, subject_account, portal_sign_in, protector):
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    response = portal.client.post(f"/repair/apply/{record_ref(record.id, protector)}", data=FORM,
                                  files=[("evidence", ("a.pdf", PDF, "application/pdf"))])  # fmt: skip
    assert response.status_code == 403
    assert count(db_session) == 0


def test_hostile_text_in_every_field_is_stored_as_text_and_escaped(db_session, accounts, sign_in, penalty,
                                                                   subject_account, portal_sign_in, protector):  # fmt: skip
    record = penalty()
    account = subject_account(record)
    portal = portal_sign_in(account)
    response = apply(portal, record_ref(record.id, protector), contact_name=HOSTILE[:40], statement=HOSTILE * 2,
                     signer_name=HOSTILE[:40], files=[("evidence", (HOSTILE + ".pdf", PDF, "application/pdf"))])  # fmt: skip
    assert response.status_code == 303
    application = db_session.scalars(select(RepairApplication)).one()
    assert "\x00" not in application.statement
    assert "\x1b" not in application.statement
    assert "<script>" in application.statement  # kept as typed: escaping is the page's job
    for page in (portal.client.get(response.headers["location"]).text,
                 sign_in(accounts.users["reviewer"]).get(f"/admin/repairs/{application.id}").text):  # fmt: skip
        assert '<script>alert("x")</script>' not in page
        assert "&lt;script&gt;" in page
        assert "{{7*7}}" in page
        assert ">49<" not in page
    reviewer = sign_in(accounts.users["reviewer"])
    reviewer.post(f"/admin/repairs/{application.id}/return", {"missing": HOSTILE})
    page = portal_sign_in(account).client.get(f"/repair/applications/{application.number}").text
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;" in page
