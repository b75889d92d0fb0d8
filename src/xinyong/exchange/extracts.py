"""Bulk extracts for analysis: every record of the chosen types that the requester's class may see, one file per
type in CSV or Parquet (pyarrow), written as it is read (a thousand records at a time, Parquet row groups of
`ROW_GROUP` rows), with a manifest (counts, SHA-256 digests, the change log position the extract reflects).

The class is a feed key's (see `feed`): 社会公开 types, published records and public fields only, people's names
as the portal shows them; with api:changes:shared, 政务共享 types too and every stored field (masked). ID
numbers are never in an extract.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.actors import Actor, Permission
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.catalog import RecordType, load_catalog
from xinyong.changelog import service as changelog
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.errors import InvalidInput
from xinyong.exchange import feed
from xinyong.exports import safe_cell
from xinyong.records.models import Record

FORMATS = ("csv", "parquet")
CHUNK = 1000
ROW_GROUP = 50_000
COMMON = ("部门代码", "决定文书号", "状态", "是否公示", "决定日期", "公示截止日期", "主体名称", "主体类别", "统一社会信用代码")


@dataclass
class ExtractResult:
    directory: Path
    requester: str
    export_format: str
    types: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f["rows"] for f in self.files)


def _rows(session: Session, rtype: RecordType, *, settings: Settings, today: date, shared: bool,
          fields: tuple[Any, ...]) -> Iterator[list[str | None]]:  # fmt: skip
    last = 0
    while True:
        ids = list(session.scalars(select(Record.id).where(Record.record_type == rtype.key, Record.id > last)
                                   .order_by(Record.id).limit(CHUNK)))  # fmt: skip
        if not ids:
            return
        last = ids[-1]
        described = feed.describe_records(session, ids, catalog=load_catalog(settings.catalog_dirs),
                                          settings=settings, today=today, shared=shared)  # fmt: skip
        for record_id in ids:
            item = described.get(record_id)
            if item is None or (not shared and not item["published"]):
                continue
            subject = item.get("subject") or {}
            values = item.get("fields") or {}
            yield [item["department"], item["doc_no"], item["status"], "是" if item["published"] else "否",
                   item["decision_date"], item["publish_until"], subject.get("name"), subject.get("kind"),
                   subject.get("uscc"), *(values.get(f.code) for f in fields)]  # fmt: skip


class _Digest:
    def __init__(self, handle: Any) -> None:
        self.handle, self.sha = handle, hashlib.sha256()

    def write(self, data: Any) -> int:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self.sha.update(raw)
        return self.handle.write(raw)


def _write_csv(path: Path, headers: list[str], rows: Iterator[list[Any]]) -> tuple[int, str]:
    count = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw:
        digest = _Digest(raw)
        writer = csv.writer(_Text(digest))
        writer.writerow(headers)
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])  # opened in spreadsheets: formulas shown as text
            count += 1
    return count, digest.sha.hexdigest()


class _Text:
    def __init__(self, target: _Digest) -> None:
        self.target = target

    def write(self, text: str) -> int:
        return self.target.write(text)


def _write_parquet(path: Path, headers: list[str], rows: Iterator[list[Any]]) -> tuple[int, str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(h, pa.string()) for h in headers])
    count = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        batch: list[list[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= ROW_GROUP:
                writer.write_table(_table(pa, schema, batch))
                count += len(batch)
                batch = []
        if batch or count == 0:
            writer.write_table(_table(pa, schema, batch))
            count += len(batch)
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return count, sha.hexdigest()


def _table(pa: Any, schema: Any, batch: list[list[Any]]) -> Any:
    columns = list(zip(*batch, strict=True)) if batch else [() for _ in schema]
    return pa.Table.from_arrays([pa.array(list(col), type=pa.string()) for col in columns], schema=schema)


def plan(settings: Settings, permissions: frozenset[Permission], record_type: str, export_format: str
         ) -> tuple[RecordType, list[str], tuple[Any, ...], bool]:  # fmt: skip
    """What one type's extract holds for this class: (type, headers, fields, shared). Raises on a refusal."""
    if export_format not in FORMATS:
        raise InvalidInput(reason=f"不支持的格式“{export_format[:20]}”，可用：{'、'.join(FORMATS)}")
    classes = feed.visible_classes(permissions)
    if not classes:
        raise InvalidInput(reason="请求方没有订阅（api:changes:read）权限，不能提取数据")
    catalog = load_catalog(settings.catalog_dirs)
    chosen = feed.chosen_types(catalog, classes, record_type) if record_type.strip() else []
    if len(chosen) != 1:
        raise InvalidInput(reason="请指定一个信息类别")
    rtype = catalog.get(chosen[0])
    shared = feed.SHARED in classes
    fields = tuple(f for f in (rtype.fields if shared else rtype.public_fields) if shared or not f.protected)
    return rtype, [*COMMON, *(f.title for f in fields)], fields, shared


