"""Exports to other platforms in the national format (双公示 columns), incremental by the change log.

One export writes, under the output folder, one folder per reporting department (its 统一社会信用代码) holding
one UTF-8 CSV per record type named after the type's key (`penalty.csv` …) with the catalogue's national
headers, then `revocations.csv` and `repairs.csv` (what the national columns cannot say) and `manifest.json`
(counts, SHA-256 digests, the cursor the export reached). Each file imports back with
`xinyong records import FILE --type KEY --department CODE`. See docs/exchange.md.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock
from xinyong.actors import Actor
from xinyong.audit import service as audit
from xinyong.audit.rules import AuditAction
from xinyong.catalog import RecordType, load_catalog
from xinyong.changelog import service as changelog
from xinyong.changelog.service import Position
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments.models import Department
from xinyong.disclosure.models import PublicationStop
from xinyong.errors import InvalidInput
from xinyong.exchange import cursors
from xinyong.exchange.models import Destination, Webhook
from xinyong.protect import Protector, derived_key, load_master_key
from xinyong.records.models import Record, RecordStatus

FORMAT_NATIONAL = "national"
FORMATS = (FORMAT_NATIONAL,)
DEFAULT_DESTINATION = "province"
DESTINATION_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MANIFEST = "manifest.json"
REVOCATIONS = "revocations.csv"
REPAIRS = "repairs.csv"
REVOCATION_HEADERS = ("信息类别", "数据来源单位统一社会信用代码", "决定文书号", "撤销时间", "撤销理由")
REPAIR_HEADERS = ("信息类别", "数据来源单位统一社会信用代码", "决定文书号", "停止公示日期", "恢复公示日期")
_PAGE = 5000
_PART = 900


def cursor_key(settings: Settings) -> bytes:
    return derived_key(load_master_key(settings), "exchange-cursor")


def destination_scope(name: str) -> str:
    return f"destination:{name}"


def check_destination_name(name: str) -> str:
    name = (name or "").strip()
    if not DESTINATION_RE.match(name):
        raise InvalidInput(reason=f"接收方名称“{name[:70]}”不正确：只能使用小写字母、数字、- 和 _，至多 64 个字符")
    return name


def get_destination(session: Session, name: str, *, create: bool = False) -> Destination | None:
    name = check_destination_name(name)
    found = session.scalar(select(Destination).where(Destination.name == name))
    if found is None and create:
        found = Destination(name=name, cursor_seq=0, cursor_id=0, exports=0)
        session.add(found)
        session.flush()
    return found


def resolve_start(session: Session, text: str | None, *, scope: str, key: bytes, default: Position) -> Position:
    """Where reading starts: the cursor given (checked: signed, this scope's, not past the log's head) or the
    default (the beginning, or the destination's remembered cursor)."""
    if text is None or not text.strip():
        return default
    position = cursors.decode(text, scope, key)
    if position > changelog.head(session):
        raise cursors.CursorInFuture()
    if position < changelog.horizon(session):
        raise cursors.CursorExpired()
    return position


@dataclass
class ExportResult:
    directory: Path
    destination: str
    since: str | None
    cursor: str
    records: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)
    revocations: int = 0
    repairs: int = 0
    masked: bool = False
    end: Position = field(default=Position(0, 0), repr=False)  # where the export's reading stopped

    def as_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory), "destination": self.destination, "since": self.since,
            "cursor": self.cursor, "records": self.records, "files": self.files, "revocations": self.revocations,
            "repairs": self.repairs, "id_numbers": "masked" if self.masked else "clear",
        }  # fmt: skip


