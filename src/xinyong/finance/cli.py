"""`xinyong finance`: register financial institutions, issue their keys, publish the whitelist, see unanswered
demands (the 信用办's work, also on the console at /admin/finance)."""

from __future__ import annotations

import typer
from rich.table import Table

from xinyong import clock
from xinyong.actors import Actor
from xinyong.commandline import console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.finance import service
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)
CLI = Actor.system("cli")


@app.command("add-institution", help="登记一个金融机构")
def add_institution(
    code: str = typer.Option(..., "--code", help="统一社会信用代码"),
    name: str = typer.Option(..., "--name", help="机构名称"),
    purpose: list[str] = typer.Option([], "--purpose", help="贷款用途，可重复；省略为全部用途"),
    min_amount: str = typer.Option("1", "--min", help="最低金额（万元）"),
    max_amount: str = typer.Option("5000", "--max", help="最高金额（万元）"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            made = service.register_institution(session, code=code, name=name, purposes=list(purpose),
                                                min_amount=min_amount, max_amount=max_amount, actor=CLI)  # fmt: skip
            console.print(f"已登记金融机构：{made.name}（{made.code}），编号 {made.id}", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("issue-key", help="为金融机构签发访问密钥（只显示这一次）")
def issue_key(
    code: str = typer.Option(..., "--code", help="机构的统一社会信用代码"),
    name: str = typer.Option("信贷业务系统", "--name", help="密钥用途"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            institution = service.institution_by_code(session, code)
            _, secret = service.issue_key(session, institution, name=name, actor=CLI)
            console.print(secret, highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("publish-whitelist", help="按现行规则发布新一版白名单")
def publish_whitelist() -> None:
    try:
        today = clock.today()
        with session_scope(session_factory()) as session:  # every graded subject: read before the write lock
            rule, entries = service.prepare_whitelist(session, rule=None, settings=settings(), today=today)
        with writing_scope(session_factory()) as session:
            feed = service.store_whitelist(session, rule=rule, entries=entries, today=today, actor=CLI)
            console.print(f"已发布白名单第 {feed.version} 版（{feed.as_of}），{len(feed.entries)} 个主体", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("overdue", help="列出超过服务时限仍未答复的融资需求")
def overdue() -> None:
    with session_scope(session_factory()) as session:
        table = Table("编号", "主体", "金额（万元）", "发布", "答复时限", "状态")
        for d in service.overdue_demands(session, clock.today()):
            table.add_row(str(d.id), d.subject_name, str(d.amount), str(d.posted_on), str(d.respond_by), d.status.label)
        console.print(table)
