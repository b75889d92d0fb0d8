from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from xinyong import clock
from xinyong.actors import Actor
from xinyong.commandline import console, err_console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.departments import service as departments_service
from xinyong.errors import DomainError
from xinyong.protect import protector
from xinyong.records import report, service
from xinyong.records.models import BatchSource
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)

TYPE_HELP = "信息类别：license（行政许可）或 penalty（行政处罚），或目录中的其他类别"
SUMMARY_PROBLEMS = 30


@app.command("import", help="导入部门报送的 CSV 或 XLSX 文件")
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="CSV（UTF-8/GBK）或 XLSX 文件"),
    record_type: str = typer.Option(..., "--type", help=TYPE_HELP),
    department: str = typer.Option(..., "--department", help="报送部门的统一社会信用代码"),
    reported_on: str = typer.Option(None, "--reported-on", help="原始报送日期 YYYY-MM-DD（补录历史数据时使用，须同时写明 --reason）"),
    reason: str = typer.Option(None, "--reason", help="补录理由（指定报送日期时必填，记入审计日志）"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的 JSON"),
) -> None:
    try:
        reported = service.parse_reported_on(reported_on)
    except DomainError as exc:
        raise fail(exc) from None
    factory = session_factory()
    session = factory()
    try:
        dept = departments_service.get_department(session, department)
        with Progress(
            SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
            TextColumn("{task.completed:,} 行"), TimeElapsedColumn(),
            console=err_console, transient=True, disable=as_json or not err_console.is_terminal,
        ) as progress:  # fmt: skip
            task = progress.add_task(f"正在导入 {escape(file.name)}", total=None)  # a file name is not markup
            result = service.import_file(
                session, file, settings=settings(), protector=protector(settings()), record_type=record_type,
                department=dept, actor=Actor.system("cli"), source=BatchSource.CLI, reported_on=reported,
                backdate_reason=reason,
                progress=lambda n: progress.advance(task, n),
            )  # fmt: skip
        if as_json:
            json.dump(report.result_document(session, result), sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            _print_summary(session, result)
    except DomainError as exc:
        raise fail(exc) from None
    finally:
        session.close()
    if result.failure:
        raise typer.Exit(2)


def _print_summary(session: object, result: service.ImportResult) -> None:
    if result.failure and result.status != "incomplete":
        console.print(f"[red]文件未导入[/red]：{escape(result.failure['message'])}（{escape(result.failure['code'])}）",
                      highlight=False, markup=True)  # fmt: skip
        return
    if result.failure:  # the file broke midway: the rows before the break were stored
        console.print(f"[red]导入未完成[/red]：{escape(result.failure['message'])}（{escape(result.failure['code'])}）",
                      highlight=False, markup=True)  # fmt: skip
    status = "完成" if result.status == "completed" else "未完成"
    console.print(
        f"批次 {result.batch_id} {status}：共 {result.rows} 行，新增 {result.created}，更新 {result.updated}，"
        f"未变化 {result.unchanged}，拒收 {result.rejected}，迟报 {result.late}，提示 {result.warnings}。",
        highlight=False,
    )
    problems = list(report.first_problems(session, result.batch_id, SUMMARY_PROBLEMS))  # type: ignore[arg-type]
    if problems:
        table = Table("行", "列", "问题代码", "值", "说明", title=f"问题清单（前 {len(problems)} 条）")
        for p in problems:
            style = "red" if p.severity == "error" else "yellow"
            table.add_row(str(p.row), p.column or "", Text(p.code, style=style), p.value or "", p.message)
        console.print(table)
        for line in report.omitted(service.get_batch(session, result.batch_id)):  # type: ignore[arg-type]
            console.print(f"{line['code']} {line['column'] or ''}：{line['message']}", highlight=False)
        console.print(f"完整报告：xinyong records report {result.batch_id} --csv 报告.csv", highlight=False)


@app.command("report", help="查看或下载一个导入批次的问题报告")
def report_(
    batch_id: int = typer.Argument(..., help="批次编号"),
    csv_path: Path = typer.Option(None, "--csv", help="把完整报告写入 CSV 文件（Excel 可直接打开）"),
    as_json: bool = typer.Option(False, "--json", help="输出机器可读的 JSON"),
) -> None:
    try:
        with session_scope(session_factory()) as session:
            batch = service.get_batch(session, batch_id)
            if csv_path:
                with csv_path.open("w", encoding="utf-8-sig", newline="") as handle:
                    count = report.write_problems_csv(session, batch.id, handle)
                console.print(f"已写入 {count} 条问题到 {csv_path}", highlight=False)
            elif as_json:
                json.dump(report.batch_document(session, batch), sys.stdout, ensure_ascii=False, indent=2)
                sys.stdout.write("\n")
            else:
                _print_summary(session, service._result(batch))
    except DomainError as exc:
        raise fail(exc) from None


@app.command("batches", help="列出最近的导入批次")
def batches(department: str = typer.Option(None, "--department", help="只看某个部门")) -> None:
    with session_scope(session_factory()) as session:
        dept = departments_service.get_department(session, department) if department else None
        table = Table("批次", "类别", "来源", "文件", "状态", "行数", "新增", "更新", "拒收", "迟报", "开始时间")
        for b in service.list_batches(session, department=dept):
            table.add_row(
                str(b.id), b.record_type, b.source.value, b.filename or "", report.STATUS_LABELS[b.status],
                str(b.rows_read), str(b.created), str(b.updated), str(b.rejected), str(b.late),
                b.started_at.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M"),
            )  # fmt: skip
        console.print(table)


@app.command("revoke", help="撤销本部门报送的一条记录（保留历史）")
def revoke(
    record_type: str = typer.Option(..., "--type", help=TYPE_HELP),
    department: str = typer.Option(..., "--department", help="报送部门的统一社会信用代码"),
    doc_no: str = typer.Option(..., "--doc-no", help="决定文书号"),
    reason: str = typer.Option(..., "--reason", help="撤销理由"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            dept = departments_service.get_department(session, department)
            record = service.revoke_record(
                session, department=dept, record_type=record_type, doc_no=doc_no, reason=reason, actor="cli"
            )
            console.print(f"已撤销：{record.doc_no}（{record.subject_name}）", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None
