"""Bulk extracts: what the requester's class may see, in CSV and Parquet, with a manifest that checks."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date

import pyarrow.parquet as pq
import pytest
from tests.factories import catalog as cf

from xinyong.actors import Permission
from xinyong.errors import InvalidInput
from xinyong.exchange import extracts
from xinyong.exchange.feed import TypeOutsideClass
from xinyong.records import service as records_service

TODAY = date(2025, 10, 20)
PUBLIC = frozenset({Permission.API_CHANGES_READ})
SHARED = frozenset({Permission.API_CHANGES_READ, Permission.API_CHANGES_SHARED})


def _run(db_session, feed_settings, tmp_path, permissions, fmt, types=None):  # type: ignore[no-untyped-def]
    return extracts.extract(db_session, tmp_path / f"x-{fmt}-{len(permissions)}", settings=feed_settings,
                            permissions=permissions, requester="test", export_format=fmt, types=types,
                            today=TODAY)  # fmt: skip


def test_csv_and_parquet_extracts_hold_what_the_class_may_see(db_session, load, market, feed_settings,
                                                              tmp_path) -> None:  # fmt: skip
    rows = [cf.enforcement_row() for _ in range(4)]
    load(rows, "enforcement")
    load([cf.arrears_row() for _ in range(2)], "arrears")
    records_service.revoke_record(db_session, department=market, record_type="enforcement", doc_no=rows[0]["QZ_JDSH"],
                                  reason="决定被依法撤销", actor="test")  # fmt: skip
    db_session.commit()

    public = _run(db_session, feed_settings, tmp_path, PUBLIC, "csv")
    assert [(f["path"], f["rows"]) for f in public.files if f["type"] == "enforcement"] == [("enforcement.csv", 3)]
    assert all(f["type"] != "arrears" for f in public.files)
    manifest = json.loads((public.directory / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        data = (public.directory / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    with (public.directory / "enforcement.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [r["决定文书号"] for r in table] == [r["QZ_JDSH"] for r in rows[1:]]  # the revoked one is not public
    text = (public.directory / "enforcement.csv").read_text(encoding="utf-8")
    for row in rows:
        assert row["QZ_FZRZJHM"] not in text

    shared = _run(db_session, feed_settings, tmp_path, SHARED, "parquet", types="enforcement,arrears")
    assert {f["path"]: f["rows"] for f in shared.files} == {"enforcement.parquet": 4, "arrears.parquet": 2}
    frame = pq.read_table(shared.directory / "enforcement.parquet").to_pylist()
    assert [r["状态"] for r in frame] == ["revoked", "active", "active", "active"]
    assert all(rows[0]["QZ_FZRZJHM"] not in str(r) for r in frame)


def test_extract_refusals(db_session, feed_settings, tmp_path) -> None:
    with pytest.raises(TypeOutsideClass):
        _run(db_session, feed_settings, tmp_path, PUBLIC, "csv", types="arrears")
    with pytest.raises(InvalidInput, match="不支持的格式"):
        _run(db_session, feed_settings, tmp_path, PUBLIC, "xlsx")
    with pytest.raises(InvalidInput, match="没有订阅"):
        _run(db_session, feed_settings, tmp_path, frozenset(), "csv")


def test_extracts_stream_over_http(client, db_session, load, feed_key) -> None:
    import io

    rows = [cf.enforcement_row() for _ in range(3)]
    load(rows, "enforcement")
    headers = feed_key("api:changes:read")
    response = client.get("/api/v1/extracts/enforcement", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "X-Xinyong-Change-Position".lower() in response.headers
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["决定文书号"] for r in table] == [r["QZ_JDSH"] for r in rows]
    assert rows[0]["QZ_FZRZJHM"] not in response.text
    parquet = client.get("/api/v1/extracts/enforcement", params={"format": "parquet"}, headers=headers)
    assert parquet.status_code == 200
    assert len(pq.read_table(io.BytesIO(parquet.content)).to_pylist()) == 3
    refused = client.get("/api/v1/extracts/arrears", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "type-outside-class"
    assert client.get("/api/v1/extracts/nope", headers=headers).status_code == 404
    assert client.get("/api/v1/extracts/enforcement", params={"format": "xlsx"}, headers=headers).status_code == 422
    assert client.get("/api/v1/extracts/enforcement").status_code == 401


def test_a_csv_extract_shows_formulas_as_text(client, db_session, load, feed_settings, feed_key,
                                              tmp_path) -> None:  # fmt: skip
    """Extracts are opened in spreadsheets: a cell that would start a formula starts with an apostrophe, in the
    written file and over HTTP; Parquet, read by programs, keeps the text as it is."""
    hostile = "=cmd|' /C calc'!A0"
    load([cf.enforcement_row(QZ_SY=hostile, QZ_CCMC='=HYPERLINK("http://evil.example/x","点击")')], "enforcement")
    db_session.commit()
    written = _run(db_session, feed_settings, tmp_path, PUBLIC, "csv")
    with (written.directory / "enforcement.csv").open(encoding="utf-8", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    served = client.get("/api/v1/extracts/enforcement", headers=feed_key("api:changes:read"))
    assert served.status_code == 200, served.text
    for text in (",".join(row.values()), served.text):
        assert "'=cmd|" in text
        assert "'=HYPERLINK(" in text
        assert ",=" not in text
        assert '"=' not in text
    frame = pq.read_table(_run(db_session, feed_settings, tmp_path, PUBLIC, "parquet").directory
                          / "enforcement.parquet").to_pylist()  # fmt: skip
    assert hostile in {str(v) for v in frame[0].values()}
