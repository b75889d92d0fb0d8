"""Streaming readers for the tables departments upload (CSV, Excel/WPS "Unicode text", XLSX, XLS, ODS).

The format is decided by the file's content, never by its name. Rows are produced lazily so a
million-row file is read in bounded memory.

Row numbers are the ones the department sees in Excel: the header is row 1 (or later, if blank rows
precede it), and blank rows that are skipped still count. In a CSV a row number counts *records*, so
a quoted cell that spans several physical lines is still one row, exactly as Excel shows it.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import struct
import xml.parsers.expat
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from xinyong.errors import FileRejected

if TYPE_CHECKING:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

SAMPLE_BYTES = 1024 * 1024
MAX_ARCHIVE_MEMBERS = 10_000
MAX_MEMBER_RATIO = 200
RATIO_CHECK_MIN_BYTES = 10 * 1024 * 1024
# A UTF-8 file whose sample already held this many bytes of valid multibyte text before the first bad
# byte is a damaged UTF-8 file, not GBK: GBK text breaks UTF-8 decoding within a character or two.
DAMAGED_UTF8_MIN_EXTRA_BYTES = 16

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# Containers and images departments upload by mistake; plain text never starts like this.
BINARY_MAGICS = (
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"PK\x05\x06",
    b"PK\x07\x08",
)
# A web page or XML file saved under a spreadsheet's name (systems export HTML tables as ".xls"): its start, after any
# byte-order mark, white space and comments (a saved page's "<!-- saved from url=… -->"), in the first 64 KB.
MARKUP_HEAD_CHARS = 64 * 1024
_MARKUP_START = re.compile(
    r"(?:\s|<!--.*?-->)*+<(?:!doctype|\?xml|html|head|body|meta|style|link|script|title|table|tr|td|th|div)[\s/>]",
    re.IGNORECASE | re.DOTALL,
)
# Excel's "single file web page" (.mht) and other MIME archives: mail-style header lines, one of them MIME-Version.
_MIME_START = re.compile(r"(?:[!-9;-~]+:[^\r\n]*\r?\n)*mime-version:", re.IGNORECASE)
# Password-protected .xlsx files are OLE2 containers holding a stream with this name.
ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
ENCRYPTED_MESSAGE = "文件设置了打开密码，请取消密码并另存为 .xlsx 后再上传"
# Excel's (and LibreOffice's) last row: an XLSX row numbered beyond it is damage, or a file built to make the reader
# count empty rows up to its number.
MAX_SHEET_ROWS = 1_048_576
MAX_SHEET_COLUMNS = 16_384  # calamine drops an .ods cell beyond it without a word
# Excel 97–2003 sheets hold at most 65,536 rows; a larger .xls file is padding, pictures or something else.
MAX_XLS_BYTES = 64 * 1024 * 1024
MAX_ODS_REPEAT = 10_000
# What calamine expands of an .ods, in cells: each sheet up to its last cell with content, every empty row and cell
# before it included (about 70 bytes of memory each), and the cells of each row before its trailing empty ones.
MAX_ODS_CELLS = 5_000_000
# The spaces that <text:s text:c="n"/> elements declare, all cells together; and the bytes of content that repeated
# cells and rows with content copy (a long text repeated ten thousand times).
MAX_ODS_SPACES = 16 * 1024**2
MAX_ODS_COPIED_BYTES = 64 * 1024**2
EOCD_MAGIC = b"PK\x05\x06"
EOCD_SIZE = 22
EOCD_SEARCH = EOCD_SIZE + 0xFFFF  # the end record may be followed by a comment of up to 64 KiB


@dataclass
class TableSource:
    format: str  # "csv" | "xlsx" | "xls" | "ods"
    encoding: str | None  # "utf-8", "utf-8-sig", "gb18030" or "utf-16" for CSV; None for spreadsheets
    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]  # (row number, cells); cells stripped, "" when empty


@contextmanager
def open_table(
    path: Path,
    *,
    max_bytes: int,
    max_xlsx_uncompressed: int = 2 * 1024**3,
    max_xlsx_shared_strings: int = 32 * 1024**2,
    filename: str | None = None,
) -> Iterator[TableSource]:
    """Open an uploaded table; `filename` (the name the department gave it) is only used in messages.

    `max_xlsx_shared_strings` bounds xl/sharedStrings.xml, which openpyxl loads whole even in read-only
    mode at roughly six times its size in memory; larger workbooks are refused with advice to use CSV.
    """
    limits = _Limits(max_bytes, max_xlsx_uncompressed, max_xlsx_shared_strings)
    with path.open("rb") as raw, _open(raw, os.fstat(raw.fileno()).st_size, limits, filename) as source:
        yield source


def is_spreadsheet(path: Path) -> bool:
    """Whether open_table would read the file as a spreadsheet (XLSX, ODS, XLS), read whole rather than streamed."""
    with path.open("rb") as raw:
        return raw.read(len(OLE2_MAGIC)).startswith((ZIP_MAGIC, OLE2_MAGIC))


def is_xlsx_package(path: Path) -> bool:
    """Whether open_table would read the file as XLSX (a ZIP package), from its first bytes."""
    with path.open("rb") as raw:
        return raw.read(len(ZIP_MAGIC)) == ZIP_MAGIC


@contextmanager
def open_table_bytes(
    data: bytes,
    *,
    max_bytes: int,
    max_xlsx_uncompressed: int = 2 * 1024**3,
    max_xlsx_shared_strings: int = 32 * 1024**2,
    filename: str | None = None,
) -> Iterator[TableSource]:
    """Same as `open_table` for an upload already in memory (BytesIO shares the buffer, no copy)."""
    limits = _Limits(max_bytes, max_xlsx_uncompressed, max_xlsx_shared_strings)
    with _open(io.BytesIO(data), len(data), limits, filename) as source:
        yield source


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    max_xlsx_uncompressed: int
    max_xlsx_shared_strings: int


@contextmanager
def _open(raw: BinaryIO, size: int, limits: _Limits, filename: str | None) -> Iterator[TableSource]:
    if size == 0:
        raise FileRejected("empty-file", "文件为空")
    if size > limits.max_bytes:
        raise FileRejected(
            "file-too-large", f"文件超过 {_mb(limits.max_bytes)} MB 的大小上限，请拆分后分批上传"
        )
    head = raw.read(len(OLE2_MAGIC))
    raw.seek(0)
    if head.startswith(ZIP_MAGIC):
        if _check_archive(raw, limits, filename) == "ods":
            yield _open_sheet(raw, "ods", filename)
        else:
            with _open_xlsx(raw, limits, filename) as source:
                yield source
    elif head.startswith(OLE2_MAGIC):
        if _contains(raw, ENCRYPTED_PACKAGE):
            raise FileRejected("file-encrypted", ENCRYPTED_MESSAGE)
        if size > min(limits.max_bytes, MAX_XLS_BYTES):
            raise FileRejected("file-too-large", f"Excel 97–2003（.xls）文件超过 {_mb(MAX_XLS_BYTES)} MB，"
                                                 "请另存为 .xlsx 或 CSV（UTF-8）格式后上传")  # fmt: skip
        raw.seek(0)
        yield _open_sheet(raw, "xls", filename)
    elif head.startswith(BINARY_MAGICS):
        raise _unsupported(filename)
    else:
        yield _open_csv(raw, size, filename)


def _mb(size: int) -> str:
    return f"{size / 1024**2:g}"


def _unsupported(filename: str | None, reason: str = "") -> FileRejected:
    name = f"“{filename}”" if filename else ""
    return FileRejected("unsupported-format", reason or f"无法识别文件{name}的格式，请上传 .xlsx 或 CSV 文件")


def _contains(raw: BinaryIO, needle: bytes, chunk_size: int = SAMPLE_BYTES) -> bool:
    tail = b""
    while chunk := raw.read(chunk_size):
        if needle in tail + chunk:
            return True
        tail = chunk[-len(needle) :]
    return False


# --- CSV ---------------------------------------------------------------------------------------


def _open_csv(raw: BinaryIO, size: int, filename: str | None) -> TableSource:
    sample = raw.read(SAMPLE_BYTES)
    raw.seek(0)
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's and WPS's "Unicode 文本" export: UTF-16 with its byte-order mark, tab-separated.
        encoding = "utf-16"
        text = sample.decode(encoding, errors="replace")
        if _is_markup(text):
            raise _markup(filename)
        header_line = next((line for line in text.splitlines() if line.strip()), "")
        if "\t" not in header_line and len(header_line.lstrip("\ufeff")) and "," in header_line:
            raise _unsupported(filename, "UTF-16 编码的文本文件须以制表符分隔（Excel“Unicode 文本”格式），"
                                         "或请另存为 UTF-8 编码的 CSV 后再上传")  # fmt: skip
        headers, rows = _split_header(_csv_records(raw, encoding, "\t"))
        return TableSource("csv", encoding, headers, rows)
    if b"\x00" in sample:
        raise _unsupported(filename)
    encoding = _detect_encoding(sample, complete=size <= SAMPLE_BYTES)
    text = sample.decode(encoding, errors="replace")
    if _is_markup(text):
        raise _markup(filename)
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in header_line and "," not in header_line else ","
    headers, rows = _split_header(_csv_records(raw, encoding, delimiter))
    return TableSource("csv", encoding, headers, rows)


def _is_markup(text: str) -> bool:
    head = text[:MARKUP_HEAD_CHARS].lstrip("\ufeff")
    return _MARKUP_START.match(head) is not None or _MIME_START.match(head.lstrip()) is not None


def _markup(filename: str | None) -> FileRejected:
    return _unsupported(
        filename, "文件内容是网页或 XML 格式（常见于系统导出的“.xls”文件），请用 Excel 打开后另存为 .xlsx 再上传"
    )


def _detect_encoding(sample: bytes, *, complete: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        # An incremental decoder keeps a character cut at the sample boundary pending instead of failing.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError as exc:
        valid = sample[: exc.start]
        if len(valid) - len(valid.decode("utf-8")) >= DAMAGED_UTF8_MIN_EXTRA_BYTES:
            # Reading it as GBK would store garbled names without any error; reject it by row instead.
            return "utf-8"
        return "gb18030"  # superset of GBK and GB2312
    return "utf-8"


FORGET_EVERY_BYTES = 64 * 1024**2  # a file read once is dropped from the operating system's cache by this much


def forget_read(handle: BinaryIO, done: int = 0, *, every: int | None = None) -> int:
    """Tells the operating system that the bytes of `handle`'s file before its position will not be read again,
    once `every` bytes more than `done` (what the last call dropped) have been read; returns what is dropped now.
    An import reads its file once, and a file of millions of rows would otherwise hold as much of the page cache
    as the database's indexes, which the import reads and writes at random. No-op without a file (an upload in
    memory) or where the hint does not exist."""
    if not hasattr(os, "posix_fadvise"):
        return done
    try:
        fd, position = handle.fileno(), handle.tell()
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return done
    if position - done < (FORGET_EVERY_BYTES if every is None else every):
        return done
    os.posix_fadvise(fd, 0, position, os.POSIX_FADV_DONTNEED)
    return position


def _csv_records(raw: BinaryIO, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    lines = chain(io.TextIOWrapper(raw, encoding=encoding, newline=""), (_END_MARK,))
    reader = csv.reader(lines, delimiter=delimiter)
    row = forgotten = 0
    try:
        for record in reader:
            row += 1
            if not row % 4096:
                forgotten = forget_read(raw, forgotten)
            if record and record[-1].endswith(_END_MARK):
                if record != [_END_MARK]:
                    # A quoted cell still open at the end of the file: the parser closed it there, every line after
                    # its opening quote swallowed into that cell.
                    raise _malformed(row)
                continue
            yield row, [cell.strip() for cell in record]
        return
    except UnicodeDecodeError:
        pass  # the rows before the bad byte are read again below, outside this handler
    except csv.Error as exc:  # in practice an unclosed quote swallowing the rest of the file
        raise _malformed(row + 1) from exc
    yield from _records_before_bad_byte(raw, encoding, delimiter, done=row)


ENCODING_LABELS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GBK/GB18030", "utf-16": "UTF-16（Unicode 文本）"}
# Ends the text read before a bad byte, so that the row holding that byte is always the last record parsed.
_BREAK_MARK = "\ufffd"
# Fed to the parser after a file's last line (a noncharacter, never in a department's text): a record of its own,
# unless a quoted cell is still open at the end of the file, which Python's parser then ends without an error.
_END_MARK = "\ufdd0"


def _malformed(row: int) -> FileRejected:
    return FileRejected(
        "malformed-csv", f"第 {row} 行格式有误（可能是引号未配对或单元格过长），请检查后重新上传", row=row
    )


def _records_before_bad_byte(
    raw: BinaryIO, encoding: str, delimiter: str, *, done: int
) -> Iterator[tuple[int, list[str]]]:
    """TextIOWrapper decodes a block ahead of the csv parser and fails on the whole block, so the rows just
    before a bad byte were never parsed. Find the bad byte, parse the text before it again (slower, but only on
    this path), yield the rows after the `done` ones, and name the row that holds the byte."""
    label = ENCODING_LABELS.get(encoding, encoding)
    offset = _bad_byte_offset(raw, encoding)
    row = done
    if offset is not None:
        raw.seek(0)
        text = io.TextIOWrapper(io.BufferedReader(_Prefix(raw, offset)), encoding=encoding, newline="")
        records = csv.reader(_marked_end(text), delimiter=delimiter)
        row = 0
        try:
            held = next(records, None)  # the last record is the broken row: each is yielded once the next is read
            for record in records:
                row += 1
                if row > done:
                    yield row, [cell.strip() for cell in held or ()]
                held = record
        except csv.Error as exc:
            raise _malformed(row + 1) from exc
    bad_row = row + 1
    raise FileRejected(
        "encoding-error",
        f"第 {bad_row} 行有无法识别的字符（文件按 {label} 编码读取），请将文件另存为 UTF-8 或 GBK 编码",
        row=bad_row,
    )


def _bad_byte_offset(raw: BinaryIO, encoding: str) -> int | None:
    """Where the first byte that cannot be decoded is, counted from the start of the file."""
    raw.seek(0)
    fed = 0
    if encoding == "utf-8-sig":  # its decoder counts positions after the BOM: skip the BOM here instead
        fed = len(raw.read(len(codecs.BOM_UTF8)))
        encoding = "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)()
    while True:
        block = raw.read(SAMPLE_BYTES)
        pending = len(decoder.getstate()[0])  # the start of a character cut by the previous block
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            return fed - pending + exc.start
        if not block:
            return None
        fed += len(block)


def _marked_end(lines: Iterable[str]) -> Iterator[str]:
    """The lines, with _BREAK_MARK after the last: on a line of its own if the last line is complete."""
    last = None
    for line in lines:
        if last is not None:
            yield last
        last = line
    if last is None or last.endswith(("\n", "\r")):
        if last is not None:
            yield last
        yield _BREAK_MARK
    else:
        yield last + _BREAK_MARK


class _Prefix(io.RawIOBase):
    """The first `size` bytes of a binary file, from where it stands."""

    def __init__(self, raw: BinaryIO, size: int) -> None:
        self._raw = raw
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        count = self._raw.readinto(memoryview(buffer)[: self._left])  # type: ignore[attr-defined]
        self._left -= count
        return count


# --- shared ------------------------------------------------------------------------------------


def _split_header(
    records: Iterator[tuple[int, list[str]]],
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    headers = _read_header(records)
    if headers is None:
        raise FileRejected("empty-file", "文件中没有表头行")
    return headers, _data_rows(records, len(headers))


def _read_header(records: Iterable[tuple[int, list[str]]]) -> list[str] | None:
    for _, cells in records:
        if any(cells):
            # A second BOM survives when a file was concatenated or an XLSX cell was pasted from one.
            headers = [cell.replace("\ufeff", "").strip() for cell in cells]
            while headers and not headers[-1]:  # trailing delimiters / formatted but empty columns
                headers.pop()
            if not headers:
                continue
            seen: set[str] = set()
            for name in headers:
                if name in seen and name:
                    raise FileRejected(
                        "duplicate-column", f"表头中“{name}”列出现了不止一次，请删除或重命名重复的列"
                    )
                seen.add(name)
            return headers
    return None


def _data_rows(records: Iterator[tuple[int, list[str]]], width: int) -> Iterator[tuple[int, list[str]]]:
    for row, cells in records:
        if not any(cells):
            continue
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        elif len(cells) > width and not any(cells[width:]):
            # Only non-empty extra cells are data the validator must report.
            del cells[width:]
        yield row, cells


# --- XLSX --------------------------------------------------------------------------------------


@contextmanager
def _open_xlsx(raw: BinaryIO, limits: _Limits, filename: str | None) -> Iterator[TableSource]:
    raw.seek(0)
    # Imported here: a fifth of a second that CSV imports (and the validation worker reading one) need not pay.
    import openpyxl

    try:
        # A file object, not the path: openpyxl would refuse a path whose name does not end in .xlsx.
        workbook = openpyxl.load_workbook(raw, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl fails with many exception types on a damaged package
        raise _unsupported(filename, "Excel 文件已损坏或格式不正确，请用 Excel 打开后重新保存再上传") from exc
    try:
        # Visible sheets first (stable sort): a hidden helper sheet is never the data.
        for sheet in sorted(workbook.worksheets, key=lambda ws: ws.sheet_state != "visible"):
            # Read-only mode trusts the sheet's declared dimension and silently drops rows beyond it;
            # some exporters write a wrong one.
            sheet.reset_dimensions()
            records = _xlsx_records(sheet)
            headers = _read_header(records)
            if headers is not None:
                yield TableSource("xlsx", None, headers, _data_rows(records, len(headers)))
                return
        raise FileRejected("empty-file", "文件中没有表头行")
    finally:
        workbook.close()


def _open_sheet(raw: BinaryIO, fmt: str, filename: str | None) -> TableSource:
    """An Excel 97–2003 (.xls) or OpenDocument (.ods) spreadsheet, through calamine (Rust): the first visible
    sheet with a header row. The file was bounded before (size, archive limits); calamine reads it whole."""
    # Imported here, like openpyxl: CSV imports need not pay for it.
    import python_calamine

    label = "Excel 97–2003（.xls）" if fmt == "xls" else "OpenDocument（.ods）"
    raw.seek(0)
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(raw)
        metadata = workbook.sheets_metadata
        visible = [m.name for m in metadata if m.visible == python_calamine.SheetVisibleEnum.Visible]
        order = visible + [m.name for m in metadata if m.name not in visible]
        for name in order:
            cells = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            records = ((number, [_cell_text(v) if v != "" else "" for v in values])
                       for number, values in enumerate(cells, start=1))  # fmt: skip
            headers = _read_header(records)
            if headers is not None:
                return TableSource(fmt, None, headers, _data_rows(records, len(headers)))
    except python_calamine.PasswordError as exc:
        raise FileRejected("file-encrypted", ENCRYPTED_MESSAGE) from exc
    except (python_calamine.CalamineError, ValueError, OSError) as exc:
        raise _unsupported(filename, f"{label}文件已损坏或格式不正确，请用 Excel 打开后另存为 .xlsx 再上传") from exc
    raise FileRejected("empty-file", "文件中没有表头行")


def _check_archive(raw: BinaryIO, limits: _Limits, filename: str | None) -> str:
    """Refuse zip bombs before anything is decompressed, and tell an XLSX workbook ("xlsx") from an
    OpenDocument spreadsheet ("ods"). Declared sizes can be trusted as upper bounds: zipfile stops at the
    declared size and fails the CRC check if a member lies."""
    suspicious = FileRejected("archive-suspicious", "压缩文件内容异常（解压后过大），已拒绝")
    if _central_directory_too_big(raw):
        raise suspicious
    raw.seek(0)
    try:
        with zipfile.ZipFile(raw) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise _unsupported(filename) from exc
    names = {member.filename for member in members}
    if "xl/workbook.xml" in names:
        kind = "xlsx"
    elif "content.xml" in names and _ods_mimetype(raw):
        kind = "ods"
    else:
        raise _unsupported(filename)
    if (
        len(members) > MAX_ARCHIVE_MEMBERS
        or sum(member.file_size for member in members) > limits.max_xlsx_uncompressed
        or any(
            member.file_size > max(RATIO_CHECK_MIN_BYTES, MAX_MEMBER_RATIO * member.compress_size)
            for member in members
        )
    ):
        raise suspicious
    # Excel, WPS and POI all use this part name; openpyxl holds the whole table in memory.
    if any(
        member.filename == "xl/sharedStrings.xml" and member.file_size > limits.max_xlsx_shared_strings
        for member in members
    ):
        raise FileRejected(
            "file-too-large",
            f"Excel 文件中的文字内容超过 {_mb(limits.max_xlsx_shared_strings)} MB，"
            "请另存为 CSV（UTF-8）格式后上传",
        )
    if kind == "ods":
        # The reader holds the whole sheet in memory: content.xml is bounded as xlsx's shared strings are.
        if any(m.filename == "content.xml" and m.file_size > limits.max_xlsx_shared_strings * 4 for m in members):
            raise FileRejected("file-too-large", f"表格内容超过 {_mb(limits.max_xlsx_shared_strings * 4)} MB，"
                                                 "请另存为 CSV（UTF-8）格式后上传")  # fmt: skip
        _check_ods_content(raw, filename)
    return kind


def _ods_mimetype(raw: BinaryIO) -> bool:
    raw.seek(0)
    try:
        with zipfile.ZipFile(raw) as archive:
            return archive.read("mimetype")[:80].strip() == ODS_MIMETYPE  # a few bytes: never a bomb
    except (KeyError, zipfile.BadZipFile, EOFError, ValueError, RuntimeError):
        return False


def _check_ods_content(raw: BinaryIO, filename: str | None) -> None:
    """An OpenDocument cell or row may say it repeats n times: a few bytes can declare a billion cells. calamine
    expands what lies before a sheet's last cell with content densely, empty repeats included, and drops what
    follows it (how every spreadsheet pads a sheet: LibreOffice repeats an empty row a million times at the end).
    content.xml is read through once, as calamine will read it, and refused before calamine expands anything: a
    cell or row with content repeated more than MAX_ODS_REPEAT times or copying more than MAX_ODS_COPIED_BYTES, a
    sheet whose content goes on past Excel's last row or column, more than MAX_ODS_CELLS cells expanded in all,
    more than MAX_ODS_SPACES spaces declared. A package that cannot be read through is damaged; one whose parts
    are encrypted has a password."""
    damaged = _unsupported(filename, "OpenDocument（.ods）文件已损坏或格式不正确，请用 Excel 打开后另存为 .xlsx 再上传")
    raw.seek(0)
    try:
        with zipfile.ZipFile(raw) as archive:
            if _ods_encrypted(archive):
                raise FileRejected("file-encrypted", ENCRYPTED_MESSAGE)
            parser = xml.parsers.expat.ParserCreate()  # no namespace processing: names as written, as calamine reads them
            extent = _OdsExtent(parser)
            parser.StartElementHandler = extent.start
            parser.EndElementHandler = extent.end
            parser.StartDoctypeDeclHandler = extent.doctype  # no DTD, so no entity of its own
            with archive.open("content.xml") as member:
                while block := member.read(SAMPLE_BYTES):
                    parser.Parse(block, False)
                parser.Parse(b"", True)
    except (
        zipfile.BadZipFile,  # a CRC that does not match, a damaged header
        zlib.error,
        NotImplementedError,  # an unknown compression method
        EOFError,
        OSError,
        RuntimeError,  # a member encrypted the ZIP way
        ValueError,
        KeyError,
        xml.parsers.expat.ExpatError,
    ) as exc:
        raise damaged from exc


def _ods_encrypted(archive: zipfile.ZipFile) -> bool:
    """Whether the package's parts are encrypted (an .ods saved with a password): its manifest says so."""
    try:
        member = archive.open("META-INF/manifest.xml")
    except KeyError:
        return False  # calamine refuses a package without a manifest
    with member:
        return _contains(member, b"manifest:encryption-data")  # type: ignore[arg-type]


