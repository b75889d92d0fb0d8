"""前置机: a watched drop folder per department.

    <root>/<department's 统一社会信用代码>/<catalogue type key>/<file>.csv|.xlsx

A file placed there is imported as that department and as that type, through the same pipeline as an upload,
then moved to `done/` (imported; rows with errors are listed in the report) or `failed/` (refused whole), with
`<name>.report.csv` (every problem, as the console's problems CSV) and `<name>.result.json` (the counts) beside it.

What is refused, and why it cannot reach anything else:
- only real directories and regular files are read: a symlink (file or folder) is never followed; a symlinked
  file is moved, as a link, to failed/ with a report; a symlinked folder is skipped;
- a name with a path in it (`..`, `\\`, control characters) is moved to failed/ under a neutral name; a type
  other than CSV or XLSX is moved to failed/;
- a file still being written (a copying program's temporary or hidden name, a modification within the settle time, or a
  size or time that changed since the previous scan) is left where it is until it is still;
- a claimed file is renamed into `processing/` first, read through a descriptor opened without following links,
  and copied to a private directory: what is imported is what was checked."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from xinyong.catalog import load_catalog
from xinyong.codes import mask_id_numbers
from xinyong.config import Settings
from xinyong.departments import service as departments_service
from xinyong.departments.models import Department
from xinyong.errors import NotFound
from xinyong.exports import write_csv
from xinyong.intake import rules
from xinyong.intake.rules import IntakeConfigError
from xinyong.protect import Protector
from xinyong.records import report
from xinyong.records import service as records_service
from xinyong.records.models import BatchSource

log = logging.getLogger("xinyong.intake")
DEFAULT_SETTLE_SECONDS = 10.0
DONE, FAILED, WAITING, SKIPPED = "done", "failed", "waiting", "skipped"


@dataclass
class Outcome:
    folder: str  # "<department code>/<type>" as the operator reads it
    name: str  # the file's name, masked
    status: str  # done | failed | waiting | skipped
    reason: str = ""
    batch_id: int | None = None
    moved_to: Path | None = None


@dataclass
class Watcher:
    """One drop root, scanned again and again (`xinyong exchange watch`): it remembers each file's size and time
    between scans, so a file is imported only once it has stopped changing."""

    root: Path
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)

    requeued: bool = False

    def scan(self, session: Session, *, settings: Settings, protector: Protector, today: date | None = None,
             now: float | None = None) -> list[Outcome]:  # fmt: skip
        if not self.requeued:  # files a killed watcher left in processing/ go back to be imported again
            requeue(self.root)
            self.requeued = True
        return scan(session, self.root, settings=settings, protector=protector, today=today,
                    settle_seconds=self.settle_seconds, seen=self.seen, now=now)  # fmt: skip


def requeue(root: Path) -> int:
    """Move every file left in a `processing/` folder back beside it (a watcher killed while importing it); the
    pipeline's idempotency makes the second import safe. Only one watcher may serve a root."""
    moved = 0
    if root.is_symlink() or not root.is_dir():
        return 0
    for dept_entry in os.scandir(root):
        if not _is_real_dir(dept_entry):
            continue
        for type_entry in os.scandir(dept_entry.path):
            processing = Path(type_entry.path) / "processing"
            if not _is_real_dir(type_entry) or processing.is_symlink() or not processing.is_dir():
                continue
            for entry in os.scandir(processing):
                if entry.is_file(follow_symlinks=False):
                    os.rename(entry.path, _unique(Path(type_entry.path), entry.name))
                    moved += 1
    return moved


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    return not entry.is_symlink() and entry.is_dir(follow_symlinks=False)


