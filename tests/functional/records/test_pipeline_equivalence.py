"""The column-at-a-time pipeline against the row-by-row one it replaced: the same generated files, bad rows
mixed in, imported once through each (into two departments, so that each path meets the same subject
register), then again with rows changed. Records, the subjects they name, versions, batch counts and every
problem must come out the same."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import records as factories
from tests.functional.records.conftest import BACKDATE_REASON, SYSTEM

from xinyong.config import Settings
from xinyong.demo import generator
from xinyong.departments.models import Department
from xinyong.errors import FileRejected
from xinyong.protect import Protector
from xinyong.records import service
from xinyong.records.models import Record, RecordVersion
from xinyong.records.validation import CleanRow, RowValidator

TODAY = date(2026, 11, 20)


def row_by_row_chunks(validator: RowValidator, rows: Iterable[Any], size: int) -> Iterator[list[CleanRow]]:
    """The pipeline's validation before the column-at-a-time change, as it was."""
    chunk: list[CleanRow] = []
    try:
        for item in rows:
            clean = validator.validate(item[0], item[1])
            if len(item) > 2:
                clean.reported_on = item[2]
            chunk.append(clean)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    except FileRejected:
        if chunk:
            yield chunk
        raise
    if chunk:
        yield chunk


def _files(tmp_path: Path, seed: int, source: generator.Department, other: generator.Department) -> list[list[Path]]:
    """Two rounds (a file, then the same file with rows changed), each written for both departments."""
    rng = random.Random(seed)
    departments = generator.generate_departments(rng)
    subjects = list(generator.generate_subjects(40, rng))
    produced = generator.penalty_rows(subjects, departments, 150, rng, today=TODAY, malformed_share=0.3,
                                      department=source)  # fmt: skip
    rows = [row for row, _, _ in produced]
    rows += rows[:5]  # 文书号 repeated within the file
    changed = [dict(row) for row in rows]
    for row in changed[::4]:
        row["CF_SY"] = row["CF_SY"] + "（更正）"
    for row in changed[1::9]:
        row["CF_NR_FK"] = "12元"
    rounds = []
    for number, content in enumerate((rows, changed)):
        paths = []
        for department in (source, other):
            path = tmp_path / f"round{number}-{department.code}.csv"
            mapped = [{k: v.replace(source.code, department.code) for k, v in row.items()} for row in content]
            generator.write_csv(path, mapped, generator.PENALTY_COLUMNS, encoding="gbk", header="chinese")
            paths.append(path)
        rounds.append(paths)
    return rounds


def _outcome(session: Session, department: Department, code: str, result: service.ImportResult) -> dict[str, Any]:
    def plain(text: Any) -> Any:
        return text.replace(code, "<dept>") if isinstance(text, str) else text

    records = {
        r.doc_no: (r.subject_id, {k: plain(v) for k, v in r.payload.items()}, r.status, r.version, r.is_late,
                   r.tier, r.publish_until, r.decision_date, r.deadline, r.reported_on, r.categories)
        for r in session.scalars(select(Record).where(Record.department_id == department.id))
    }  # fmt: skip
    versions = sorted(
        (doc_no, v.version, v.subject_id, v.superseded_by)
        for v, doc_no in session.execute(
            select(RecordVersion, Record.doc_no).join(Record, Record.id == RecordVersion.record_id)
            .where(Record.department_id == department.id)
        )
    )  # fmt: skip
    problems = [(p.row, p.column, p.code, plain(p.value), plain(p.message), p.severity)
                for p in service.iter_problems(session, result.batch_id)]  # fmt: skip
    counts = {**result.counts(), "warnings": result.warnings, "status": result.status}
    return {"records": records, "versions": versions, "problems": problems, "counts": counts}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_column_pipeline_matches_row_pipeline(
    db_session: Session, settings: Settings, protector: Protector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:  # fmt: skip
    pool = [d for d in generator.generate_departments(random.Random(seed)) if generator.decides(d, "penalty")]
    source, other = pool[0], pool[1]
    old_dept = factories.department(db_session, code=source.code, name=source.name)
    new_dept = factories.department(db_session, code=other.code, name=other.name)
    db_session.commit()

    def run(path: Path, department: Department) -> service.ImportResult:
        return service.import_file(
            db_session, path, settings=settings, protector=protector, record_type="penalty", department=department,
            actor=SYSTEM, reported_on=TODAY, backdate_reason=BACKDATE_REASON, today=TODAY,
        )  # fmt: skip

    for old_path, new_path in _files(tmp_path, seed, source, other):
        with monkeypatch.context() as patch:
            patch.setattr(service, "ChunkValidator", RowValidator)
            patch.setattr(service, "validated_chunks", row_by_row_chunks)
            old = _outcome(db_session, old_dept, source.code, run(old_path, old_dept))
        new = _outcome(db_session, new_dept, other.code, run(new_path, new_dept))
        assert new["counts"] == old["counts"]
        assert new["problems"] == old["problems"]
        assert new["records"] == old["records"]
        assert new["versions"] == old["versions"]
        assert old["counts"]["rejected"] > 0
        assert old["counts"]["rows"] == 155
