"""Damaged and hostile files the reader must refuse cleanly (never a traceback, never hours of work or gigabytes of
memory), and the files like them that it must still read. Every input file is built here, in tmp_path."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from tests.unit.records.test_readers import read, read_until_rejected, rejected, rewrite_zip, write_bytes
from tests.unit.records.test_spreadsheets import _ODS_HEAD, _ODS_TAIL, PADDING, rows_xml, write_ods

from xinyong.errors import FileRejected
from xinyong.records.readers import MAX_SHEET_ROWS, open_table_bytes

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODS_DAMAGED = "OpenDocument（.ods）文件已损坏"
WEB_PAGE = "文件内容是网页或 XML 格式"


# --- a damaged .ods ------------------------------------------------------------------------------


def _ods_members(body: str) -> list[tuple[str, bytes]]:
    return [("mimetype", ODS_MIMETYPE.encode()), ("META-INF/manifest.xml", b"<manifest/>"),
            ("content.xml", (_ODS_HEAD + body + _ODS_TAIL).encode())]  # fmt: skip


def _write_ods_stored(path: Path, body: str) -> Path:
    """An .ods whose parts are stored uncompressed, so that their bytes can be changed in place."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in _ods_members(body):
            archive.writestr(name, data)
    return path


def _bad_crc(tmp_path: Path) -> Path:
    path = _write_ods_stored(tmp_path / "crc.ods", rows_xml([["名称"], ["安吉县甲公司"]]))
    data = path.read_bytes()
    at = data.index("甲".encode())
    return write_bytes(tmp_path, data[:at] + "乙".encode() + data[at + 3 :], "crc.ods")  # same length, other bytes


def _bad_deflate(tmp_path: Path) -> Path:
    path = write_ods(tmp_path / "deflate.ods", rows_xml([["名称"], *[[f"安吉县第{n}号公司"] for n in range(200)]]))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("content.xml")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for at in range(start + info.compress_size // 3, start + info.compress_size // 3 + 24):
        data[at] ^= 0x5A
    return write_bytes(tmp_path, bytes(data), "deflate.ods")


def _unknown_method(tmp_path: Path) -> Path:
    path = _write_ods_stored(tmp_path / "method.ods", rows_xml([["名称"], ["甲"]]))
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("content.xml")
    data = bytearray(path.read_bytes())
    method = (99).to_bytes(2, "little")  # not one zipfile knows
    data[info.header_offset + 8 : info.header_offset + 10] = method  # the local header
    at = data.find(b"PK\x01\x02")  # the central directory's entries
    while at >= 0:
        name_length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + name_length] == b"content.xml":
            data[at + 10 : at + 12] = method
        at = data.find(b"PK\x01\x02", at + 4)
    return write_bytes(tmp_path, bytes(data), "method.ods")


@pytest.mark.parametrize("damage", [_bad_crc, _bad_deflate, _unknown_method], ids=["crc", "deflate", "method-99"])
def test_a_damaged_ods_is_refused_as_damaged(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    error = rejected(damage(tmp_path))

    assert error.problem_code == "unsupported-format"
    assert ODS_DAMAGED in error.reason


def test_an_ods_with_a_password_is_refused_as_such(tmp_path: Path) -> None:
    path = tmp_path / "secret.ods"
    manifest = (b'<manifest:manifest><manifest:file-entry manifest:full-path="content.xml">'
                b"<manifest:encryption-data/></manifest:file-entry></manifest:manifest>")  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), ODS_MIMETYPE)
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", bytes(range(256)) * 40)  # encrypted: not XML

    error = rejected(path)

    assert error.problem_code == "file-encrypted"
    assert "文件设置了打开密码" in error.reason


# --- a quote left open in a CSV ----------------------------------------------------------------


@pytest.mark.parametrize("end", ["\n", ""])
def test_a_quote_open_at_the_end_of_the_file_names_its_row(tmp_path: Path, end: str) -> None:
    text = '名称,代码\n甲,1\n"乙,2\n丙,3\n丁,4' + end

    rows, error = read_until_rejected(write_bytes(tmp_path, text.encode()))

    assert error.problem_code == "malformed-csv"
    assert error.details["row"] == 3
    assert "第 3 行格式有误（可能是引号未配对" in error.reason
    assert rows == [(2, ["甲", "1"])]


def test_a_quote_open_at_the_end_of_a_unicode_text_export_names_its_row(tmp_path: Path) -> None:
    text = '\ufeff名称\t代码\r\n甲\t1\r\n乙\t2\r\n"丙\t3\r\n丁\t4\r\n'

    rows, error = read_until_rejected(write_bytes(tmp_path, text.encode("utf-16-le"), "export.txt"))

    assert (error.problem_code, error.details["row"]) == ("malformed-csv", 4)
    assert rows == [(2, ["甲", "1"]), (3, ["乙", "2"])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A closed quote at the very end, with or without a line end; a cell ending in a quoted line break.
        ('名称,备注\n甲,"引号""内"""', [(2, ["甲", '引号"内"'])]),
        ('名称,备注\n甲,"多行\n备注"\n', [(2, ["甲", "多行\n备注"])]),
        ('名称,备注\n甲,"末尾换行\n"\r\n', [(2, ["甲", "末尾换行"])]),
        # What the parser has always taken leniently is taken as before.
        ('名称,备注\n"甲" ,"乙"x\n', [(2, ["甲", "乙x"])]),
        ('名称,备注\n5",1\n', [(2, ['5"', "1"])]),
        ("名称,备注\n甲,1", [(2, ["甲", "1"])]),
    ],
)
def test_closed_quotes_read_as_before(tmp_path: Path, text: str, expected: list[tuple[int, list[str]]]) -> None:
    assert read(write_bytes(tmp_path, text.encode()))[1] == expected