_ODS_CELL_NAMES = frozenset({"table:table-cell", "table:covered-table-cell"})
# The attributes that give a cell a value for calamine (a string cell's value may also be its text).
_ODS_VALUE_ATTRIBUTES = frozenset({
    "office:value-type", "office:value", "office:string-value", "office:date-value", "office:time-value",
    "office:boolean-value", "table:formula",
})  # fmt: skip


class _OdsExtent:
    """What calamine expands of content.xml, counted element by element as expat reads it (see _check_ods_content).
    A cell with any value attribute counts as content, so the counts are never below calamine's."""

    def __init__(self, parser: xml.parsers.expat.XMLParserType) -> None:
        self.parser = parser
        self.cells = 0  # cells expanded: the sheets read, and the cells rows push while they are read
        self.copied = 0  # bytes of content copied by repeats (a long text in a repeated cell or row)
        self.spaces = 0
        self.rows = 0  # rows of the current sheet so far, repeats counted
        self.height = 0  # of the current sheet, up to its last row with content
        self.width = 0  # of the current sheet, up to its last cell with content in any row
        # Each open row: [repeats, where it starts, cells so far, cells up to its last with content, trailing empty
        # cells, bytes its repeated cells copy]. Each open repeated cell with content: (depth, repeats, where it starts).
        self.open_rows: list[list[int]] = []
        self.repeated_cells: list[tuple[int, int, int]] = []
        self.cell_depth = 0

    def doctype(self, *_: object) -> None:
        raise ValueError("a DTD in content.xml")

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name in _ODS_CELL_NAMES:
            self.cell_depth += 1
            repeats = _repeats(attributes.get("table:number-columns-repeated"))
            content = not _ODS_VALUE_ATTRIBUTES.isdisjoint(attributes)
            if content and repeats > 1:
                if repeats > MAX_ODS_REPEAT:
                    raise _too_many_repeats()
                self.repeated_cells.append((self.cell_depth, repeats, self.parser.CurrentByteIndex))
            if not self.open_rows:
                return
            row = self.open_rows[-1]
            # calamine holds an empty run back until the row's next cell, and drops the row's last one.
            self.cells += row[4] + (repeats if content else 0)
            if self.cells > MAX_ODS_CELLS:
                raise _too_many_cells()
            row[2] += repeats
            if content:
                row[3], row[4] = row[2], 0
            else:
                row[4] = repeats
        elif name == "table:table-row":
            repeats = _repeats(attributes.get("table:number-rows-repeated"))
            self.open_rows.append([repeats, self.parser.CurrentByteIndex, 0, 0, 0, 0])
        elif name == "table:table" and not self.open_rows:  # a table in a cell counts as rows of its sheet
            self._end_sheet()
        elif name == "text:s":
            self.spaces += _repeats(attributes.get("text:c"))
            if self.spaces > MAX_ODS_SPACES:
                raise _too_many_repeats()

    def end(self, name: str) -> None:
        if name in _ODS_CELL_NAMES:
            if self.repeated_cells and self.repeated_cells[-1][0] == self.cell_depth:
                _, repeats, begin = self.repeated_cells.pop()
                copied = (self.parser.CurrentByteIndex - begin) * (repeats - 1)
                self._add_copied(copied)
                if self.open_rows:
                    self.open_rows[-1][5] += copied
            self.cell_depth -= 1
        elif name == "table:table-row" and self.open_rows:
            repeats, begin, _, width, _, copied = self.open_rows.pop()
            if width:
                if repeats > MAX_ODS_REPEAT:
                    raise _too_many_repeats()
                if repeats > 1:
                    self._add_copied((self.parser.CurrentByteIndex - begin + copied) * (repeats - 1))
                self.height, self.width = self.rows + repeats, max(self.width, width)
                if (self.height > MAX_SHEET_ROWS or self.width > MAX_SHEET_COLUMNS
                        or self.cells + self.height * self.width > MAX_ODS_CELLS):  # fmt: skip
                    raise _too_many_cells()
            self.rows += repeats
        elif name == "table:table" and not self.open_rows:
            self._end_sheet()

    def _end_sheet(self) -> None:
        self.cells += self.height * self.width
        if self.cells > MAX_ODS_CELLS:
            raise _too_many_cells()
        self.rows = self.height = self.width = 0

    def _add_copied(self, size: int) -> None:
        self.copied += max(size, 0)
        if self.copied > MAX_ODS_COPIED_BYTES:
            raise _too_many_repeats()


