"""前置机: a file placed in a department's folder is imported as that department and moved to done/ or failed/
with its problem report beside it; path tricks, symlinks, unsupported types and half-written files are refused
or left alone, and nothing outside the folder is ever read."""

from __future__ import annotations

import csv
import json
import os
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.factories import records as rf
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.intake import drop
from xinyong.intake.rules import IntakeConfigError
from xinyong.records.models import Batch, BatchSource, Record

TODAY = date(2025, 10, 9)
OLD = time.time() - 3600
runner = CliRunner()


def _csv(path: Path, rows: list[dict[str, str]], *, settled: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if settled:
        os.utime(path, (OLD, OLD))
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def _scan(db_session, root, settings, protector, **kwargs):  # type: ignore[no-untyped-def]
    return drop.scan(db_session, root, settings=settings, protector=protector, today=TODAY, **kwargs)


def test_a_dropped_file_is_imported_as_its_department_and_moved_with_its_report(db_session, root, settings, protector):
    dept = rf.department(db_session)
    folder = root / dept.code / "penalty"
    good = [rf.penalty_row(), rf.penalty_row()]
    bad = rf.penalty_row(CF_YJ="")
    _csv(folder / "10月行政处罚.csv", [good[0], bad, good[1]])
    (outcome,) = _scan(db_session, root, settings, protector)
    assert outcome.status == "done", outcome
    assert outcome.moved_to == folder / "done" / "10月行政处罚.csv"
    assert not (folder / "10月行政处罚.csv").exists()
    assert not list((folder / "processing").iterdir())
    batch = db_session.get(Batch, outcome.batch_id)
    assert (batch.department_id, batch.record_type, batch.source, batch.filename) == (
        dept.id, "penalty", BatchSource.UPLOAD, "10月行政处罚.csv")
    assert (batch.created, batch.rejected) == (2, 1)
    report = (folder / "done" / "10月行政处罚.csv.report.csv").read_text(encoding="utf-8-sig")
    assert "行号,列,列名,级别,问题代码,值,说明" in report
    assert "3,CF_YJ,处罚依据,错误,required" in report  # row numbers as in Excel: the header is row 1
    summary = json.loads((folder / "done" / "10月行政处罚.csv.result.json").read_text(encoding="utf-8"))
    assert (summary["created"], summary["rejected"], summary["department"]) == (2, 1, dept.code)

    # The same file again: moved beside the first, its rows unchanged (idempotent).
    _csv(folder / "10月行政处罚.csv", [good[0], bad, good[1]])
    (second,) = _scan(db_session, root, settings, protector)
    assert second.moved_to == folder / "done" / "10月行政处罚-1.csv"
    assert db_session.get(Batch, second.batch_id).unchanged == 2
    assert db_session.scalar(select(func.count()).select_from(Record)) == 2


def test_a_file_refused_whole_goes_to_failed_with_its_report(db_session, root, settings, protector):
    dept = rf.department(db_session)
    folder = root / dept.code / "penalty"
    folder.mkdir(parents=True)
    (folder / "扫描件.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    os.utime(folder / "扫描件.csv", (OLD, OLD))
    (outcome,) = _scan(db_session, root, settings, protector)
    assert outcome.status == "failed"
    assert (folder / "failed" / "扫描件.csv").exists()
    report = (folder / "failed" / "扫描件.csv.report.csv").read_text(encoding="utf-8-sig")
    assert "unsupported-format" in report


def test_half_written_files_are_left_until_they_are_still(db_session, root, settings, protector):
    dept = rf.department(db_session)
    folder = root / dept.code / "penalty"
    _csv(folder / "copying.csv.part", [rf.penalty_row()])
    fresh = _csv(folder / "fresh.csv", [rf.penalty_row()], settled=False)
    outcomes = {o.name: o for o in _scan(db_session, root, settings, protector)}
    assert outcomes["copying.csv.part"].status == "waiting"
    assert outcomes["fresh.csv"].status == "waiting"
    assert "仍在写入" in outcomes["fresh.csv"].reason
    assert fresh.exists()
    assert (folder / "copying.csv.part").exists()
    assert db_session.scalar(select(func.count()).select_from(Batch)) == 0

    # A watcher remembers size and time: a file that changed since the previous scan waits one more round.
    watcher = drop.Watcher(root, settle_seconds=10)
    os.utime(fresh, (OLD, OLD))
    watcher.seen[str(fresh)] = (1, 1)  # what the previous scan saw
    (waiting,) = [o for o in watcher.scan(db_session, settings=settings, protector=protector, today=TODAY)
                  if o.name == "fresh.csv"]  # fmt: skip
    assert waiting.status == "waiting"
    (done,) = [o for o in watcher.scan(db_session, settings=settings, protector=protector, today=TODAY)
               if o.name == "fresh.csv"]  # fmt: skip
    assert done.status == "done"


def test_symlinks_path_tricks_and_unsupported_types_are_refused(db_session, root, settings, protector, tmp_path):
    dept = rf.department(db_session)
    folder = root / dept.code / "penalty"
    folder.mkdir(parents=True)
    secret = tmp_path / "outside.csv"
    _csv(secret, [rf.penalty_row()])
    (folder / "link.csv").symlink_to(secret)
    (folder / "..\\..\\evil.csv").write_text("x", encoding="utf-8")
    (folder / ".hidden.csv").write_text("x", encoding="utf-8")
    (folder / "报表.txt").write_text("x", encoding="utf-8")
    (folder / "报表.xls").write_text("x", encoding="utf-8")
    for name in ("..\\..\\evil.csv", ".hidden.csv", "报表.txt", "报表.xls"):
        os.utime(folder / name, (OLD, OLD))
    # A department folder that is a link, a folder of no registered department, a file outside a type folder.
    other = tmp_path / "elsewhere"
    (other / "penalty").mkdir(parents=True)
    _csv(other / "penalty" / "x.csv", [rf.penalty_row()])
    (root / rf.OTHER_DEPT_CODE).symlink_to(other)
    (root / "91330521MA00000000").mkdir()
    _csv(root / dept.code / "loose.csv", [rf.penalty_row()])
    (root / dept.code / "nothing").mkdir()

    outcomes = _scan(db_session, root, settings, protector)
    by_name = {o.name: o for o in outcomes if o.name}
    assert by_name["link.csv"].status == "failed"
    assert "符号链接" in by_name["link.csv"].reason
    assert (folder / "failed" / "link.csv").is_symlink()  # moved as a link, never followed
    assert secret.exists()
    assert "符号链接" in (folder / "failed" / "link.csv.report.csv").read_text(encoding="utf-8-sig")
    assert by_name["..\\..\\evil.csv"].status == "failed"
    assert "不允许的字符或路径" in by_name["..\\..\\evil.csv"].reason
    neutral = sorted(p.name for p in (folder / "failed").iterdir() if p.name.startswith("refused-"))
    assert len(neutral) == 3  # the file, its report and its result
    # A hidden name is a copying program's temporary file (rsync): left alone until renamed.
    assert by_name[".hidden.csv"].status == "waiting"
    assert (folder / ".hidden.csv").exists()
    assert "unsafe-name" in (folder / "failed" / next(n for n in neutral if n.endswith(".report.csv"))).read_text(
        encoding="utf-8-sig")  # fmt: skip
    for name in ("报表.txt", "报表.xls"):
        assert by_name[name].status == "failed"
        assert "不支持的文件类型" in by_name[name].reason
        assert (folder / "failed" / name).exists()
    assert by_name["loose.csv"].status == "failed"
    assert (root / dept.code / "failed" / "loose.csv").exists()
    skipped = [o for o in outcomes if o.status == "skipped"]
    assert {o.reason for o in skipped} >= {"不是部门目录（或是符号链接），已忽略", "未登记的部门代码，已忽略",
                                           "信用信息目录中没有该类别，已忽略"}  # fmt: skip
    assert (other / "penalty" / "x.csv").exists()  # nothing read through the linked folder
    assert db_session.scalar(select(func.count()).select_from(Batch)) == 0
    assert not (tmp_path / "evil.csv").exists()


def test_the_root_must_be_a_real_folder(db_session, tmp_path, settings, protector):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    for path in (tmp_path / "link", tmp_path / "missing"):
        with pytest.raises(IntakeConfigError) as refused:
            _scan(db_session, path, settings, protector)
        assert "前置机目录" in refused.value.message


def test_watch_once_imports_the_drop_folder(shell, tmp_path):
    root = tmp_path / "drop"
    _csv(root / rf.DEPT_CODE / "penalty" / "a.csv", [rf.penalty_row()])
    done = runner.invoke(app, ["exchange", "watch", "--drop-root", str(root), "--once"])
    assert done.exit_code == 0, done.output
    assert "a.csv：done" in done.output
    assert (root / rf.DEPT_CODE / "penalty" / "done" / "a.csv.report.csv").exists()
    nothing = runner.invoke(app, ["exchange", "watch", "--once"])
    assert nothing.exit_code == 1
    assert "--drop-root" in nothing.output


def test_a_file_whose_import_fails_on_the_platform_side_is_put_back(db_session, root, settings, protector, monkeypatch):
    dept = rf.department(db_session)
    folder = root / dept.code / "penalty"
    _csv(folder / "a.csv", [rf.penalty_row()])

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("database down")

    monkeypatch.setattr(drop.records_service, "import_file", down)
    with pytest.raises(ConnectionError):
        _scan(db_session, root, settings, protector)
    assert (folder / "a.csv").exists()
    assert not list((folder / "processing").iterdir())
    # A watcher killed mid-import left a file in processing/: the next watcher puts it back first.
    (folder / "a.csv").rename(folder / "processing" / "a.csv")
    monkeypatch.undo()
    outcomes = drop.Watcher(root, settle_seconds=0).scan(db_session, settings=settings, protector=protector,
                                                          today=TODAY)  # fmt: skip
    assert [o.status for o in outcomes] == ["done"]
