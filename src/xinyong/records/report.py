"""The batch report a department acts on: counts, and every problem as (row, column, code, value, message).

Problems over the batch's caps (see caps.py) were counted, not stored: the report gives one line per code and
column for them, "另有 N 条同类问题未逐条列出"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
from typing import IO, Any

from sqlalchemy.orm import Session

from xinyong.catalog import load_catalog
from xinyong.errors import NotFound
from xinyong.exports import write_csv
from xinyong.records import service
from xinyong.records.caps import omitted_message
from xinyong.records.models import Batch, BatchProblem, BatchStatus

STATUS_LABELS = {
    BatchStatus.RUNNING: "进行中",
    BatchStatus.COMPLETED: "已完成",
    BatchStatus.FAILED: "未导入",
    BatchStatus.INCOMPLETE: "未完成",
}
CSV_HEADER = ["行号", "列", "列名", "级别", "问题代码", "值", "说明"]
SEVERITY_LABELS = {"error": "错误", "warning": "提示"}


def _problem(p: BatchProblem) -> dict[str, Any]:
    return {"row": p.row, "column": p.column, "code": p.code, "value": p.value, "message": p.message}


def omitted(batch: Batch) -> list[dict[str, Any]]:
    """The counted-only problems of a batch, one line per (severity, code, column), with its message."""
    return [{**line, "message": omitted_message(line["count"])} for line in batch.omitted_problems or ()]


PAGE_SIZE = 200


@dataclass
class ProblemPage:
    items: list[BatchProblem]
    page: int
    pages: int
    stored: int  # problems stored one by one, over all pages
    omitted: list[dict[str, Any]]
    size: int

    @property
    def omitted_total(self) -> int:
        return sum(line["count"] for line in self.omitted)


def problem_page(session: Session, batch: Batch, page: int = 1, size: int = PAGE_SIZE) -> ProblemPage:
    items, page, stored = service.problem_page(session, batch.id, page=page, size=size)
    return ProblemPage(items, page, max(1, -(-stored // size)), stored, omitted(batch), size)


def batch_document(session: Session, batch: Batch) -> dict[str, Any]:
    errors: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for p in service.iter_problems(session, batch.id):
        (errors if p.severity == "error" else warnings).append(_problem(p))
    return {
        "batch_id": batch.id,
        "record_type": batch.record_type,
        "status": batch.status.value,
        "filename": batch.filename,
        "reported_on": batch.reported_on.isoformat(),
        "rows": batch.rows_read,
        "created": batch.created,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "rejected": batch.rejected,
        "late": batch.late,
        "failure": batch.failure,
        "errors": errors,
        "warnings": warnings,
        "omitted": omitted(batch),
    }


def result_document(session: Session, result: service.ImportResult) -> dict[str, Any]:
    return batch_document(session, service.get_batch(session, result.batch_id))


def first_problems(session: Session, batch_id: int, limit: int) -> Iterator[BatchProblem]:
    return islice(service.iter_problems(session, batch_id), limit)


def column_titles(record_type: str, catalog_dirs: tuple = ()) -> dict[str, str]:
    """Column code → Chinese header, so a report names cells the way the department's file does."""
    try:
        rtype = load_catalog(catalog_dirs).get(record_type)
    except NotFound:
        return {}
    return {spec.code: spec.title for spec in rtype.fields}


def write_problems_csv(session: Session, batch_id: int, handle: IO[str]) -> int:
    """Every stored problem, then a line for each group of counted-only ones (its row cell left empty)."""
    batch = service.get_batch(session, batch_id)
    titles = column_titles(batch.record_type)
    rows = (
        (p.row, p.column or "", titles.get(p.column or "", ""), SEVERITY_LABELS.get(p.severity, p.severity), p.code,
         p.value or "", p.message)
        for p in service.iter_problems(session, batch_id)
    )  # fmt: skip
    summary = (
        ("", line["column"] or "", titles.get(line["column"] or "", ""),
         SEVERITY_LABELS.get(line["severity"], line["severity"]), line["code"], "", line["message"])
        for line in omitted(batch)
    )  # fmt: skip
    return write_csv(handle, CSV_HEADER, chain(rows, summary))