def _repeats(value: str | None) -> int:
    if value is None:
        return 1
    if len(value) > 20:  # more digits than calamine's count can hold
        return MAX_ODS_CELLS + 1
    try:
        return max(int(value), 0)
    except ValueError:
        return 1  # calamine refuses the file


def _too_many_repeats() -> FileRejected:
    return FileRejected("archive-suspicious", "表格内容异常（重复的单元格过多），已拒绝")


def _too_many_cells() -> FileRejected:
    return FileRejected(
        "archive-suspicious",
        f"表格内容异常（有内容的单元格前空行空列过多，展开后超过 {MAX_ODS_CELLS:,} 个单元格，"
        f"或超出 {MAX_SHEET_ROWS:,} 行、{MAX_SHEET_COLUMNS:,} 列），"
        "已拒绝；请删除多余的空行空列，或另存为 CSV（UTF-8）格式后上传",
    )


def _central_directory_too_big(raw: BinaryIO) -> bool:
    """zipfile builds an object per entry before we could count them; read the end record first so an
    archive of millions of tiny entries cannot exhaust memory."""
    raw.seek(0, io.SEEK_END)
    raw.seek(max(0, raw.tell() - EOCD_SEARCH))
    tail = raw.read()
    at = tail.rfind(EOCD_MAGIC)
    if at < 0 or len(tail) < at + EOCD_SIZE:
        return False  # no end record: zipfile reports the damage
    entries, directory_size = struct.unpack_from("<HI", tail, at + 10)
    # Zip64 archives put 0xFFFF / 0xFFFFFFFF here; no spreadsheet needs them.
    return entries > MAX_ARCHIVE_MEMBERS or directory_size > MAX_ARCHIVE_MEMBERS * 1024