def stream(session: Session, rtype: RecordType, headers: list[str], fields: tuple[Any, ...], *, shared: bool,
           settings: Settings, today: date, export_format: str) -> Iterator[bytes]:  # fmt: skip
    """One type's extract as bytes, produced as the records are read: CSV a thousand rows at a time, Parquet a row
    group at a time (its footer last)."""
    rows = _rows(session, rtype, settings=settings, today=today, shared=shared, fields=fields)
    if export_format == "csv":
        buffer = _Buffer()
        writer = csv.writer(_Text(buffer))  # type: ignore[arg-type]
        writer.writerow(headers)
        for count, row in enumerate(rows, start=1):
            writer.writerow([safe_cell(v) for v in row])
            if count % CHUNK == 0:
                yield buffer.take()
        yield buffer.take()
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(h, pa.string()) for h in headers])
    sink = _Buffer()
    with pq.ParquetWriter(pa.PythonFile(sink, mode="w"), schema, compression="zstd") as parquet:
        batch: list[list[Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= ROW_GROUP:
                parquet.write_table(_table(pa, schema, batch))
                batch = []
                yield sink.take()
        if batch:
            parquet.write_table(_table(pa, schema, batch))
    yield sink.take()


class _Buffer:
    """A write-only file that hands out what was written since the last take."""

    closed = False

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: Any) -> int:
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        self._parts.append(raw)
        self._size += len(raw)
        return len(raw)

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def extract(
    session: Session,
    out: Path,
    *,
    settings: Settings,
    permissions: frozenset[Permission],
    requester: str,
    export_format: str,
    types: str | None,
    today: date,
) -> ExtractResult:
    """Write the extract under `out` (created) and its manifest. Reads only, for as long as the records take:
    the caller then audits it with `record_extract`, in a short writer's transaction, so that imports do not
    wait for the extract meanwhile."""
    if export_format not in FORMATS:
        raise InvalidInput(reason=f"不支持的格式“{export_format[:20]}”，可用：{'、'.join(FORMATS)}")
    classes = feed.visible_classes(permissions)
    if not classes:
        raise InvalidInput(reason="请求方没有订阅（api:changes:read）权限，不能提取数据")
    catalog = load_catalog(settings.catalog_dirs)
    keys = feed.chosen_types(catalog, classes, types)
    shared = feed.SHARED in classes
    position = changelog.head(session)
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)
    result = ExtractResult(directory=out, requester=requester, export_format=export_format, types=keys)
    for key in keys:
        rtype = catalog.get(key)
        fields = rtype.fields if shared else rtype.public_fields
        fields = tuple(f for f in fields if not f.protected or shared)
        headers = [*COMMON, *(f.title for f in fields)]
        path = out / f"{key}.{export_format}"
        rows = _rows(session, rtype, settings=settings, today=today, shared=shared, fields=fields)
        writer = _write_csv if export_format == "csv" else _write_parquet
        count, digest = writer(path, headers, rows)
        result.files.append({"path": path.name, "type": key, "rows": count, "bytes": path.stat().st_size,
                             "sha256": digest})  # fmt: skip
    manifest = {
        "format": export_format, "requester": requester, "classes": sorted(classes), "types": keys,
        "generated_at": utcnow().astimezone(clock.CHINA).isoformat(timespec="seconds"), "as_of_day": today.isoformat(),
        "change_log_position": {"seq": position.seq, "id": position.id}, "files": result.files,
        "rows": result.rows, "id_numbers": "none",
    }  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result


def record_extract(session: Session, result: ExtractResult, *, actor: Actor | str) -> None:
    """The audit entry of an extract `extract` wrote: its requester, counts and digests."""
    audit.record(session, AuditAction.EXCHANGE_EXPORTED, actor=actor, target=f"extract:{result.requester}"[:100],
                 details={"format": result.export_format, "types": result.types, "rows": result.rows,
                          "files": {f["path"]: f["sha256"] for f in result.files}})  # fmt: skip
