"""Files as offices send them, end to end: .xls, .ods and Excel/WPS "Unicode text" imports store the same
records as the CSV of the same rows, and report problems by the row numbers the department sees."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import xlwt
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.factories import records as factories
from tests.functional.records.conftest import Importer
from tests.functional.records.helpers import batch, errors

from xinyong.records.models import Record


def _table(rows: list[dict[str, str]]) -> tuple[list[str], list[list[str]]]:
    columns: list[str] = []
    for row in rows:
        columns.extend(c for c in row if c not in columns)
    return columns, [[row.get(c, "") for c in columns] for row in rows]


def write_xls(path: Path, rows: list[dict[str, str]]) -> Path:
    columns, cells = _table(rows)
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("处罚")
    for r, values in enumerate([columns, *cells]):
        for c, value in enumerate(values):
            sheet.write(r, c, value)
    book.save(str(path))
    return path


def write_ods(path: Path, rows: list[dict[str, str]]) -> Path:
    columns, cells = _table(rows)
    body = "".join(
        "<table:table-row>" + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>' if v
            else "<table:table-cell/>" for v in values
        ) + "</table:table-row>"
        for values in [columns, *cells]
    )  # fmt: skip
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="处罚">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
        archive.writestr("content.xml", content)
    return path


def write_unicode_text(path: Path, rows: list[dict[str, str]]) -> Path:
    columns, cells = _table(rows)
    text = "\ufeff" + "".join("\t".join(values) + "\r\n" for values in [columns, *cells])
    path.write_bytes(text.encode("utf-16-le"))
    return path


@pytest.mark.parametrize(("writer", "name", "fmt"), [(write_xls, "data.xls", "xls"), (write_ods, "data.ods", "ods"),
                                                     (write_unicode_text, "data.txt", "csv")])  # fmt: skip
def test_office_formats_import_like_csv(
    db_session: Session, import_csv: Importer, tmp_path: Path, writer, name: str, fmt: str  # type: ignore[no-untyped-def]
) -> None:
    rows = [factories.penalty_row(), factories.penalty_row(CF_JDRQ="不是日期"), factories.penalty_row()]

    result = import_csv([], path=writer(tmp_path / name, rows))

    assert (result.status, result.rows, result.created, result.rejected) == ("completed", 3, 2, 1)
    assert errors(db_session, result.batch_id) == [(3, "CF_JDRQ", "invalid-date")]
    assert batch(db_session, result.batch_id).file_format == fmt
    stored = set(db_session.scalars(select(Record.doc_no)))
    assert stored == {rows[0]["CF_WSH"], rows[2]["CF_WSH"]}
