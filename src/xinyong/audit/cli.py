"""`xinyong audit …`: proving the audit trail intact, and exporting it."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import typer
from rich.markup import escape

from xinyong.actors import Actor
from xinyong.audit import service
from xinyong.clock import CHINA
from xinyong.commandline import console, err_console, fail, session_factory
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)


@app.command("verify", help="用审计密钥核验审计日志的哈希链，并与已发布的检查点核对；报告第一处被改动、删除或重算的记录")
def verify(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    try:
        with session_scope(session_factory()) as session:
            report = service.verify(session)
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"intact": report.is_intact, "checked": report.checked, "last_seq": report.last_seq,
                               "last_hash": report.last_hash, "broken_seq": report.broken_seq,
                               "broken_id": report.broken_id, "problem": report.problem,
                               "checkpoints": report.checkpoints, "keyed_from": report.keyed_from},
                              ensure_ascii=False))  # fmt: skip
    elif report.is_intact:
        console.print(f"审计链完整：共核验 {report.checked} 条，与 {report.checkpoints} 个已发布的检查点相符，"
                      f"末条哈希 {report.last_hash}", highlight=False, soft_wrap=True)  # fmt: skip
        if report.checked and report.keyed_from != 1:
            keyed = f"自第 {report.keyed_from} 条起" if report.keyed_from else "尚无记录"
            console.print(f"（启用审计密钥之前写入的记录使用无密钥哈希；{keyed}使用审计密钥签名）", highlight=False)
    else:
        # Unwrapped: each line is one message, whatever the terminal's width.
        err_console.print(f"[red]审计链断开：[/red]{escape(str(report.problem))}", highlight=False, soft_wrap=True, markup=True)
        err_console.print(f"此前 {report.checked} 条完整，最后一条完整记录的哈希 {report.last_hash}", highlight=False,
                          soft_wrap=True)  # fmt: skip
    if not report.is_intact:
        raise typer.Exit(1)


@app.command("checkpoint", help="发布审计链当前末条的检查点（带签名，追加到检查点文件）；可每日定时运行")
def checkpoint(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    try:
        with session_scope(session_factory()) as session:
            point = service.publish_checkpoint(session)
    except DomainError as exc:
        raise fail(exc) from None
    except OSError as exc:
        raise fail(f"无法写入检查点文件：{exc}") from None
    if as_json:
        typer.echo(json.dumps(point.fields() if point else None, ensure_ascii=False))
    elif point is None:
        console.print("审计日志为空，无需发布检查点", highlight=False)
    else:
        console.print(f"已发布检查点：第 {point.seq} 条，哈希 {point.hash}", highlight=False, soft_wrap=True)


def publish_daily_checkpoint() -> None:
    """For the daily jobs: a checkpoint of the chain's head; a failure is reported, the job's own work stands."""
    try:
        with session_scope(session_factory()) as session:
            service.publish_checkpoint(session)
    except (DomainError, OSError) as exc:
        message = exc.message if isinstance(exc, DomainError) else str(exc)
        err_console.print(f"[yellow]警告：[/yellow]未能发布审计检查点：{escape(str(message))}", highlight=False, markup=True)


def _day(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA) if text else None


@app.command("export", help="导出审计日志（CSV，写到标准输出）")
def export(
    actor: str = typer.Option(None, "--actor", help="操作人（包含该文字）"),
    since: str = typer.Option(None, "--since", help="起始日期 YYYY-MM-DD（北京时间）"),
    until: str = typer.Option(None, "--until", help="截止日期 YYYY-MM-DD（不含当日，北京时间）"),
) -> None:
    query = service.AuditQuery(actor=actor, since=_day(since), until=_day(until))
    with session_scope(session_factory()) as session:  # reads only, however long the trail
        rows = service.write_entries(session, query, sys.stdout)
    with writing_scope(session_factory()) as session:  # the export is a look-up too: recorded
        service.record_export(session, query, rows, actor=Actor.system("cli"))