def scan(
    session: Session,
    root: Path,
    *,
    settings: Settings,
    protector: Protector,
    today: date | None = None,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    seen: dict[str, tuple[int, int]] | None = None,
    now: float | None = None,
) -> list[Outcome]:
    """One pass over the drop root. Commits per file (the pipeline does): call it at a command boundary."""
    if root.is_symlink() or not root.is_dir():
        raise IntakeConfigError(where=str(root.name), reason="前置机目录不存在、不是目录或是符号链接")
    catalog = load_catalog(settings.catalog_dirs)
    seen = seen if seen is not None else {}
    now = time.time() if now is None else now
    outcomes: list[Outcome] = []
    for dept_entry in sorted(os.scandir(root), key=lambda e: e.name):
        if not _is_real_dir(dept_entry):
            outcomes.append(Outcome(dept_entry.name[:40], "", SKIPPED, "不是部门目录（或是符号链接），已忽略"))
            continue
        try:
            department = _department(session, dept_entry.name)
        except NotFound:
            outcomes.append(Outcome(mask_id_numbers(dept_entry.name[:40]), "", SKIPPED, "未登记的部门代码，已忽略"))
            continue
        dept_dir = Path(dept_entry.path)
        for type_entry in sorted(os.scandir(dept_dir), key=lambda e: e.name):
            if type_entry.name in rules.RESERVED:
                continue
            folder = f"{department.code}/{type_entry.name[:40]}"
            if not _is_real_dir(type_entry):
                if type_entry.is_symlink() or type_entry.is_file(follow_symlinks=False):
                    outcomes.append(_refuse(dept_dir, type_entry.name, department.code, "no-record-type",
                                            "文件须放在信息类别子目录中（如 penalty/），已拒收"))  # fmt: skip
                continue
            if type_entry.name not in catalog.types:
                outcomes.append(Outcome(folder, "", SKIPPED, "信用信息目录中没有该类别，已忽略"))
                continue
            type_dir = Path(type_entry.path)
            for entry in sorted(os.scandir(type_dir), key=lambda e: e.name):
                if entry.name in rules.RESERVED and _is_real_dir(entry):
                    continue
                outcome = _one(session, type_dir, entry, department, type_entry.name, settings=settings,
                               protector=protector, today=today, settle_seconds=settle_seconds, seen=seen, now=now)  # fmt: skip
                if outcome is not None:
                    outcomes.append(outcome)
    for outcome in outcomes:
        if outcome.status != WAITING:
            log.info("drop %s %s: %s %s", outcome.folder, outcome.name, outcome.status, outcome.reason)
    return outcomes


def _department(session: Session, code: str) -> Department:
    if len(code) != 18:
        raise NotFound(what="部门")
    return departments_service.get_department(session, code)


def _one(session: Session, folder: Path, entry: os.DirEntry[str], department: Department, record_type: str, *,
         settings: Settings, protector: Protector, today: date | None, settle_seconds: float,
         seen: dict[str, tuple[int, int]], now: float) -> Outcome | None:  # fmt: skip
    where = f"{department.code}/{record_type}"
    name = entry.name
    if entry.is_symlink():
        return _refuse(folder, name, where, "symlink", "符号链接不予读取（请放入文件本身），已拒收")
    if not entry.is_file(follow_symlinks=False):
        return Outcome(where, mask_id_numbers(name[:100]), SKIPPED, "不是普通文件，已忽略")
    problem = rules.name_problem(name)
    if problem is not None and problem[0] == "unsafe-name":  # a path trick, whatever else the name looks like
        return _refuse(folder, name, where, *problem)
    if rules.is_partial(name):
        return Outcome(where, mask_id_numbers(name[:100]), WAITING, "文件仍在复制中（临时或隐藏的文件名）")
    if problem is not None:
        return _refuse(folder, name, where, *problem)
    info = entry.stat(follow_symlinks=False)
    signature = (info.st_size, info.st_mtime_ns)
    previous = seen.get(entry.path)
    seen[entry.path] = signature
    if now - info.st_mtime < settle_seconds or (previous is not None and previous != signature):
        return Outcome(where, mask_id_numbers(name), WAITING, "文件仍在写入（大小或修改时间在变化），稍后再导入")
    seen.pop(entry.path, None)
    return _import(session, folder, name, department, record_type, signature, settings=settings,
                   protector=protector, today=today)  # fmt: skip


def _unique(directory: Path, name: str) -> Path:
    directory.mkdir(exist_ok=True)
    target = directory / name
    n = 1
    while target.exists() or target.is_symlink():
        target = directory / f"{Path(name).stem}-{n}{Path(name).suffix}"
        n += 1
    return target