def export_national(
    session: Session,
    out: Path,
    *,
    settings: Settings,
    protector: Protector,
    destination: str = DEFAULT_DESTINATION,
    since: str | None = None,
    mask_id_numbers: bool = False,
) -> ExportResult:
    """Write every record created, changed, revoked or repaired after the cursor (the destination's remembered
    one when none is given; the beginning for a new destination). Reads only, for as long as the records take
    (minutes for a whole register): the caller then remembers the new cursor with `remember_export`, in a short
    writer's transaction once the files are written, so that imports do not wait for the export meanwhile."""
    if (out / MANIFEST).exists():
        raise InvalidInput(reason="输出目录中已有一次导出（manifest.json），请换一个新目录，以免新旧文件混在一起")
    name = check_destination_name(destination)
    dest = get_destination(session, name)
    key = cursor_key(settings)
    scope = destination_scope(name)
    remembered = Position(dest.cursor_seq, dest.cursor_id) if dest is not None else Position(0, 0)
    start = resolve_start(session, since, scope=scope, key=key, default=remembered)
    end = changelog.head(session)
    if end < start:
        end = start
    if start < changelog.horizon(session):
        # The log no longer reaches back to the cursor (a new destination, or one not exported for longer than
        # the log keeps changes): every record goes, so that nothing pruned is missed.
        record_ids = list(session.scalars(select(Record.id).order_by(Record.id)))
    else:
        record_ids = sorted(_changed_records(session, start, end))
    out.mkdir(parents=True, exist_ok=True)
    os.chmod(out, 0o700)  # the files may hold ID numbers (see docs/exchange.md)
    catalog = load_catalog(settings.catalog_dirs)
    result = ExportResult(directory=out, destination=name, since=since, cursor=cursors.encode(end, scope, key),
                          masked=mask_id_numbers, end=end)  # fmt: skip
    writers: dict[tuple[str, str], _CsvFile] = {}
    revocations = _CsvFile(out / REVOCATIONS, REVOCATION_HEADERS)
    repairs = _CsvFile(out / REPAIRS, REPAIR_HEADERS)
    try:
        for record, dept_code, stopped_on, lifted_on in _records(session, record_ids):
            rtype = catalog.get(record.record_type)
            clear = json.loads(protector.unseal(record.sealed)) if record.sealed and not mask_id_numbers else {}
            target = writers.get((dept_code, rtype.key))
            if target is None:
                (out / dept_code).mkdir(exist_ok=True)
                target = writers[(dept_code, rtype.key)] = _CsvFile(
                    out / dept_code / f"{rtype.key}.csv", tuple(f.title for f in rtype.fields), rtype=rtype,
                    department=dept_code,
                )  # fmt: skip
            target.write([_cell(clear.get(f.code), record.payload.get(f.code)) for f in rtype.fields])
            result.records += 1
            doc_no = clear.get(rtype.role_code("doc_no") or "") or record.doc_no
            if record.status == RecordStatus.REVOKED:
                when = record.revoked_at.astimezone(clock.CHINA).isoformat(timespec="seconds") if record.revoked_at else ""
                revocations.write([rtype.key, dept_code, doc_no, when, record.revoke_reason or ""])
            if stopped_on is not None:  # stopped by a repair; resumed when the subject broke its commitment
                repairs.write([rtype.key, dept_code, doc_no, stopped_on.isoformat(),
                               lifted_on.isoformat() if lifted_on is not None else ""])  # fmt: skip
    finally:
        for handle in (*writers.values(), revocations, repairs):
            handle.close()
    result.files = [d for w in sorted(writers.values(), key=lambda w: (w.department, w.type_key))
                    if (d := w.describe(out)) is not None]  # fmt: skip
    result.revocations, result.repairs = revocations.rows, repairs.rows
    manifest = {
        "format": FORMAT_NATIONAL, "format_version": 1, "destination": name,
        "generated_at": utcnow().astimezone(clock.CHINA).isoformat(timespec="seconds"),
        "since": since, "cursor": result.cursor, "records": result.records,
        "id_numbers": "masked" if mask_id_numbers else "clear", "encoding": "utf-8",
        "departments": _departments(session, {w.department for w in writers.values()}),
        "files": result.files, "revocations": revocations.describe(out), "repairs": repairs.describe(out),
    }  # fmt: skip
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result


def remember_export(session: Session, result: ExportResult, *, actor: Actor | str = "cli") -> None:
    """After `export_national` wrote its files: the destination's cursor moves to where the export stopped (never
    back: an export started earlier from an older cursor that ends after a later one leaves the later's), and the
    export is audited. Flushes, never commits."""
    dest = get_destination(session, result.destination, create=True)
    assert dest is not None
    if result.end > Position(dest.cursor_seq, dest.cursor_id):
        dest.cursor_seq, dest.cursor_id = result.end.seq, result.end.id
    dest.exports += 1
    dest.exported_at = utcnow()
    # The audit names the destination, the counts and the digests: never a value of a record.
    audit.record(session, AuditAction.EXCHANGE_EXPORTED, actor=actor, target=f"destination:{dest.name}",
                 details={"format": FORMAT_NATIONAL, "records": result.records, "revocations": result.revocations,
                          "repairs": result.repairs, "id_numbers": "masked" if result.masked else "clear",
                          "files": {f["path"]: f["sha256"] for f in result.files}})  # fmt: skip
    session.flush()


