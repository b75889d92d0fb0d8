"""Tests for the streaming table reader. Every input file is built here, in tmp_path."""

from __future__ import annotations

import csv
import io
import os
import time
import tracemalloc
import zipfile
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xinyong.errors import FileRejected
from xinyong.records.readers import SAMPLE_BYTES, TableSource, open_table, open_table_bytes

MB = 1024 * 1024
LIMIT = 100 * MB

# --- builders ----------------------------------------------------------------------------------


def write_bytes(tmp_path: Path, data: bytes, name: str = "upload.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def write_text(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "upload.csv") -> Path:
    return write_bytes(tmp_path, text.encode(encoding), name)


def write_xlsx(path: Path, sheets: dict[str, list[list[Any]]], hidden: tuple[str, ...] = ()) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if title in hidden:
            sheet.sheet_state = "hidden"
    workbook.save(path)
    return path


def rewrite_zip(
    path: Path, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> None:
    """Copy an archive member by member, swapping or adding members."""
    replace = replace or {}
    with zipfile.ZipFile(path) as source:
        members = [
            (info.filename, replace.get(info.filename, source.read(info))) for info in source.infolist()
        ]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in [*members, *(add or {}).items()]:
            target.writestr(name, data)


def write_zeros_member(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """Stream zeros so a large member never sits in memory (zeros compress about 1000:1)."""
    block = bytes(MB)
    with archive.open(name, "w", force_zip64=size >= 2**31) as member:
        for _ in range(size // MB):
            member.write(block)


def read(path: Path, **options: Any) -> tuple[TableSource, list[tuple[int, list[str]]]]:
    options.setdefault("max_bytes", LIMIT)
    with open_table(path, **options) as source:
        return source, list(source.rows)


def read_until_rejected(path: Path) -> tuple[list[tuple[int, list[str]]], FileRejected]:
    """The rows handed out before the reader gave up, and why it did."""
    rows: list[tuple[int, list[str]]] = []
    with pytest.raises(FileRejected) as caught, open_table(path, max_bytes=LIMIT) as source:
        rows.extend(source.rows)
    return rows, caught.value


def rejected(path: Path, **options: Any) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        read(path, **options)
    return caught.value


# --- CSV encodings -----------------------------------------------------------------------------


def test_utf8_csv_strips_cells_and_numbers_rows(tmp_path: Path) -> None:
    path = write_text(
        tmp_path, "XDR_MC, 行政相对人类别 \n 北京某某科技有限公司 ,法人及非法人组织\r\n张三,自然人\n"
    )

    source, rows = read(path)

    assert (source.format, source.encoding) == ("csv", "utf-8")
    assert source.headers == ["XDR_MC", "行政相对人类别"]
    assert rows == [(2, ["北京某某科技有限公司", "法人及非法人组织"]), (3, ["张三", "自然人"])]


def test_utf8_bom_is_removed_from_header(tmp_path: Path) -> None:
    source, rows = read(write_text(tmp_path, "名称,代码\n甲,1\n", "utf-8-sig"))

    assert source.encoding == "utf-8-sig"
    assert source.headers == ["名称", "代码"]
    assert rows == [(2, ["甲", "1"])]


def test_gbk_csv_is_read_as_gb18030(tmp_path: Path) -> None:
    source, rows = read(
        write_text(tmp_path, "行政相对人名称,处罚类别\n上海某某餐饮管理有限公司,罚款;警告\n", "gbk")
    )

    assert source.encoding == "gb18030"
    assert rows == [(2, ["上海某某餐饮管理有限公司", "罚款;警告"])]


def test_characters_only_gb18030_can_encode(tmp_path: Path) -> None:
    # 𠀀 (CJK Ext. B) and 䶮 (Ext. A) are outside GBK; names with rare characters need them.
    text = "姓名,备注\n王𠀀,刘䶮\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("gbk")

    source, rows = read(write_text(tmp_path, text, "gb18030"))

    assert source.encoding == "gb18030"
    assert rows == [(2, ["王𠀀", "刘䶮"])]


def test_gbk_bytes_after_the_utf8_sample_are_an_encoding_error_with_the_row(tmp_path: Path) -> None:
    line = "北京某某科技有限公司,91110000MA01ABCD2X,2024-01-02\n"
    good_rows = SAMPLE_BYTES // len(line.encode()) + 100  # well past the sample
    data = ("名称,代码,日期\n" + line * good_rows).encode() + "上海某某公司,1,2024-01-03\n".encode("gbk")
    data += line.encode() * 50

    rows, error = read_until_rejected(write_bytes(tmp_path, data))

    assert error.problem_code == "encoding-error"
    assert f"第 {good_rows + 2} 行有无法识别的字符（文件按 UTF-8 编码读取）" in error.reason
    assert error.details["row"] == good_rows + 2
    assert [number for number, _ in rows] == list(range(2, good_rows + 2))


def test_damaged_utf8_is_rejected_instead_of_read_as_gbk(tmp_path: Path) -> None:
    # Reading this as GBK would succeed and store garbled names.
    data = "名称,代码\n北京某某科技有限公司,1\n天津某某商贸有限公司,2\n".encode() + b"\xff\xfe,3\n"

    rows, error = read_until_rejected(write_bytes(tmp_path, data))

    assert error.problem_code == "encoding-error"
    assert "第 4 行" in error.reason
    assert rows == [(2, ["北京某某科技有限公司", "1"]), (3, ["天津某某商贸有限公司", "2"])]


GOOD_LINE = "北京某某科技有限公司,91110000MA01ABCD2X\r\n"


@pytest.mark.parametrize(
    ("encoding", "label", "bad"),
    [
        ("utf-8", "UTF-8", b"\xff"),
        ("utf-8-sig", "UTF-8", b"\xff"),
        ("gbk", "GBK/GB18030", b"\xff"),
        ("gbk", "GBK/GB18030", b"\x81\n"),  # a lead byte without its trail byte
    ],
)
@pytest.mark.parametrize("good_rows", [0, 1, 57, 3000])
def test_every_row_before_a_bad_byte_is_read_and_the_bad_row_named(
    tmp_path: Path, encoding: str, label: str, bad: bytes, good_rows: int
) -> None:
    # The reader decodes blocks of several KB ahead of the rows it hands out: rows that share a block with the
    # bad byte were lost, and the row was named from a guess. Any position in a block, any encoding.
    text = "行政相对人名称,统一社会信用代码\r\n" + GOOD_LINE * good_rows
    data = text.encode(encoding) + "上海".encode(encoding.replace("-sig", "")) + bad + b",1\r\n"
    data += GOOD_LINE.encode(encoding.replace("-sig", "")) * 20

    rows, error = read_until_rejected(write_bytes(tmp_path, data))

    assert error.problem_code == "encoding-error"
    assert error.details["row"] == good_rows + 2
    assert f"第 {good_rows + 2} 行有无法识别的字符（文件按 {label} 编码读取）" in error.reason
    assert [number for number, _ in rows] == list(range(2, good_rows + 2))
    assert all(cells == ["北京某某科技有限公司", "91110000MA01ABCD2X"] for _, cells in rows)


@pytest.mark.parametrize(
    ("text", "bad_row", "last"),
    [
        # Old Mac line ends (a lone CR) were read as one line and the bad byte put in row 1.
        ("名称,代码\r甲,1\r乙,2\r", 4, (3, ["乙", "2"])),
        # A quoted cell over two lines is one row; the bad byte is in the second line of the next such row.
        ('名称,代码\n"甲\n公司",1\n"乙\n', 3, (2, ["甲\n公司", "1"])),
        # Blank rows count, as in the report.
        ("名称,代码\n\n北京某某科技有限公司,1\n\n\n", 6, (3, ["北京某某科技有限公司", "1"])),
    ],
)
def test_the_bad_row_is_counted_as_the_report_counts_rows(
    tmp_path: Path, text: str, bad_row: int, last: tuple[int, list[str]]
) -> None:
    data = text.encode() + "公司".encode() + b"\xff\xfe,3\n" + "丙,4\n".encode() * 5

    rows, error = read_until_rejected(write_bytes(tmp_path, data))

    assert error.details["row"] == bad_row
    assert rows[-1] == last


def test_a_character_cut_at_the_end_of_the_file_names_the_last_row(tmp_path: Path) -> None:
    data = ("名称,代码\n" + "甲,1\n" * 10 + "乙,").encode("gbk") + "公".encode("gbk")[:1]

    rows, error = read_until_rejected(write_bytes(tmp_path, data))

    assert (error.problem_code, error.details["row"], len(rows)) == ("encoding-error", 12, 10)


def test_a_bad_byte_in_the_header_rejects_the_file_at_row_1(tmp_path: Path) -> None:
    data = "名称,代码".encode() + b"\xff\r\n" + GOOD_LINE.encode() * 5000

    error = rejected(write_bytes(tmp_path, data))

    assert (error.problem_code, error.details["row"]) == ("encoding-error", 1)


def test_character_cut_by_the_sample_boundary_is_still_utf8(tmp_path: Path) -> None:
    data = b"name,note\n"
    lines, rest = divmod(SAMPLE_BYTES - 1 - len(data), 100)
    data += (b"a," + b"x" * 97 + b"\n") * lines + b"a," + b"x" * (rest - 3) + b"\n" + "中,文\n".encode()
    assert data[SAMPLE_BYTES - 1 : SAMPLE_BYTES + 2] == "中".encode()  # the sample ends mid-character

    source, rows = read(write_bytes(tmp_path, data))

    assert source.encoding == "utf-8"
    assert rows[-1] == (lines + 3, ["中", "文"])


# --- CSV structure -----------------------------------------------------------------------------


def test_tab_delimited_when_header_has_tabs_and_no_commas(tmp_path: Path) -> None:
    source, rows = read(write_text(tmp_path, "名称\t金额\n甲,乙\t0.2\n"))

    assert source.headers == ["名称", "金额"]
    assert rows == [(2, ["甲,乙", "0.2"])]


def test_quoted_newline_and_comma_stay_in_one_cell_and_one_row(tmp_path: Path) -> None:
    text = '名称,违法事实\n甲,"第一行\n第二行, 含逗号"\n乙,"他说""是"""\n'

    _, rows = read(write_text(tmp_path, text))

    assert rows == [(2, ["甲", "第一行\n第二行, 含逗号"]), (3, ["乙", '他说"是"'])]


def test_blank_rows_are_skipped_but_counted(tmp_path: Path) -> None:
    text = "\n名称,代码\n\n甲,1\n , \n,,\n乙,2\n"

    source, rows = read(write_text(tmp_path, text))

    assert source.headers == ["名称", "代码"]
    assert rows == [(4, ["甲", "1"]), (7, ["乙", "2"])]


def test_short_rows_are_padded_and_long_rows_keep_their_extra_cells(tmp_path: Path) -> None:
    text = "a,b,c,,\n1\n1,2,3,4\n1,2,3,,\n"

    source, rows = read(write_text(tmp_path, text))

    assert source.headers == ["a", "b", "c"]  # trailing delimiters are not columns
    assert rows == [(2, ["1", "", ""]), (3, ["1", "2", "3", "4"]), (4, ["1", "2", "3"])]


@pytest.mark.parametrize("header", ["名称,代码,名称", " 名称 ,代码,名称"])
def test_duplicate_column_names_the_column(tmp_path: Path, header: str) -> None:
    error = rejected(write_text(tmp_path, header + "\n甲,1,乙\n"))

    assert error.problem_code == "duplicate-column"
    assert "“名称”" in error.reason


def test_unclosed_quote_is_reported_with_its_row(tmp_path: Path) -> None:
    text = '名称,备注\n甲,1\n乙,"未闭合\n' + "丙,3\n" * 70_000

    error = rejected(write_text(tmp_path, text))

    assert error.problem_code == "malformed-csv"
    assert "第 3 行" in error.reason


@pytest.mark.parametrize(
    "data", [b"", b"\n\n \r\n", b",,,\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf\n"]
)
def test_empty_file_or_no_header(tmp_path: Path, data: bytes) -> None:
    assert rejected(write_bytes(tmp_path, data)).problem_code == "empty-file"


def test_header_only_gives_no_rows(tmp_path: Path) -> None:
    source, rows = read(write_text(tmp_path, "名称,代码\n\n"))

    assert source.headers == ["名称", "代码"]
    assert rows == []


def test_file_too_large_states_the_limit(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"a\n" + b"1\n" * MB)

    error = rejected(path, max_bytes=2 * MB)

    assert error.problem_code == "file-too-large"
    assert "2 MB" in error.reason
    with pytest.raises(FileRejected, match="2 MB"), open_table_bytes(path.read_bytes(), max_bytes=2 * MB):
        pass


def test_bytes_helper_reads_like_a_file(tmp_path: Path) -> None:
    with open_table_bytes("名称\n甲\n".encode("gbk"), max_bytes=LIMIT) as source:
        assert (source.encoding, source.headers, list(source.rows)) == ("gb18030", ["名称"], [(2, ["甲"])])


# --- format detection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "hint"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "无法识别"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "无法识别"),
        (b"name,code\nabc,\x00\x01\n", "无法识别"),
        ("名称,代码\n".encode("utf-16"), "UTF-16"),
        (b'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><table><tr><td>1</td></tr>', "网页"),
        (b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">', "网页"),
    ],
)
def test_non_tables_are_unsupported(tmp_path: Path, data: bytes, hint: str) -> None:
    error = rejected(write_bytes(tmp_path, data, "report.xls"))

    assert error.problem_code == "unsupported-format"
    assert hint in error.reason


def test_unsupported_message_names_the_file(tmp_path: Path) -> None:
    error = rejected(write_bytes(tmp_path, b"%PDF-1.4\n"), filename="处罚决定.pdf")

    assert "“处罚决定.pdf”" in error.reason


def test_password_protected_xlsx_is_not_called_legacy_xls(tmp_path: Path) -> None:
    # The stream name lands across the reader's chunk boundary on purpose.
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".ljust(SAMPLE_BYTES - 5, b"\xff")
    ole2 += "EncryptedPackage".encode("utf-16-le") + bytes(512)

    assert rejected(write_bytes(tmp_path, ole2, "data.xlsx")).problem_code == "file-encrypted"


def test_zip_without_a_workbook_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")

    assert rejected(path).problem_code == "unsupported-format"


@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_truncated_or_corrupt_zip_is_unsupported(tmp_path: Path, keep: float) -> None:
    data = write_xlsx(tmp_path / "full.xlsx", {"表": [["名称"], ["甲"]]}).read_bytes()

    error = rejected(write_bytes(tmp_path, data[: int(len(data) * keep)], "cut.xlsx"))

    assert error.problem_code == "unsupported-format"


def test_damaged_workbook_xml_is_unsupported(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "data.xlsx", {"表": [["名称"], ["甲"]]})
    rewrite_zip(path, replace={"xl/workbook.xml": b"<not-a-workbook"})

    assert rejected(path).problem_code == "unsupported-format"


def test_xlsx_content_wins_over_a_csv_name(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "data.csv", {"表": [["名称", "代码"], ["甲", 1]]})

    source, rows = read(path)

    assert (source.format, source.encoding) == ("xlsx", None)
    assert rows == [(2, ["甲", "1"])]


# --- XLSX --------------------------------------------------------------------------------------


def test_xlsx_cell_values_become_text(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "data.xlsx",
        {
            "处罚": [
                [" 名称 ", "日期", "时间", "整数", "金额", "比例", "小数", "公式", "空", "布尔"],
                [
                    " 甲公司 ",
                    date(2024, 1, 2),
                    datetime(2024, 1, 2, 9, 30, 5),
                    42,
                    2000.0,
                    0.1 + 0.2,
                    1e-7,
                    "=1+1",
                    None,
                    True,
                ],
                [],
                ["乙", datetime(2024, 3, 4), clock(8, 0), -7, 0.2, -0.0, 12345.678, "=A2", "", False],
            ]
        },
    )

    source, rows = read(path)

    assert source.headers == ["名称", "日期", "时间", "整数", "金额", "比例", "小数", "公式", "空", "布尔"]
    assert rows == [
        (2, ["甲公司", "2024-01-02", "2024-01-02 09:30:05", "42", "2000", "0.3", "0.0000001", "", "", "是"]),
        # row 3 is blank and skipped, but counted
        (4, ["乙", "2024-03-04", "08:00:00", "-7", "0.2", "0", "12345.678", "", "", "否"]),
    ]


def test_xlsx_uses_first_visible_non_empty_sheet(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "data.xlsx",
        {"说明": [["内部用"], ["x"]], "空": [], "数据": [[], ["名称"], ["甲"]]},
        hidden=("说明",),
    )

    source, rows = read(path)

    assert source.headers == ["名称"]
    assert rows == [(3, ["甲"])]


def test_xlsx_wrong_dimension_does_not_drop_rows(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "data.xlsx", {"表": [["名称"], ["甲"], ["乙"], ["丙"]]})
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:A4"' in sheet
    rewrite_zip(path, replace={"xl/worksheets/sheet1.xml": sheet.replace(b"A1:A4", b"A1")})

    _, rows = read(path)

    assert [cells for _, cells in rows] == [["甲"], ["乙"], ["丙"]]


def test_xlsx_with_too_much_shared_text_is_refused_before_loading(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "data.xlsx", {"表": [["名称"], ["甲"]]})
    rewrite_zip(path, add={"xl/sharedStrings.xml": b"<sst>" + b"<si><t>x</t></si>" * 40_000 + b"</sst>"})

    error = rejected(path, max_xlsx_shared_strings=MB // 2)

    assert error.problem_code == "file-too-large"
    assert "0.5 MB" in error.reason
    assert "CSV" in error.reason
    assert read(path)[1] == [(2, ["甲"])]  # below the default limit the unused part is harmless


def test_xlsx_duplicate_header_and_empty_workbook(tmp_path: Path) -> None:
    duplicate = write_xlsx(tmp_path / "dup.xlsx", {"表": [["名称", "名称"], ["甲", "乙"]]})
    empty = write_xlsx(tmp_path / "empty.xlsx", {"表": [], "表2": [[None, " "]]})

    assert rejected(duplicate).problem_code == "duplicate-column"
    assert rejected(empty).problem_code == "empty-file"


def test_path_tricks_in_member_names_are_harmless(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    path = write_xlsx(work / "data.xlsx", {"表": [["名称"], ["甲"]]})
    rewrite_zip(path, add={"../evil.txt": b"owned", "/abs/evil.txt": b"owned"})

    _, rows = read(path)

    assert rows == [(2, ["甲"])]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data.xlsx", "work"]


# --- zip bombs ---------------------------------------------------------------------------------


def bomb(path: Path, member_size: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        write_zeros_member(archive, "xl/worksheets/sheet1.xml", member_size)
    return path


def test_high_ratio_member_is_suspicious(tmp_path: Path) -> None:
    path = bomb(tmp_path / "bomb.xlsx", 300 * MB)
    assert path.stat().st_size < 2 * MB

    error = rejected(path)

    assert error.problem_code == "archive-suspicious"
    assert error.reason == "压缩文件内容异常（解压后过大），已拒绝"


def test_total_uncompressed_size_is_limited(tmp_path: Path) -> None:
    # 8 MB is below the ratio rule's 10 MB floor, so only the total limit can catch it.
    path = bomb(tmp_path / "big.xlsx", 8 * MB)

    assert rejected(path, max_xlsx_uncompressed=4 * MB).problem_code == "archive-suspicious"


def test_member_count_is_limited(tmp_path: Path) -> None:
    path = tmp_path / "many.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for number in range(10_000):
            archive.writestr(f"m/{number}", b"")

    assert rejected(path).problem_code == "archive-suspicious"


# --- resources and speed -----------------------------------------------------------------------


def open_descriptors(path: Path) -> int:
    """Descriptors this process holds on the file (other threads of the test process open and close their own)."""
    held = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == str(path.resolve()):
                held += 1
        except OSError:  # closed between the listing and the look
            continue
    return held


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to count open files")
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_files_are_closed_when_the_consumer_stops_early(tmp_path: Path, kind: str) -> None:
    if kind == "csv":
        path = write_text(tmp_path, "名称\n" + "甲\n" * 10_000)
    else:
        path = write_xlsx(tmp_path / "data.xlsx", {"表": [["名称"], *[["甲"]] * 1000]})
    assert open_descriptors(path) == 0

    with open_table(path, max_bytes=LIMIT) as source:
        next(source.rows)
        assert open_descriptors(path) > 0

    def fail_mid_read() -> None:
        with open_table(path, max_bytes=LIMIT) as source:
            next(source.rows)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_mid_read()

    assert open_descriptors(path) == 0


def test_large_csv_streams_in_bounded_memory(tmp_path: Path) -> None:
    rows, columns = 200_000, 30
    path = tmp_path / "large.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([f"列{column}" for column in range(columns)])
        for row in range(rows):
            writer.writerow(
                [f" 北京某某科技有限公司{row} ", "91110000MA01ABCD2X", "2024-01-02", "0.2"]
                + [f"值{row}-{column}" for column in range(columns - 4)]
            )

    started = time.perf_counter()
    with open_table(path, max_bytes=1024 * MB) as source:
        count = sum(1 for _ in source.rows)
    elapsed = time.perf_counter() - started

    tracemalloc.start()
    try:
        with open_table(path, max_bytes=1024 * MB) as source:
            for _ in source.rows:
                pass
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    size = path.stat().st_size
    print(
        f"\n{count:,} rows x {columns} columns ({size / MB:.0f} MB): {count / elapsed:,.0f} rows/s, "
        f"{elapsed / count * 1e6:.2f} us/row, traced peak {peak / MB:.1f} MB"
    )
    assert count == rows
    assert peak < size / 10  # streaming: the peak is a buffer, not the file


def test_bytes_helper_reads_xlsx() -> None:
    buffer = io.BytesIO()
    workbook = openpyxl.Workbook()
    workbook.active.append(["名称"])
    workbook.active.append(["甲"])
    workbook.save(buffer)

    with open_table_bytes(buffer.getvalue(), max_bytes=LIMIT, filename="x.xlsx") as source:
        assert (source.format, list(source.rows)) == ("xlsx", [(2, ["甲"])])


# --- the file's pages, read once, are not kept in the operating system's cache -------------------


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise here")
def test_a_large_csv_is_dropped_from_the_cache_behind_the_rows_read(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from xinyong.records import readers

    hints: list[tuple[int, int, int]] = []
    monkeypatch.setattr(readers, "FORGET_EVERY_BYTES", 256 * 1024)
    monkeypatch.setattr(readers.os, "posix_fadvise", lambda fd, offset, length, advice: hints.append(
        (offset, length, advice)))  # fmt: skip
    rows = [[f"企业{n:06d}", f"9133{n:014d}", "罚款"] for n in range(40_000)]
    path = write_text(tmp_path, "名称,代码,类别\n" + "".join(",".join(r) + "\n" for r in rows))
    size = path.stat().st_size
    assert size > 4 * readers.FORGET_EVERY_BYTES
    with open_table(path, max_bytes=LIMIT) as source:
        read = [cells for _, cells in source.rows]
    assert read == rows  # the rows are unchanged
    assert hints, "nothing was dropped"
    assert all(offset == 0 and advice == os.POSIX_FADV_DONTNEED for offset, _, advice in hints)
    lengths = [length for _, length, _ in hints]
    assert lengths == sorted(lengths)
    assert lengths[0] >= readers.FORGET_EVERY_BYTES
    assert lengths[-1] <= size


def test_a_small_csv_or_one_in_memory_is_not_dropped(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from xinyong.records import readers

    hints: list[int] = []
    monkeypatch.setattr(readers.os, "posix_fadvise", lambda *args: hints.append(1), raising=False)
    text = "名称,代码\n" + "企业,91330000000000000X\n" * 10_000
    with open_table(write_text(tmp_path, text), max_bytes=LIMIT) as source:
        assert sum(1 for _ in source.rows) == 10_000
    with open_table_bytes(text.encode(), max_bytes=LIMIT) as source:
        assert sum(1 for _ in source.rows) == 10_000
    assert readers.forget_read(io.BytesIO(b"x" * 100), every=0) == 0
    assert hints == []
