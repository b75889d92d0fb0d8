"""A flood of problems is counted, not stored one by one: per code and column, and per batch."""

from __future__ import annotations

import csv
import io

import pytest
from tests.factories.records import penalty_row, write_rows
from tests.functional.records.helpers import batch, problems, record_count

from xinyong.records import report
from xinyong.records import service as records_service


def _caps(settings, per_column: int, per_batch: int = 10_000, **more):  # type: ignore[no-untyped-def]
    return settings.model_copy(
        update={"problems_max_per_column": per_column, "problems_max_per_batch": per_batch, **more}
    )


def _unknown_columns(count: int) -> dict[str, str]:
    return {f"备用列{n:05d}": "" for n in range(count)}


def test_the_defaults_are_a_thousand_per_column_and_ten_thousand_per_batch(settings):
    assert (settings.problems_max_per_column, settings.problems_max_per_batch) == (1_000, 10_000)


def test_unknown_columns_past_the_cap_are_one_summary_line(db_session, import_csv, settings, tmp_path, dept):
    rows = [penalty_row(**_unknown_columns(2_500)) for _ in range(3)]

    result = import_csv(rows, settings_=_caps(settings, per_column=1_000))

    stored = batch(db_session, result.batch_id)
    assert (result.status, result.created) == ("completed", 3)
    found = problems(db_session, result.batch_id)
    assert len(found) == 1_000
    assert {(row, code) for row, _, code in found} == {(1, "unknown-column")}
    assert found[0][1] == "备用列00000"  # the first ones, in the file's order
    assert stored.omitted_problems == [{"severity": "warning", "code": "unknown-column", "column": None, "count": 1_500}]
    assert stored.warnings == 2_500  # the count of problems is unaffected
    assert report.omitted(stored) == [{
        "severity": "warning", "code": "unknown-column", "column": None, "count": 1_500,
        "message": "另有 1,500 条同类问题未逐条列出",
    }]  # fmt: skip


def test_row_problems_are_capped_per_code_and_column(db_session, import_csv, settings, dept):
    rows = [penalty_row(CF_WSH="") for _ in range(12)]  # `required` in CF_WSH on every row
    rows += [penalty_row(CF_JDRQ="2025-13-01") for _ in range(4)]  # `invalid-date` in CF_JDRQ
    rows += [penalty_row(CF_NR_FK="0.2", CF_CFLB="警告;罚款", CF_XDR_SHXYM="123") for _ in range(6)]

    result = import_csv(rows, settings_=_caps(settings, per_column=5, import_chunk_rows=4))

    stored = batch(db_session, result.batch_id)
    assert (result.rows, result.rejected, result.created) == (22, 22, 0)  # every row still counts
    found = problems(db_session, result.batch_id)
    assert [row for row, column, _ in found if column == "CF_WSH"] == [2, 3, 4, 5, 6]
    assert [row for row, column, _ in found if column == "CF_JDRQ"] == [14, 15, 16, 17]
    assert len([1 for _, column, _ in found if column == "CF_XDR_SHXYM"]) == 5
    assert stored.omitted_problems == [
        {"severity": "error", "code": "required", "column": "CF_WSH", "count": 7},
        {"severity": "error", "code": "uscc-length", "column": "CF_XDR_SHXYM", "count": 1},
    ]


def test_the_batch_cap_counts_whatever_comes_after_it(db_session, import_csv, settings):
    rows = [penalty_row(CF_WSH="", CF_JDRQ="2025-13-01") for _ in range(10)]  # two problems a row

    result = import_csv(rows, settings_=_caps(settings, per_column=100, per_batch=7))

    stored = batch(db_session, result.batch_id)
    found = problems(db_session, result.batch_id)
    assert len(found) == 7
    assert [row for row, _, _ in found] == [2, 2, 3, 3, 4, 4, 5]
    assert stored.omitted_problems == [
        {"severity": "error", "code": "invalid-date", "column": "CF_JDRQ", "count": 6},
        {"severity": "error", "code": "required", "column": "CF_WSH", "count": 7},
    ]
    assert sum(line["count"] for line in stored.omitted_problems) + len(found) == 20


def test_a_note_on_the_whole_file_is_stored_past_the_cap(db_session, import_csv, settings, tmp_path):
    path = write_rows(tmp_path / "rows.csv", [penalty_row(**_unknown_columns(5)) for _ in range(30)])
    path.write_bytes(path.read_bytes() + b"\xff\xfe,x\r\n")

    result = import_csv([], path=path, settings_=_caps(settings, per_column=2, per_batch=2, import_chunk_rows=7))

    stored = batch(db_session, result.batch_id)
    assert stored.status.value == "incomplete"
    assert problems(db_session, result.batch_id) == [
        (1, "备用列00000", "unknown-column"), (1, "备用列00001", "unknown-column"), (32, None, "encoding-error"),
    ]  # fmt: skip
    # The counts were kept chunk by chunk, so a batch that ends midway still has them.
    assert stored.omitted_problems == [{"severity": "warning", "code": "unknown-column", "column": None, "count": 3}]


