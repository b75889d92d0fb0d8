"""Damaged and hostile files end to end: what `xinyong records import` and the console's upload tell the department,
and the state each leaves its batch in (failed with nothing stored, or incomplete with the rows before the break)."""

from __future__ import annotations

import json
import re
import time
import zipfile

from sqlalchemy import func, select
from tests.factories.records import DEPT_CODE, license_row, penalty_row, write_rows
from tests.fixtures.console import (  # noqa: F401  (console fixtures: two departments, one account per role)
    accounts,
    app,
    client,
    console_settings,
    fast_password_hashing,
    sign_in,
)
from tests.functional.admin.test_console import _flash, _upload
from tests.functional.records.conftest import Importer
from tests.functional.records.helpers import warnings, write_xlsx
from tests.functional.records.test_cli import _import, cli, registered  # noqa: F401  (the command line's fixtures)
from tests.functional.records.test_office_formats import write_ods, write_xls

from xinyong.cli import app as cli_app
from xinyong.commandline import session_factory
from xinyong.db import session_scope
from xinyong.records.models import Batch, Record

ODS_DAMAGED = "OpenDocument（.ods）文件已损坏"


def _stored(document: dict) -> tuple[str, int]:  # type: ignore[type-arg]
    """The batch's status and the records stored, as the command's own database holds them."""
    with session_scope(session_factory()) as session:
        found = session.get(Batch, document["batch_id"])
        assert found is not None
        return found.status.value, session.scalar(select(func.count()).select_from(Record)) or 0


# --- 1. a damaged .ods -------------------------------------------------------------------------