# --- an XLSX row numbered beyond Excel's last row ---------------------------------------------


def _xlsx_with_row_number(path: Path, number: int) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["名称", "代码"], ["甲", "1"], ["乙", "2"]):
        sheet.append(row)
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    for old, new in ((b'<row r="3"', b'<row r="%d"' % number), (b'r="A3"', b'r="A%d"' % number),
                     (b'r="B3"', b'r="B%d"' % number), (b"A1:B3", b"A1:B%d" % number)):  # fmt: skip
        assert old in xml
        xml = xml.replace(old, new)
    rewrite_zip(path, replace={"xl/worksheets/sheet1.xml": xml})
    return path


def test_an_xlsx_row_beyond_excels_last_row_is_refused_at_once(tmp_path: Path) -> None:
    path = _xlsx_with_row_number(tmp_path / "rows.xlsx", 999_999_999_999)
    assert path.stat().st_size < 10_000

    started = time.perf_counter()
    rows, error = read_until_rejected(path)
    elapsed = time.perf_counter() - started

    assert error.problem_code == "unsupported-format"
    assert "行号超过 1,048,576" in error.reason
    assert rows == [(2, ["甲", "1"])]
    assert elapsed < 3  # the million empty rows up to the limit take a fifth of a second


def test_an_xlsx_row_on_excels_last_row_is_read(tmp_path: Path) -> None:
    path = _xlsx_with_row_number(tmp_path / "rows.xlsx", MAX_SHEET_ROWS)

    assert read(path)[1] == [(2, ["甲", "1"]), (MAX_SHEET_ROWS, ["乙", "2"])]


# --- ODS repeats that would be expanded --------------------------------------------------------

HEADER_95 = [[f"列{n}" for n in range(95)]]
EMPTY_ROWS = ('<table:table-row table:number-rows-repeated="{rows}">'
              '<table:table-cell table:number-columns-repeated="95"/></table:table-row>')  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        # A million empty rows between the header and a data row (1.4 KB, 6.9 GB before).
        rows_xml(HEADER_95) + EMPTY_ROWS.format(rows=1_000_000) + rows_xml([["x"] * 95]),
        # The same before the header: expanded as well.
        EMPTY_ROWS.format(rows=1_000_000) + rows_xml(HEADER_95) + rows_xml([["x"] * 95]),
        # The count written as a character reference.
        rows_xml(HEADER_95) + EMPTY_ROWS.format(rows="&#49;000000") + rows_xml([["x"] * 95]),
        # A billion empty cells before a cell, within one row.
        rows_xml([["名称"]]) + '<table:table-row><table:table-cell table:number-columns-repeated="1000000000"/>'
        "<table:table-cell/></table:table-row>",
        # Content beyond Excel's last column, which calamine would drop.
        rows_xml([["名称"]]) + '<table:table-row><table:table-cell table:number-columns-repeated="16384"/>'
        '<table:table-cell office:value-type="float" office:value="1"/></table:table-row>',
        # Content in a far column of a few rows.
        rows_xml([["名称"]]) + '<table:table-row table:number-rows-repeated="2000"><table:table-cell '
        'table:number-columns-repeated="9000"/><table:table-cell office:value-type="float" office:value="1"/>'
        "</table:table-row>",
    ],
    ids=["rows-between", "rows-before", "character-reference", "cells-in-a-row", "past-last-column", "far-column"],
)
def test_empty_repeats_before_content_are_refused_before_they_are_expanded(tmp_path: Path, body: str) -> None:
    path = write_ods(tmp_path / "sheet.ods", body)
    assert path.stat().st_size < 2_000

    error = rejected(path)

    assert error.problem_code == "archive-suspicious"
    assert "表格内容异常（有内容的单元格前空行空列过多" in error.reason


def test_a_quoted_bracket_does_not_hide_a_repeat(tmp_path: Path) -> None:
    body = (rows_xml(HEADER_95) + '<table:table-row table:style-name="a>b" table:number-rows-repeated="1000000">'
            '<table:table-cell table:number-columns-repeated="95"/></table:table-row>' + rows_xml([["x"] * 95]))  # fmt: skip

    assert rejected(write_ods(tmp_path / "sheet.ods", body)).problem_code == "archive-suspicious"