def _import(session: Session, folder: Path, name: str, department: Department, record_type: str,
            signature: tuple[int, int], *, settings: Settings, protector: Protector, today: date | None) -> Outcome:  # fmt: skip
    where = f"{department.code}/{record_type}"
    claimed = _unique(folder / "processing", name)
    try:
        os.rename(folder / name, claimed)  # atomic within the folder: the department's copy can no longer change it
    except OSError:
        return Outcome(where, mask_id_numbers(name), WAITING, "文件正被占用，稍后再导入")
    private = Path(tempfile.mkdtemp(prefix="xinyong-drop-"))
    try:
        copy = private / ("upload" + Path(name).suffix.lower())
        try:
            _copy_nofollow(claimed, copy, signature, settings.upload_max_bytes)
        except _Refused as exc:
            return _finish_refused(folder, claimed, name, where, exc.code, exc.message)
        try:
            result = records_service.import_file(
                session, copy, settings=settings, protector=protector, record_type=record_type, department=department,
                actor=f"drop:{department.code}", source=BatchSource.UPLOAD, filename=name, today=today,
            )  # fmt: skip
        except BaseException:
            # The platform failed (its database, say), not the file: put it back to be imported at the next scan.
            os.rename(claimed, _unique(folder, name))
            raise
    finally:
        shutil.rmtree(private, ignore_errors=True)
    status = DONE if result.failure is None and result.status == "completed" else FAILED
    target = _unique(folder / status, name)
    os.rename(claimed, target)
    batch = records_service.get_batch(session, result.batch_id)
    with (target.parent / f"{target.name}.report.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        report.write_problems_csv(session, result.batch_id, handle)
    document = report.batch_document(session, batch)
    summary = {k: document[k] for k in ("batch_id", "record_type", "status", "filename", "reported_on", "rows", "created",
                                        "updated", "unchanged", "rejected", "late", "failure")}  # fmt: skip
    summary["department"] = department.code
    (target.parent / f"{target.name}.result.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2),
                                                              encoding="utf-8")  # fmt: skip
    reason = result.failure["message"] if result.failure else f"{result.rows} 行，新增 {result.created}，更新 {result.updated}，未变化 {result.unchanged}，拒收 {result.rejected}"
    return Outcome(where, mask_id_numbers(name), status, reason, result.batch_id, target)


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def _copy_nofollow(source: Path, target: Path, signature: tuple[int, int], max_bytes: int) -> None:
    """Copy the claimed file through a descriptor opened without following links, checking it is the file that was
    seen (a regular file of the same size and time) and within the upload limit."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(source, flags)
    except OSError:
        raise _Refused("symlink", "文件无法以普通文件方式打开（可能是符号链接），已拒收") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("not-a-file", "不是普通文件，已拒收")
        if (info.st_size, info.st_mtime_ns) != signature:
            raise _Refused("file-changed", "文件在读取前被改动（可能仍在写入），已拒收；请重新放入完整的文件")
        if info.st_size > max_bytes:
            raise _Refused("file-too-large", f"文件超过 {max_bytes // (1024 * 1024)} MB 的大小上限，已拒收")
        with target.open("wb") as out:
            shutil.copyfileobj(handle, out, 1 << 20)


def _neutral_name(name: str) -> str:
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"refused-{time.strftime('%Y%m%d%H%M%S')}-{digest}"


def _refuse(folder: Path, name: str, where: str, code: str, message: str) -> Outcome:
    """Move a refused entry (as it is: a link stays a link, never followed) to failed/, with its report."""
    problem = rules.name_problem(name)
    safe = problem is None or problem[0] != "unsafe-name"
    target = _unique(folder / FAILED, name if safe else _neutral_name(name))
    os.rename(folder / name, target)
    _write_refusal(target, name, code, message)
    return Outcome(where, mask_id_numbers(name[:100]), FAILED, message, None, target)


def _finish_refused(folder: Path, claimed: Path, name: str, where: str, code: str, message: str) -> Outcome:
    target = _unique(folder / FAILED, name)
    os.rename(claimed, target)
    _write_refusal(target, name, code, message)
    return Outcome(where, mask_id_numbers(name), FAILED, message, None, target)


def _write_refusal(target: Path, name: str, code: str, message: str) -> None:
    shown = mask_id_numbers(name.encode("utf-8", "replace").decode("utf-8")[:200])
    with (target.parent / f"{target.name}.report.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        write_csv(handle, report.CSV_HEADER, [(0, "", "", "错误", code, shown, message)])
    summary: dict[str, Any] = {"status": "failed", "filename": shown, "failure": {"code": code, "message": message}}
    (target.parent / f"{target.name}.result.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2),
                                                              encoding="utf-8")  # fmt: skip
