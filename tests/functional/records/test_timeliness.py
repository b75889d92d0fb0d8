"""Timeliness: a decision must reach the platform by the 7th working day after it (holidays and 调休
counted); late records are accepted and flagged; a reporting date before the decision is an error."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from tests.factories.records import TODAY, penalty_row
from tests.functional.records.helpers import errors, problems, warnings

from xinyong.records import service
from xinyong.records.models import Record


def _record(session, doc_no: str) -> Record:  # type: ignore[no-untyped-def]
    record = session.scalar(select(Record).where(Record.doc_no == doc_no))
    assert record is not None
    return record


def test_reported_on_the_deadline_is_on_time(db_session, import_csv):
    row = penalty_row(CF_JDRQ="2025-09-29")

    result = import_csv([row], reported_on=date(2025, 10, 15), today=TODAY)

    assert (result.created, result.late) == (1, 0)
    assert problems(db_session, result.batch_id) == []
    record = _record(db_session, row["CF_WSH"])
    assert (record.deadline, record.reported_on, record.is_late) == (
        date(2025, 10, 15),
        date(2025, 10, 15),
        False,
    )


def test_reported_the_day_after_is_late_flagged_and_accepted(db_session, import_csv):
    row = penalty_row(CF_JDRQ="2025-09-29")

    result = import_csv([row, penalty_row(CF_JDRQ="2025-10-14")], reported_on=date(2025, 10, 16), today=TODAY)

    assert result.counts() == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "late": 1,
    }
    assert warnings(db_session, result.batch_id) == [(2, "CF_JDRQ", "late-report")]
    assert errors(db_session, result.batch_id) == []
    record = _record(db_session, row["CF_WSH"])
    assert (record.is_late, record.deadline, record.reported_on) == (
        True,
        date(2025, 10, 15),
        date(2025, 10, 16),
    )
    message = next(service.iter_problems(db_session, result.batch_id)).message
    assert "2025-10-15" in message
    assert "逾期 1 个工作日" in message


def test_without_reported_on_the_import_day_counts(db_session, import_csv):
    on_time = import_csv([penalty_row()], today=date(2025, 10, 15))
    late = import_csv([penalty_row()], today=date(2025, 10, 16))

    assert (on_time.late, late.late) == (0, 1)
    assert late.created == 1


def test_reported_on_before_the_decision_date_is_rejected_per_row(db_session, import_csv):
    early = penalty_row(CF_JDRQ="2025-10-10")
    rows = [penalty_row(CF_JDRQ="2025-09-29"), early, penalty_row(CF_JDRQ="2025-10-09")]

    result = import_csv(rows, reported_on=date(2025, 10, 9), today=TODAY)

    assert errors(db_session, result.batch_id) == [(3, "CF_JDRQ", "reported-before-decision")]
    assert (result.created, result.rejected, result.late) == (2, 1, 0)
    assert db_session.scalar(select(Record).where(Record.doc_no == early["CF_WSH"])) is None


def test_reported_on_in_the_future_rejects_the_file(db_session, import_csv):
    result = import_csv([penalty_row()], reported_on=date(2025, 10, 21), today=TODAY)

    assert result.failure is not None
    assert result.failure["code"] == "future-reported-on"
    assert result.created == 0


def test_json_batches_follow_the_same_deadline(db_session, import_json):
    result = import_json([penalty_row(CF_JDRQ="2025-09-29")], reported_on=date(2025, 10, 16), today=TODAY)

    assert (result.created, result.late) == (1, 1)
    assert warnings(db_session, result.batch_id) == [(1, "CF_JDRQ", "late-report")]