def prune_changes(session: Session, *, settings: Settings, now: datetime) -> int:
    """Prune the change log to its retention (`changelog_retention_days`), keeping every change a webhook, active
    or paused, has not yet been sent. Destinations behind the horizon get a full export instead."""
    days = settings.changelog_retention_days
    if days <= 0:
        return 0
    cursors_held = [Position(int(seq), int(last)) for seq, last in
                    session.execute(select(Webhook.cursor_seq, Webhook.cursor_id))]  # fmt: skip
    return changelog.prune(session, made_before=now - timedelta(days=days), keep_after=min(cursors_held, default=None))


def _changed_records(session: Session, start: Position, end: Position) -> set[int]:
    ids: set[int] = set()
    position = start
    while True:
        rows = changelog.page(session, position, limit=_PAGE, until=end)
        if not rows:
            return ids
        ids.update(row.record_id for row in rows)
        position = Position(rows[-1].seq, rows[-1].id)


def _records(session: Session, record_ids: list[int]) -> Iterator[tuple[Record, str, Any, Any]]:
    """Records with their department's code, the day a repair stopped their publication (None if none) and the
    day it was resumed (None if it was not), in record id order."""
    for start in range(0, len(record_ids), _PART):
        part = record_ids[start : start + _PART]
        query = (
            select(Record, Department.code, PublicationStop.stopped_on, PublicationStop.lifted_on)
            .join(Department, Department.id == Record.department_id)
            .outerjoin(PublicationStop, PublicationStop.record_id == Record.id)
            .where(Record.id.in_(part)).order_by(Record.id)
        )  # fmt: skip
        for record, code, stopped_on, lifted_on in session.execute(query):
            yield record, code, stopped_on, lifted_on
            session.expunge(record)  # bounded memory on large exports


def _departments(session: Session, codes: set[str]) -> list[dict[str, str]]:
    rows = session.execute(select(Department.code, Department.name).where(Department.code.in_(sorted(codes))))
    return [{"code": code, "name": name} for code, name in sorted(rows)]


def _cell(clear: Any, published: Any) -> str:
    value = clear if clear is not None else published
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


class _CsvFile:
    """A CSV file written as rows come, hashed as it is written; created only when its first row arrives."""

    def __init__(self, path: Path, headers: tuple[str, ...], *, rtype: RecordType | None = None,
                 department: str = "") -> None:  # fmt: skip
        self.path, self.headers, self.rows = path, headers, 0
        self.type_key = rtype.key if rtype else ""
        self.department = department
        self._digest = hashlib.sha256()
        self._handle: IO[str] | None = None
        self._writer: Any = None
        self._bytes = 0

    def write(self, row: list[str]) -> None:
        if self._handle is None:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
            self._writer = csv.writer(_Hashing(self._handle, self))
            self._writer.writerow(self.headers)
        self._writer.writerow(row)
        self.rows += 1

    def feed(self, text: str) -> None:
        data = text.encode("utf-8")
        self._digest.update(data)
        self._bytes += len(data)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def describe(self, root: Path) -> dict[str, Any] | None:
        if self.rows == 0:
            return None
        described: dict[str, Any] = {"path": self.path.relative_to(root).as_posix()}
        if self.type_key:
            described |= {"type": self.type_key, "department": self.department}
        return described | {"rows": self.rows, "bytes": self._bytes, "sha256": self._digest.hexdigest()}


class _Hashing:
    def __init__(self, handle: IO[str], owner: _CsvFile) -> None:
        self._handle, self._owner = handle, owner

    def write(self, text: str) -> int:
        self._owner.feed(text)
        return self._handle.write(text)


def read_manifest(directory: Path) -> dict[str, Any]:
    return json.loads((directory / MANIFEST).read_text(encoding="utf-8"))


def verify_export(directory: Path) -> list[str]:
    """What does not match the manifest (missing files, other digests or counts); empty when all match."""
    manifest = read_manifest(directory)
    problems = []
    entries = [*manifest["files"], manifest.get("revocations"), manifest.get("repairs")]
    for entry in filter(None, entries):
        path = directory / entry["path"]
        if not path.is_file():
            problems.append(f"{entry['path']}：文件缺失")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry["sha256"]:
            problems.append(f"{entry['path']}：SHA-256 不符")
    return problems
