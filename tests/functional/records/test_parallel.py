"""Large files are read and validated in a worker process: the same problems, the same outcome."""

from __future__ import annotations

import pytest
from tests.factories import records as factories
from tests.functional.records.helpers import errors, record_count

from xinyong.config import Settings
from xinyong.records import service

BAD_ROWS = [
    {"CF_XDR_SHXYM": "91330521MA28XXXXX1"},
    {"CF_NR_FK": "2000元"},
    {"CF_JDRQ": "2099-01-01"},
]


def _rows() -> list[dict[str, str]]:
    rows = [factories.penalty_row() for _ in range(30)]
    for index, override in zip((3, 10, 25), BAD_ROWS, strict=True):
        rows[index] = factories.penalty_row(**override)
    return rows


@pytest.fixture
def parallel(settings: Settings) -> Settings:
    return settings.model_copy(update={"parallel_min_bytes": 0, "import_chunk_rows": 7})


def test_worker_process_reports_the_same_problems_as_in_process(import_csv, db_session, settings, parallel):
    rows = _rows()
    in_process = import_csv(rows, settings_=settings)
    first_errors = errors(db_session, in_process.batch_id)
    again = import_csv(rows, settings_=parallel)
    assert (again.created, again.unchanged, again.rejected) == (0, 27, 3)
    assert errors(db_session, again.batch_id) == first_errors
    assert [row for row, _, _ in first_errors] == [5, 12, 27]


def test_a_workbook_is_validated_by_the_worker_alone_with_the_same_outcome(import_csv, db_session, dept, parallel):
    # A CSV's first chunk is validated by the storing process while the worker starts; a workbook is not
    # (it would be loaded twice): both paths report the same rows.
    result = import_csv(_rows(), settings_=parallel, xlsx=True)
    assert (result.status, result.created, result.rejected) == ("completed", 27, 3)
    assert [row for row, _, _ in errors(db_session, result.batch_id)] == [5, 12, 27]
    assert service.get_batch(db_session, result.batch_id).file_format == "xlsx"


def test_worker_process_imports_a_fresh_file(import_csv, db_session, dept, parallel):
    result = import_csv(_rows(), settings_=parallel, encoding="gbk")
    assert (result.status, result.created, result.rejected) == ("completed", 27, 3)
    assert record_count(db_session, dept) == 27


def test_worker_process_passes_back_a_whole_file_rejection(import_csv, db_session, parallel, tmp_path):
    path = tmp_path / "no-doc-no.csv"
    rows = [{k: v for k, v in factories.penalty_row().items() if k != "CF_WSH"} for _ in range(5)]
    factories.write_rows(path, rows)
    result = import_csv([], settings_=parallel, path=path)
    assert result.status == "failed"
    assert result.failure is not None
    assert result.failure["code"] == "missing-column"
    assert record_count(db_session) == 0


def test_worker_process_passes_back_an_encoding_error_after_stored_chunks(import_csv, db_session, parallel, tmp_path):
    path = factories.write_rows(tmp_path / "broken.csv", [factories.penalty_row() for _ in range(20)])
    data = path.read_bytes()
    path.write_bytes(data + "安吉县坏字节有限公司".encode()[:-1] + b"\xff\xfe,x\n")
    result = import_csv([], settings_=parallel, path=path)
    assert result.failure is not None
    assert result.failure["code"] == "encoding-error"
    assert "第 22 行" in result.failure["message"]
    assert (result.status, result.rows, result.created) == ("incomplete", 20, 20)


def test_parallel_setting_is_used_for_large_files_only(settings):
    assert settings.parallel_min_bytes > 1024 * 1024
