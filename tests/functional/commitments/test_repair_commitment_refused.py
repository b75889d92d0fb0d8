"""When the pipeline refuses a repair commitment's record. The pipeline commits what the act wrote before it (the
application, or the restored publication), so its refusal comes after the act is done: the act stands, the signed
commitment stays in the repair file, and the refusal is audited, rather than a 422 for an act that was in fact done."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from tests.fixtures.subject_accounts import penalty  # noqa: F401  (fixture)
from tests.functional.repair.test_workflow import apply, submitted

from xinyong.audit.models import AuditEntry
from xinyong.changelog.models import Change
from xinyong.commitments.models import OnlineCommitment
from xinyong.commitments.rules import DEFAULT_FILE
from xinyong.records.models import Record
from xinyong.repair.models import RepairApplication, RepairCommitment, RepairStatus
from xinyong.subjects.refs import record_ref

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def console_settings(console_settings, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The fixtures' settings with a commitments configuration whose repair reason is longer than 承诺事由 allows
    (500 characters), as an operator's edit could make it: the pipeline refuses the commitment's record."""
    text = DEFAULT_FILE.read_text(encoding="utf-8").replace(
        'reason = "申请信用修复（申请编号 {number}）"', f'reason = "申请信用修复（申请编号 {{number}}）{"。" * 600}"')
    assert text != DEFAULT_FILE.read_text(encoding="utf-8")
    (tmp_path / "commitments.toml").write_text(text, encoding="utf-8")
    return console_settings.model_copy(update={"commitments_config": tmp_path / "commitments.toml"})


def test_an_application_stands_when_its_commitments_record_is_refused(  # type: ignore[no-untyped-def]
    db_session, penalty, subject_account, portal_sign_in, protector,  # noqa: F811
):
    record = penalty()
    portal = portal_sign_in(subject_account(record))
    response = apply(portal, record_ref(record.id, protector))
    assert response.status_code == 303, response.text
    application = submitted(db_session, record)
    assert application.status == RepairStatus.SUBMITTED
    assert db_session.scalars(select(RepairCommitment)).one().application_id == application.id
    assert db_session.scalars(select(OnlineCommitment)).all() == []
    refused = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "commitment.not-recorded")).one()
    assert refused.target == f"repair:{application.id}"
    assert "承诺事由" in (refused.reason or "")
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "repair.submitted")).one()
    page = portal.client.get(response.headers["location"])
    assert page.status_code == 200
    assert application.number in page.text


def test_a_restored_publication_stands_when_the_commitments_fulfilment_is_refused(  # type: ignore[no-untyped-def]
    client, db_session, accounts, sign_in, penalty, subject_account, portal_sign_in, protector, settings,  # noqa: F811
):
    record = penalty()
    ref = record_ref(record.id, protector)
    with pytest.MonkeyPatch.context() as patch:  # the commitment is kept with the default configuration
        patch.setattr(client.app.state.settings, "commitments_config", None)
        assert apply(portal_sign_in(subject_account(record)), ref).status_code == 303
    application = submitted(db_session, record)
    online = db_session.scalars(select(OnlineCommitment)).one()
    kept = db_session.get(Record, online.record_id)
    # The stored record no longer passes the pipeline's checks (a catalogue made stricter since, say): its
    # fulfilment, which 违诺 records, is refused. One of the refusals quotes its value, an ID number.
    kept.payload = {**kept.payload, "CN_CNR_MC": "某" * 201, "CN_YXQZ": ID_NUMBER}
    db_session.commit()
    sign_in(accounts.users["platform_admin"]).post(f"/admin/repairs/{application.id}/accept")
    sign_in(accounts.users["reviewer"]).post(f"/admin/repairs/{application.id}/approve", {"opinion": "同意修复"})
    assert client.get(f"/records/{ref}").status_code == 404
    admin = sign_in(accounts.users["platform_admin"])
    restored = admin.post(f"/admin/repairs/{application.id}/restore", {"reason": "再次发生同类违法行为"})
    assert restored.status_code == 303, restored.text
    assert "已认定违反承诺，恢复公示" in admin.get(restored.headers["location"]).text
    db_session.expire_all()
    assert db_session.get(RepairApplication, application.id).status == RepairStatus.RESTORED
    client.cookies.clear()
    assert client.get(f"/records/{ref}").status_code == 200  # published again
    assert db_session.get(Record, online.record_id).payload["CN_LXZT"] == "履行中"  # unchanged
    refused = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "commitment.not-recorded")).one()
    assert refused.target == f"repair:{application.id}"
    assert "不是有效日期" in (refused.reason or "")
    assert ID_NUMBER not in (refused.reason or "")  # masked in the audit log as everywhere
    assert "19491231" not in (refused.reason or "")  # the date of birth above all
    changes = db_session.scalars(select(Change.kind).where(Change.record_id == record.id)).all()
    assert "restored" in changes