@pytest.mark.parametrize(
    "bomb",
    [
        # A long text repeated in its row and with its row.
        '<table:table-row table:number-rows-repeated="5000"><table:table-cell table:number-columns-repeated="100" '
        'office:value-type="string"><text:p>' + "长" * 5000 + "</text:p></table:table-cell></table:table-row>",
        # A few bytes declaring a hundred million spaces.
        '<table:table-row><table:table-cell office:value-type="string"><text:p><text:s text:c="100000000"/>'
        "</text:p></table:table-cell></table:table-row>",
    ],
    ids=["long-text", "spaces"],
)
def test_repeated_content_is_bounded_by_what_it_copies(tmp_path: Path, bomb: str) -> None:
    error = rejected(write_ods(tmp_path / "sheet.ods", rows_xml([["名称"]]) + bomb))

    assert (error.problem_code, error.reason) == ("archive-suspicious", "表格内容异常（重复的单元格过多），已拒绝")


def test_padding_after_the_last_content_is_still_read(tmp_path: Path) -> None:
    # As LibreOffice writes a sheet: each row's cells padded to the last column, the rows to the last row, empty
    # rows in between, and a repeated row with content.
    pad_cells = '<table:table-cell table:number-columns-repeated="16382"/>'
    data_row = ('<table:table-row><table:table-cell office:value-type="string"><text:p>甲</text:p></table:table-cell>'
                '<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
                + pad_cells + "</table:table-row>")  # fmt: skip
    body = (rows_xml([["名称", "代码"]]) + data_row
            + '<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="16384"/>'
            "</table:table-row>"
            + data_row.replace("<table:table-row>", '<table:table-row table:number-rows-repeated="2">') + PADDING)  # fmt: skip

    assert read(write_ods(tmp_path / "sheet.ods", body))[1] == [
        (2, ["甲", "1"]), (6, ["甲", "1"]), (7, ["甲", "1"]),
    ]  # fmt: skip


def test_content_on_the_last_column_is_read(tmp_path: Path) -> None:
    body = (rows_xml([["名称"]]) + '<table:table-row><table:table-cell office:value-type="string"><text:p>甲</text:p>'
            '</table:table-cell><table:table-cell table:number-columns-repeated="16382"/><table:table-cell '
            'office:value-type="float" office:value="1"/></table:table-row>')  # fmt: skip

    rows = read(write_ods(tmp_path / "sheet.ods", body))[1]

    assert [(number, cells[0], cells[-1], len(cells)) for number, cells in rows] == [(2, "甲", "1", 16_384)]


def test_a_package_not_readable_as_xml_is_damaged(tmp_path: Path) -> None:
    path = write_ods(tmp_path / "sheet.ods", rows_xml([["名称"], ["甲"]]) + "<table:table-row></table:table>")

    error = rejected(path)

    assert error.problem_code == "unsupported-format"
    assert ODS_DAMAGED in error.reason


# --- web pages and MIME archives named .xls ---------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"<!-- saved from url=(0014)about:internet -->\r\n<html>\r\n<head></head><body><table><tr><td>1</td></tr>",
        b'<meta http-equiv="Content-Type" content="text/html; charset=utf-8"><table><tr><td>1</td></tr></table>',
        b"<style>\r\n.xl65 {mso-number-format:\"\\@\";}\r\n</style>\r\n<table><tr><td>1</td></tr></table>",
        b'MIME-Version: 1.0\r\nX-Document-Type: Workbook\r\nContent-Type: multipart/related; boundary="--=_Next"\r\n',
        b"From: <Saved by Windows Internet Explorer 8>\r\nSubject: report\r\nMIME-Version: 1.0\r\n",
        "\ufeff \r\n<!--[if gte mso 9]><xml></xml><![endif]-->\n<!-- 2 -->\n<HTML>".encode(),
        ("\t" * 20 + "<TABLE border=1><tr><td>名称</td></tr></table>").encode("gbk"),
        "\ufeff<html><body><table><tr><td>名称</td></tr></table>".encode("utf-16-le"),
    ],
    ids=["saved-from", "meta", "style", "mht", "mht-headers", "comments", "indented", "utf-16"],
)
def test_web_pages_named_xls_get_the_web_page_advice(tmp_path: Path, data: bytes) -> None:
    error = rejected(write_bytes(tmp_path, data, "report.xls"))

    assert error.problem_code == "unsupported-format"
    assert WEB_PAGE in error.reason


@pytest.mark.parametrize(
    ("text", "headers"),
    [
        ("<名称>,代码\n甲,1\n", ["<名称>", "代码"]),
        ("名称,备注\n甲,<html>\n", ["名称", "备注"]),
        ("From: 名称,代码\n甲,1\n", ["From: 名称", "代码"]),
    ],
)
def test_a_csv_that_merely_mentions_markup_is_read(tmp_path: Path, text: str, headers: list[str]) -> None:
    source, rows = read(write_bytes(tmp_path, text.encode()))

    assert source.headers == headers
    assert len(rows) == 1


def test_bytes_helper_refuses_a_damaged_ods_the_same_way(tmp_path: Path) -> None:
    data = _bad_crc(tmp_path).read_bytes()

    with pytest.raises(FileRejected, match=ODS_DAMAGED) as caught, open_table_bytes(data, max_bytes=10**8):
        pass
    assert caught.value.problem_code == "unsupported-format"
