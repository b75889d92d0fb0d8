"""Idempotency: the business key is department + record type + 决定文书号. Re-imports add nothing, a changed
row updates its record and keeps the earlier version, a revoked record stays in history."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.factories.records import OTHER_DEPT_CODE, department, license_row, penalty_row
from tests.functional.records.helpers import errors, record_count

from xinyong.errors import InvalidInput, InvalidTransition, NotFound
from xinyong.records import service
from xinyong.records.models import Record, RecordStatus, RecordVersion


def _record(session, doc_no: str) -> Record:  # type: ignore[no-untyped-def]
    session.expire_all()
    record = session.scalar(select(Record).where(Record.doc_no == doc_no))
    assert record is not None
    return record


def _versions(session, record: Record) -> list[RecordVersion]:  # type: ignore[no-untyped-def]
    return list(
        session.scalars(
            select(RecordVersion).where(RecordVersion.record_id == record.id).order_by(RecordVersion.version)
        )
    )


def test_importing_the_same_file_twice_changes_nothing(db_session, import_csv, tmp_path, dept):
    from tests.factories.records import write_rows

    path = write_rows(tmp_path / "same.csv", [penalty_row() for _ in range(5)], encoding="gbk")
    first = import_csv([], path=path)
    before = {r.doc_no: (r.id, r.version, r.content_hash) for r in db_session.scalars(select(Record))}

    second = import_csv([], path=path)

    assert first.counts() == {"rows": 5, "created": 5, "updated": 0, "unchanged": 0, "rejected": 0, "late": 0}
    assert second.counts() == {
        "rows": 5,
        "created": 0,
        "updated": 0,
        "unchanged": 5,
        "rejected": 0,
        "late": 0,
    }
    db_session.expire_all()
    after = {r.doc_no: (r.id, r.version, r.content_hash) for r in db_session.scalars(select(Record))}
    assert after == before
    assert db_session.scalars(select(RecordVersion)).all() == []


def test_the_same_rows_in_another_encoding_format_or_channel_are_unchanged(
    db_session, import_csv, import_json
):
    rows = [penalty_row(), penalty_row(CF_XDR_LB="个体工商户", CF_XDR_SHXYM=_individual())]
    import_csv(rows, encoding="gbk")

    assert import_csv(rows, xlsx=True).unchanged == 2
    assert import_csv(rows, encoding="utf-8-sig").unchanged == 2
    assert import_json(rows).unchanged == 2


def _individual() -> str:
    from tests.factories.records import individual_code

    return individual_code(77)


def test_a_changed_row_updates_the_record_and_keeps_the_old_version(db_session, import_csv):
    rows = [penalty_row(), penalty_row(), penalty_row()]
    first = import_csv(rows)
    original = _record(db_session, rows[1]["CF_WSH"])
    old_payload, old_hash, record_id = dict(original.payload), original.content_hash, original.id

    rows[1] = {**rows[1], "CF_NR_FK": "0.5", "CF_NR": "警告，罚款人民币伍仟元整"}
    second = import_csv(rows)

    assert second.counts() == {
        "rows": 3,
        "created": 0,
        "updated": 1,
        "unchanged": 2,
        "rejected": 0,
        "late": 0,
    }
    record = _record(db_session, rows[1]["CF_WSH"])
    assert (record.id, record.version, record.batch_id) == (record_id, 2, second.batch_id)
    assert record.payload["CF_NR_FK"] == "0.5"
    assert record.content_hash != old_hash
    [kept] = _versions(db_session, record)
    assert (kept.version, kept.status, kept.superseded_by, kept.batch_id) == (
        1,
        RecordStatus.ACTIVE,
        "update",
        first.batch_id,
    )
    assert kept.payload == old_payload
    assert kept.payload["CF_NR_FK"] == "0.2"
    assert kept.content_hash == old_hash

    third = import_csv(rows)
    assert (third.updated, third.unchanged) == (0, 3)
    assert len(_versions(db_session, record)) == 1


def test_two_updates_keep_both_earlier_versions(db_session, import_json):
    row = penalty_row()
    import_json([row])
    import_json([{**row, "CF_SY": "第一次更正"}])
    import_json([{**row, "CF_SY": "第二次更正"}])

    record = _record(db_session, row["CF_WSH"])
    assert record.version == 3
    assert [(v.version, v.payload["CF_SY"]) for v in _versions(db_session, record)] == [
        (1, row["CF_SY"]),
        (2, "第一次更正"),
    ]


def test_revoke_keeps_history_and_a_revoked_record_cannot_come_back(db_session, import_csv, dept):
    rows = [penalty_row(), penalty_row()]
    import_csv(rows)
    doc_no = rows[0]["CF_WSH"]

    revoked = service.revoke_record(
        db_session,
        department=dept,
        record_type="penalty",
        doc_no=doc_no,
        reason="决定已被复议撤销",
        actor="test",
    )
    db_session.commit()

    record = _record(db_session, doc_no)
    assert (revoked.id, record.status, record.version) == (record.id, RecordStatus.REVOKED, 2)
    assert record.revoked_at is not None
    assert "决定已被复议撤销" in (record.revoke_reason or "")
    [kept] = _versions(db_session, record)
    assert (kept.version, kept.status, kept.superseded_by) == (1, RecordStatus.ACTIVE, "revoke")
    assert kept.payload == record.payload

    again = import_csv(rows)
    assert errors(db_session, again.batch_id) == [(2, "CF_WSH", "record-revoked")]
    assert again.counts() == {"rows": 2, "created": 0, "updated": 0, "unchanged": 1, "rejected": 1, "late": 0}
    changed = import_csv([{**rows[0], "CF_SY": "改过的事实"}])
    assert errors(db_session, changed.batch_id) == [(2, "CF_WSH", "record-revoked")]
    record = _record(db_session, doc_no)
    assert (record.status, record.version) == (RecordStatus.REVOKED, 2)

    with pytest.raises(InvalidTransition):
        service.revoke_record(
            db_session, department=dept, record_type="penalty", doc_no=doc_no, reason="再次撤销", actor="test"
        )
    assert len(_versions(db_session, record)) == 1


def test_revoke_needs_a_reason_and_an_own_record(db_session, import_csv, dept):
    row = penalty_row()
    import_csv([row])
    other = department(db_session, code=OTHER_DEPT_CODE, name="安吉县交通运输局")

    for too_short in ("  ", "撤销"):  # the same rule for the console, the API and the CLI
        with pytest.raises(InvalidInput):
            service.revoke_record(
                db_session, department=dept, record_type="penalty", doc_no=row["CF_WSH"], reason=too_short, actor="t"
            )
    with pytest.raises(NotFound):
        service.revoke_record(
            db_session,
            department=other,
            record_type="penalty",
            doc_no=row["CF_WSH"],
            reason="越权撤销他部门记录",
            actor="t",
        )
    with pytest.raises(NotFound):
        service.revoke_record(
            db_session,
            department=dept,
            record_type="license",
            doc_no=row["CF_WSH"],
            reason="类别不对",
            actor="t",
        )
    assert _record(db_session, row["CF_WSH"]).status == RecordStatus.ACTIVE


def test_the_business_key_includes_department_and_type(db_session, import_csv, dept):
    from tests.factories.records import DEPT_CODE

    other = department(db_session, code=OTHER_DEPT_CODE, name="安吉县交通运输局")
    doc_no = "安吉〔2025〕共用1号"
    import_csv([penalty_row(CF_WSH=doc_no)])
    licence = import_csv([license_row(XK_WSH=doc_no)], record_type="license")
    foreign = import_csv(
        [penalty_row(CF_WSH=doc_no, CF_SJLYDM=OTHER_DEPT_CODE, CF_CFJGDM=OTHER_DEPT_CODE)], department=other
    )

    assert (licence.created, foreign.created) == (1, 1)
    assert record_count(db_session) == 3
    assert DEPT_CODE != OTHER_DEPT_CODE