def test_a_damaged_ods_fails_its_batch_with_a_clear_message(registered, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    rows = [penalty_row(), penalty_row()]
    with zipfile.ZipFile(write_ods(tmp_path / "good.ods", rows)) as source:
        members = [(info.filename, source.read(info)) for info in source.infolist()]
    path = tmp_path / "处罚.ods"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as target:  # stored: its bytes can be changed in place
        for name, data in members:
            target.writestr(name, data)
    data = path.read_bytes()
    at = data.index("安吉县".encode())
    path.write_bytes(data[:at] + "湖州市".encode() + data[at + 9 :])  # one character changed: the CRC fails

    result = _import(registered, path, "--json")

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert [(e["row"], e["code"]) for e in document["errors"]] == [(0, "unsupported-format")]
    assert ODS_DAMAGED in document["errors"][0]["message"]
    assert _stored(document) == ("failed", 0)
    plain = _import(registered, path)
    assert plain.exit_code == 2
    assert "文件未导入" in plain.stdout
    assert "Traceback" not in plain.output


# --- 2. a quote left open in a CSV -------------------------------------------------------------


def test_a_quote_left_open_stops_the_import_at_its_row(registered, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    rows = [penalty_row() for _ in range(4)]
    data = write_rows(tmp_path / "rows.csv", rows).read_bytes()
    name = rows[1]["CF_XDR_MC"].encode()
    path = tmp_path / "quote.csv"
    path.write_bytes(data.replace(name, b'"' + name, 1))  # row 3's first cell opens a quote and never closes it

    result = _import(registered, path, "--json")

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert (document["status"], document["created"], document["rejected"]) == ("incomplete", 1, 0)
    assert [(e["row"], e["code"]) for e in document["errors"]] == [(3, "malformed-csv")]
    assert "第 3 行格式有误（可能是引号未配对" in document["errors"][0]["message"]
    assert _stored(document) == ("incomplete", 1)
    plain = _import(registered, path)
    assert plain.exit_code == 2
    assert "导入未完成" in plain.stdout
    assert "（malformed-csv）" in plain.stdout
    assert "共 1 行" in plain.stdout


# --- 3. an XLSX row numbered in the billions -----------------------------------------------------


def test_an_xlsx_row_beyond_excels_last_row_is_refused_at_once(registered, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    path = write_xlsx(tmp_path / "处罚.xlsx", [penalty_row(), penalty_row()])
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = members["xl/worksheets/sheet1.xml"]
    sheet = re.sub(rb'(<row r="|<c r="[A-Z]{1,3})3"', rb'\g<1>999999999999"', sheet)
    assert sheet.count(b"999999999999") > 10
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in {**members, "xl/worksheets/sheet1.xml": sheet}.items():
            archive.writestr(name, data)
    assert path.stat().st_size < 10_000

    started = time.perf_counter()
    result = _import(registered, path, "--json")
    elapsed = time.perf_counter() - started

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert [e["code"] for e in document["errors"]] == ["unsupported-format"]
    assert "行号超过 1,048,576" in document["errors"][0]["message"]
    assert _stored(document) == ("incomplete", 1)  # the row before it, as for any sheet damaged midway
    assert elapsed < 10


# --- 4. an .ods of empty repeats before a data row ---------------------------------------------


def test_an_ods_of_a_million_empty_rows_before_a_data_row_is_refused(registered, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    path = write_ods(tmp_path / "处罚.ods", [{f"列{n}": "x" for n in range(95)}])  # a header and a data row
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    empty = (b'<table:table-row table:number-rows-repeated="1000000">'
             b'<table:table-cell table:number-columns-repeated="95"/></table:table-row>')  # fmt: skip
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            if info.filename == "content.xml":
                data = data.replace(b"</table:table-row>", b"</table:table-row>" + empty, 1)
            archive.writestr(info, data)
    assert path.stat().st_size < 2_000

    started = time.perf_counter()
    result = _import(registered, path, "--json")

    assert time.perf_counter() - started < 10
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert [e["code"] for e in document["errors"]] == ["archive-suspicious"]
    assert "空行空列过多" in document["errors"][0]["message"]
    assert _stored(document) == ("failed", 0)


# --- 5. a control character in a value kept with a warning -------------------------------------


def test_a_nul_in_a_kept_enum_value_is_cleaned_like_text(registered, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    rows = [license_row(XK_ZT="其他\x00状态"), license_row(XK_ZT="有效\x00")]
    path = write_xls(tmp_path / "许可.xls", rows)

    result = registered.invoke(cli_app, ["records", "import", str(path), "--type", "license", "--department", DEPT_CODE,
                                         "--reported-on", "2025-10-15", "--reason", "迁移原系统报送记录", "--json"])  # fmt: skip

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["status"], document["created"]) == ("completed", 2)
    assert [(w["row"], w["column"], w["code"]) for w in document["warnings"]] == [(2, "XK_ZT", "invalid-value")]
    with session_scope(session_factory()) as session:
        stored = dict(session.execute(select(Record.doc_no, Record.payload)).all())
    assert stored[rows[0]["XK_WSH"]]["XK_ZT"] == "其他状态"
    assert stored[rows[1]["XK_WSH"]]["XK_ZT"] == "1"  # 有效, once cleaned


def test_a_nul_in_a_kept_enum_value_sent_as_json_is_cleaned(db_session, import_json: Importer) -> None:
    row = license_row(XK_ZT="其他\x00状态\x07")

    result = import_json([row], record_type="license")

    assert (result.status, result.created) == ("completed", 1)
    assert warnings(db_session, result.batch_id) == [(1, "XK_ZT", "invalid-value")]
    payload = db_session.scalars(select(Record.payload).where(Record.batch_id == result.batch_id)).one()
    assert payload["XK_ZT"] == "其他状态"
    assert "\x00" not in json.dumps(payload, ensure_ascii=False)


# --- 6. the console's upload of an OLE2 container named .xlsx ------------------------------------


def test_a_password_protected_xlsx_upload_gets_the_readers_message(sign_in, accounts, db_session):  # type: ignore[no-untyped-def]  # noqa: F811
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".ljust(4096, b"\xff") + "EncryptedPackage".encode("utf-16-le")
    browser = sign_in(accounts.users["operator"])

    response = _upload(browser, "十月处罚.xlsx", ole2 + bytes(512))

    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/batches/")
    page = _flash(browser, response)
    assert "文件未能导入：文件设置了打开密码，请取消密码并另存为 .xlsx 后再上传" in page
    assert "不是 XLSX" not in page
    found = db_session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    db_session.refresh(found)
    assert (found.status.value, found.rows_read) == ("failed", 0)


def test_an_xls_renamed_xlsx_is_read_by_its_content(sign_in, accounts, db_session, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    rows = [penalty_row(), penalty_row()]
    content = write_xls(tmp_path / "处罚.xls", rows).read_bytes()
    browser = sign_in(accounts.users["operator"])

    response = _upload(browser, "处罚.xlsx", content)

    assert response.status_code == 303
    assert "已导入 2 行：新增 2" in _flash(browser, response)
    found = db_session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    db_session.refresh(found)
    assert (found.status.value, found.file_format, found.created) == ("completed", "xls", 2)


# --- 7. a web page named .xls ------------------------------------------------------------------


def test_a_saved_web_page_named_xls_gets_the_web_page_advice(registered, tmp_path):  # type: ignore[no-untyped-def]  # noqa: F811
    path = tmp_path / "处罚.xls"
    path.write_bytes(b"<!-- saved from url=(0014)about:internet -->\r\n<html>\r\n<body><table><tr><td>CF_WSH</td>"
                     b"</tr></table></body></html>\r\n")  # fmt: skip

    result = _import(registered, path, "--json")

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert [e["code"] for e in document["errors"]] == ["unsupported-format"]
    assert "文件内容是网页或 XML 格式" in document["errors"][0]["message"]
    assert "另存为 .xlsx" in document["errors"][0]["message"]
    assert _stored(document) == ("failed", 0)

