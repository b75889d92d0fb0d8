"""`xinyong audit …`: proving the audit trail intact, and exporting it."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import typer

from xinyong.audit import service
from xinyong.auth.rules import Actor
from xinyong.clock import CHINA
from xinyong.commandline import console, err_console, session_factory
from xinyong.db import session_scope

app = typer.Typer(no_args_is_help=True)


@app.command("verify", help="核验审计日志的哈希链；若记录被改动或删除，报告第一处断开的位置")
def verify(as_json: bool = typer.Option(False, "--json", help="以 JSON 输出")) -> None:
    with session_scope(session_factory()) as session:
        report = service.verify(session)
    if as_json:
        typer.echo(json.dumps({"intact": report.is_intact, "checked": report.checked, "last_seq": report.last_seq,
                               "last_hash": report.last_hash, "broken_seq": report.broken_seq,
                               "broken_id": report.broken_id, "problem": report.problem}, ensure_ascii=False))  # fmt: skip
    elif report.is_intact:
        console.print(f"审计链完整：共核验 {report.checked} 条，末条哈希 {report.last_hash}", highlight=False)
    else:
        err_console.print(f"[red]审计链断开：[/red]{report.problem}", highlight=False)
        err_console.print(f"此前 {report.checked} 条完整，最后一条完整记录的哈希 {report.last_hash}", highlight=False)
    if not report.is_intact:
        raise typer.Exit(1)


def _day(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).replace(tzinfo=CHINA) if text else None


@app.command("export", help="导出审计日志（CSV，写到标准输出）")
def export(
    actor: str = typer.Option(None, "--actor", help="操作人（包含该文字）"),
    since: str = typer.Option(None, "--since", help="起始日期 YYYY-MM-DD（北京时间）"),
    until: str = typer.Option(None, "--until", help="截止日期 YYYY-MM-DD（不含当日，北京时间）"),
) -> None:
    query = service.AuditQuery(actor=actor, since=_day(since), until=_day(until))
    with session_scope(session_factory()) as session:
        service.export_csv(session, query, sys.stdout, actor=Actor.system("cli"))
