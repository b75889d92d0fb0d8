"""The repair workflow's 信用修复承诺 becomes a 信用修复型 commitment of the deciding department (特定范围内公开), and
its breach (违诺, declared by the 信用办) marks that commitment 全部未履行, which credit checks then show."""

from __future__ import annotations

from sqlalchemy import select
from tests.fixtures.subject_accounts import penalty  # noqa: F401  (fixture)
from tests.functional.repair.test_workflow import apply, submitted

from xinyong.actors import Actor
from xinyong.checks import service as checks_service
from xinyong.commitments.models import OnlineCommitment
from xinyong.records.models import Record
from xinyong.repair.models import RepairCommitment
from xinyong.subjects.models import Subject
from xinyong.subjects.refs import record_ref


def test_a_repair_commitment_is_kept_and_broken_with_the_repair(  # type: ignore[no-untyped-def]
    client, db_session, accounts, sign_in, penalty, subject_account, portal_sign_in, protector,  # noqa: F811
    console_settings, today,
):
    record = penalty()
    response = apply(portal_sign_in(subject_account(record)), record_ref(record.id, protector))
    assert response.status_code == 303, response.text
    application = submitted(db_session, record)
    signed = db_session.scalars(select(RepairCommitment)).one()
    online = db_session.scalars(select(OnlineCommitment)).one()
    assert online.template_key == f"repair:{application.id}"
    assert online.content_hash == signed.text_sha256
    kept = db_session.get(Record, online.record_id)
    assert kept.department_id == record.department_id
    assert kept.payload["CN_CNLX"] == "信用修复型"
    assert kept.payload["CN_GKLX"] == "特定范围内公开"
    assert application.number in kept.payload["CN_CNSY"]

    sign_in(accounts.users["platform_admin"]).post(f"/admin/repairs/{application.id}/accept")
    sign_in(accounts.users["reviewer"]).post(f"/admin/repairs/{application.id}/approve", {"opinion": "同意修复"})
    admin = sign_in(accounts.users["platform_admin"])
    restored = admin.post(f"/admin/repairs/{application.id}/restore", {"reason": "再次发生同类违法行为"})
    assert restored.status_code == 303, restored.text
    db_session.expire_all()
    kept = db_session.get(Record, online.record_id)
    assert kept.payload["CN_LXZT"] == "全部未履行"
    assert kept.payload["CN_WLXNR"] == "再次发生同类违法行为"
    subject = db_session.get(Subject, record.subject_id)
    document = checks_service.run_check(
        db_session, checks_service.CheckItem(code=subject.uscc), matter="告知承诺适用", actor=Actor.system("test"),
        settings=console_settings, protector=protector, today=today,
    )  # fmt: skip
    found = document["extras"]["commitments"]
    assert [b["code"] for b in found["broken"]] == [online.code]
    assert found["notice_commitment"]["allowed"] is False