def _xlsx_records(sheet: ReadOnlyWorksheet) -> Iterator[tuple[int, list[str]]]:
    values_by_row = sheet.iter_rows(values_only=True)
    row = 0
    while True:
        try:
            values = next(values_by_row)
        except StopIteration:
            return
        except Exception as exc:  # damaged sheet XML surfaces only while streaming
            raise FileRejected(
                "unsupported-format",
                f"Excel 文件第 {row + 1} 行附近内容已损坏，请用 Excel 打开后重新保存再上传",
                row=row + 1,
            ) from exc
        row += 1
        if row > MAX_SHEET_ROWS:
            # openpyxl hands out an empty row for every row number the sheet leaves out, up to the next row's
            # number, which a damaged or hostile file may put in the billions: stopped at Excel's last row.
            raise FileRejected(
                "unsupported-format",
                f"Excel 文件中有行号超过 {MAX_SHEET_ROWS:,} 的行（超出 Excel 的行数上限），文件已损坏或格式不正确，"
                "请用 Excel 打开后重新保存再上传",
            )
        if not values:  # a blank row, or a row number the sheet leaves out: skipped, but counted
            continue
        # Inline fast path for the common cells; a call per cell would dominate the cost.
        yield (
            row,
            [
                "" if value is None else value.strip() if value.__class__ is str else _cell_text(value)
                for value in values
            ],
        )


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):  # before int: bool is an int
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="seconds")
    return str(value).strip()  # timedelta, and whatever a later openpyxl may return


def _float_text(value: float) -> str:
    if value == 0:
        return "0"  # also -0.0
    # Excel shows 15 significant digits while the XML may hold 17 (=0.1+0.2 is 0.30000000000000004);
    # Decimal's fixed-point format avoids exponents such as 1e-07.
    return format(Decimal(format(value, ".15g")), "f")
