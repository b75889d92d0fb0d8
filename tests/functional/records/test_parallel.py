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


def test_worker_process_stores_and_updates_every_column_as_in_process(import_csv, db_session, settings, dept,
                                                                      parallel):  # fmt: skip
    """What the worker prepares (the payload's JSON, the hash's text) is what this process would: a department's
    records created and then corrected through the worker hold the same payloads, hashes and earlier versions
    as another department's, imported in this process."""
    from sqlalchemy import select

    from xinyong.records import rules
    from xinyong.records.models import Record, RecordVersion

    other = factories.department(db_session, code=factories.OTHER_DEPT_CODE, name="安吉县交通运输局")
    own = ("CF_CFJGDM", "CF_SJLYDM")  # the reporting department's code: the only columns that differ
    stored, generated = {}, _rows()
    for department, options in ((dept, parallel), (other, settings)):
        rows = [dict(row, **dict.fromkeys(own, department.code)) for row in generated]
        corrected = [dict(row, CF_SY=row["CF_SY"] + "（已更正）") if n % 2 else row for n, row in enumerate(rows)]
        first = import_csv(rows, settings_=options, department=department)
        again = import_csv(corrected, settings_=options, department=department)
        assert (first.created, first.rejected) == (27, 3)
        assert (again.updated, again.unchanged, again.rejected) == (13, 14, 3)
        records = db_session.scalars(select(Record).where(Record.department_id == department.id)).all()
        versions = db_session.scalars(select(RecordVersion).join(Record, Record.id == RecordVersion.record_id)
                                      .where(Record.department_id == department.id)).all()  # fmt: skip
        for kept in [*records, *versions]:  # every column is in the hash (no sealed values in these rows)
            assert kept.sealed is None
            assert kept.content_hash == rules.content_hash(kept.payload, None, kept.subject_id)
        stored[department.id] = (
            {r.doc_no: ({k: v for k, v in r.payload.items() if k not in own}, r.version, r.categories, r.tier,
                        r.publish_until, r.subject_name) for r in records},
            sorted((v.payload["CF_WSH"], v.payload["CF_SY"], v.version) for v in versions),
        )  # fmt: skip
    through_worker, in_process = stored[dept.id], stored[other.id]
    assert through_worker == in_process
    assert all(len(payload) == len(generated[0]) - len(own) for payload, *_ in through_worker[0].values())
    assert sum(payload["CF_SY"].endswith("（已更正）") for payload, *_ in through_worker[0].values()) == 13