def test_the_worker_path_keeps_the_same_counts(db_session, import_csv, settings, dept):
    rows = [penalty_row(CF_WSH="", **_unknown_columns(4)) for _ in range(25)]
    in_process = import_csv(rows, settings_=_caps(settings, per_column=3, import_chunk_rows=6))
    rows = [penalty_row(CF_WSH="", **_unknown_columns(4)) for _ in range(25)]
    worker = import_csv(rows, settings_=_caps(settings, per_column=3, import_chunk_rows=6, parallel_min_bytes=0))

    expected = [
        {"severity": "error", "code": "required", "column": "CF_WSH", "count": 22},
        {"severity": "warning", "code": "unknown-column", "column": None, "count": 1},
    ]
    assert batch(db_session, in_process.batch_id).omitted_problems == expected
    assert batch(db_session, worker.batch_id).omitted_problems == expected
    assert problems(db_session, worker.batch_id) == problems(db_session, in_process.batch_id)
    assert record_count(db_session, dept) == 0


def test_the_problems_csv_ends_with_the_counted_lines(db_session, import_csv, settings):
    result = import_csv([penalty_row(CF_WSH="") for _ in range(4)], settings_=_caps(settings, per_column=1))

    buffer = io.StringIO()
    report.write_problems_csv(db_session, result.batch_id, buffer)

    lines = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert lines[0] == report.CSV_HEADER
    assert lines[1][:5] == ["2", "CF_WSH", "行政处罚决定书文号", "错误", "required"]
    assert lines[2:] == [["", "CF_WSH", "行政处罚决定书文号", "错误", "required", "", "另有 3 条同类问题未逐条列出"]]


def test_a_json_batch_is_capped_like_a_file(db_session, import_json, settings):
    result = import_json([penalty_row(CF_XDR_LB="外星人") for _ in range(6)], settings_=_caps(settings, per_column=2))

    document = report.batch_document(db_session, batch(db_session, result.batch_id))

    assert [(e["row"], e["code"]) for e in document["errors"]] == [(1, "invalid-value"), (2, "invalid-value")]
    assert document["omitted"] == [{"severity": "error", "code": "invalid-value", "column": "CF_XDR_LB", "count": 4,
                                    "message": "另有 4 条同类问题未逐条列出"}]  # fmt: skip


@pytest.mark.parametrize(("asked", "shown"), [(1, 1), (2, 2), (3, 3), (4, 3), (0, 1), (-5, 1)])
def test_report_pages_hold_the_stored_problems_in_order(db_session, import_csv, settings, asked, shown):
    result = import_csv([penalty_row(CF_WSH="") for _ in range(25)])

    page = report.problem_page(db_session, batch(db_session, result.batch_id), asked, size=10)

    assert (page.page, page.pages, page.stored) == (shown, 3, 25)
    assert [p.row for p in page.items] == list(range(2 + 10 * (shown - 1), min(27, 12 + 10 * (shown - 1))))


def test_problems_quoting_a_nul_are_stored_without_it(db_session, import_json, import_csv, tmp_path):
    # PostgreSQL cannot store a NUL in text: a header or a refused cell that holds one used to fail the import.
    result = import_json([{**penalty_row(CF_XDR_LB="外\x00星人"), "备\x00注": "x"}])

    assert (result.status, result.rejected) == ("completed", 1)
    document = report.batch_document(db_session, batch(db_session, result.batch_id))
    assert [(w["column"], w["value"]) for w in document["warnings"]] == [("备注", "备注")]
    assert [(e["column"], e["value"]) for e in document["errors"]] == [("CF_XDR_LB", "外星人")]

    # In a file, past the first megabyte (a NUL there means a binary file, refused as a whole).
    header, row = write_rows(tmp_path / "rows.csv", [penalty_row(CF_XDR_LB="外星人")]).read_bytes().split(b"\r\n")[:2]
    path = tmp_path / "late-nul.csv"
    path.write_bytes(header + b"\r\n" * 600_000 + row.replace("外星人".encode(), "外\x00星人".encode()) + b"\r\n")
    from_file = import_csv([], path=path)
    assert (from_file.status, from_file.rejected) == ("completed", 1)
    assert [(e.row, e.value) for e in records_service.iter_problems(db_session, from_file.batch_id)] == [
        (600_001, "外星人")
    ]
