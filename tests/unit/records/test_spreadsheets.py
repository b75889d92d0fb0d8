"""Excel 97–2003 (.xls) and OpenDocument (.ods) spreadsheets, read through calamine, and Excel/WPS "Unicode
text" exports (UTF-16 with a byte-order mark, tab-separated): what offices send besides CSV and XLSX. Hostile
files are refused before anything is expanded. Every input file is built here, in tmp_path."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import xlwt

from xinyong.errors import FileRejected
from xinyong.records.readers import MAX_XLS_BYTES, open_table

LIMIT = 100 * 1024 * 1024


def read(path: Path, **limits: Any) -> tuple[str, str | None, list[str], list[tuple[int, list[str]]]]:
    with open_table(path, max_bytes=limits.pop("max_bytes", LIMIT), **limits) as table:
        return table.format, table.encoding, table.headers, list(table.rows)


def rejected(path: Path, **limits: Any) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        read(path, **limits)
    return caught.value


# --- .xls --------------------------------------------------------------------------------------


def write_xls(path: Path, sheets: dict[str, list[list[Any]]], hidden: tuple[str, ...] = ()) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    dates = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        if name in hidden:
            sheet.visibility = 1
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, date):
                    sheet.write(r, c, value, dates)
                elif value is not None:
                    sheet.write(r, c, value)
    book.save(str(path))
    return path


def test_xls_is_read_with_types_and_row_numbers(tmp_path: Path) -> None:
    path = write_xls(tmp_path / "处罚.xls", {"Sheet1": [
        [],
        ["行政相对人名称", "罚款金额（万元）", "处罚决定日期", "备注"],
        ["安吉县甲公司", 0.2, date(2025, 9, 29), "  首尾空格  "],
        [],
        ["安吉县乙公司", 3, date(2024, 2, 29), None],
    ]})  # fmt: skip

    fmt, encoding, headers, rows = read(path)

    assert (fmt, encoding) == ("xls", None)
    assert headers == ["行政相对人名称", "罚款金额（万元）", "处罚决定日期", "备注"]
    assert rows == [(3, ["安吉县甲公司", "0.2", "2025-09-29", "首尾空格"]), (5, ["安吉县乙公司", "3", "2024-02-29", ""])]


def test_xls_hidden_sheet_is_not_the_data(tmp_path: Path) -> None:
    path = write_xls(tmp_path / "data.xls", {"helper": [["代码表"], ["x"]], "数据": [["名称"], ["甲"]]},
                     hidden=("helper",))  # fmt: skip

    assert read(path)[2:] == (["名称"], [(2, ["甲"])])


def test_damaged_xls_is_refused_with_advice(tmp_path: Path) -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "Workbook".encode("utf-16-le") + bytes(2048)
    path = tmp_path / "data.xls"
    path.write_bytes(ole2)

    error = rejected(path)

    assert error.problem_code == "unsupported-format"
    assert "Excel 97–2003（.xls）文件已损坏" in error.reason


def test_oversized_xls_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.xls"
    with path.open("wb") as out:
        out.write(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
        out.truncate(MAX_XLS_BYTES + 1)  # sparse: nothing is written

    error = rejected(path, max_bytes=4 * MAX_XLS_BYTES)

    assert error.problem_code == "file-too-large"
    assert ".xls" in error.reason


# --- .ods --------------------------------------------------------------------------------------

_ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Sheet1">'
)
_ODS_TAIL = "</table:table></office:spreadsheet></office:body></office:document-content>"


def _cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, date):
        return f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}"/>'
    if isinstance(value, int | float):
        return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'


def write_ods(path: Path, body: str, *, mimetype: bytes = b"application/vnd.oasis.opendocument.spreadsheet") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # stored, first, as the format requires
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
        archive.writestr("content.xml", _ODS_HEAD + body + _ODS_TAIL)
    return path


def rows_xml(rows: list[list[Any]]) -> str:
    return "".join("<table:table-row>" + "".join(map(_cell, row)) + "</table:table-row>" for row in rows)


# How LibreOffice pads a sheet: empty cells and rows repeated to the sheet's edge.
PADDING = ('<table:table-row table:number-rows-repeated="1048570">'
           '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>')  # fmt: skip


def test_ods_is_read_with_types_and_padding_ignored(tmp_path: Path) -> None:
    body = rows_xml([["名称", "金额", "日期"], ["安吉县甲公司", 0.2, date(2025, 9, 29)], ["乙", 3, None]]) + PADDING

    fmt, encoding, headers, rows = read(write_ods(tmp_path / "data.ods", body))

    assert (fmt, encoding, headers) == ("ods", None, ["名称", "金额", "日期"])
    assert rows == [(2, ["安吉县甲公司", "0.2", "2025-09-29"]), (3, ["乙", "3", ""])]


def test_ods_repeating_a_filled_cell_a_billion_times_is_refused(tmp_path: Path) -> None:
    bomb = ('<table:table-row><table:table-cell table:number-columns-repeated="1000000000" '
            'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>')  # fmt: skip
    path = write_ods(tmp_path / "bomb.ods", rows_xml([["名称"]]) + bomb)

    assert rejected(path).problem_code == "archive-suspicious"


def test_ods_repeating_a_filled_row_is_refused(tmp_path: Path) -> None:
    bomb = ('<table:table-row table:number-rows-repeated="50000000">'
            '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>')  # fmt: skip
    path = write_ods(tmp_path / "rows.ods", rows_xml([["名称"]]) + bomb)

    assert rejected(path).problem_code == "archive-suspicious"


def test_ods_zip_bomb_is_refused(tmp_path: Path) -> None:
    body = rows_xml([["名称"]]) + "<!--" + " " * (30 * 1024 * 1024) + "-->"
    path = write_ods(tmp_path / "bomb.ods", body)

    assert rejected(path).problem_code == "archive-suspicious"


def test_zip_that_is_neither_workbook_nor_spreadsheet_is_unsupported(tmp_path: Path) -> None:
    path = write_ods(tmp_path / "doc.odt", rows_xml([["名称"]]), mimetype=b"application/vnd.oasis.opendocument.text")

    assert rejected(path).problem_code == "unsupported-format"


def test_damaged_ods_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content><table:table")

    error = rejected(path)

    assert error.problem_code in ("unsupported-format", "empty-file")


# --- Unicode text (UTF-16, tab-separated) ------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_unicode_text_export_is_read(tmp_path: Path, encoding: str) -> None:
    bom = "\ufeff"
    text = bom + "行政相对人名称\t决定书文号\r\n安吉县甲公司\t安市监罚〔2025〕1号\r\n\r\n“引号”公司\t2号\r\n"
    path = tmp_path / "export.txt"
    path.write_bytes(text.encode(encoding))

    fmt, found, headers, rows = read(path)

    assert (fmt, found) == ("csv", "utf-16")
    assert headers == ["行政相对人名称", "决定书文号"]
    assert rows == [(2, ["安吉县甲公司", "安市监罚〔2025〕1号"]), (4, ["“引号”公司", "2号"])]


def test_unicode_text_with_a_broken_character_names_its_row(tmp_path: Path) -> None:
    good = "\ufeff名称\t代码\r\n甲\t1\r\n乙\t2\r\n".encode("utf-16-le")
    broken = "丙".encode("utf-16-le") + b"\x00\xd8" + "\t3\r\n".encode("utf-16-le")  # a lone surrogate
    path = tmp_path / "export.txt"
    path.write_bytes(good + broken)

    error = rejected(path)

    assert error.problem_code == "encoding-error"
    assert error.details.get("row") == 4
    assert "UTF-16" in error.reason


def test_unicode_text_is_bounded_like_any_file(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_bytes(("\ufeff名称\r\n" + "甲\r\n" * 1000).encode("utf-16-le"))

    assert rejected(path, max_bytes=1000).problem_code == "file-too-large"


def test_datetime_cells_in_xls_keep_their_time(tmp_path: Path) -> None:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("s")
    sheet.write(0, 0, "时间")
    sheet.write(1, 0, datetime(2025, 9, 29, 10, 30), xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM:SS"))
    path = tmp_path / "t.xls"
    book.save(str(path))

    assert read(path)[3] == [(2, ["2025-09-29 10:30:00"])]
