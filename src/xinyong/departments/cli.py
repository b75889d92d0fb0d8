from __future__ import annotations

from datetime import timedelta

import typer
from rich.table import Table

from xinyong.actors import API_PERMISSIONS, Actor
from xinyong.commandline import console, fail, session_factory
from xinyong.db import session_scope, utcnow
from xinyong.departments import service
from xinyong.errors import DomainError
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)
SCOPE_HELP = (f"授予的接口权限，可重复（如 api:checks:write、api:lists:write）；默认 {'、'.join(service.DEFAULT_SCOPES)}。"
              f"可用：{'、'.join(sorted(p.value for p in API_PERMISSIONS))}")  # fmt: skip


@app.command("add", help="登记一个部门（数据来源单位）")
def add(
    code: str = typer.Option(..., "--code", help="部门的统一社会信用代码"),
    name: str = typer.Option(..., "--name", help="部门名称"),
    region: str = typer.Option(None, "--region", help="行政区划代码（默认取自信用代码第 3–8 位）"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            department = service.add_department(session, code=code, name=name, region=region)
            console.print(f"已登记部门：{department.name}（{department.code}）", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("move", help="将部门调整到另一行政区划（此前的数据仍属原区划；记入审计日志）")
def move(
    department: str = typer.Option(..., "--department", help="部门的统一社会信用代码"),
    region: str = typer.Option(..., "--region", help="调入的行政区划代码（须已登记）"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            dept = service.get_department(session, department)
            before = dept.region
            service.move_department(session, dept.id, region=region, actor=Actor.system("cli"))
            console.print(f"已将{dept.name}从 {before} 调整到 {dept.region}；此前报送的数据仍属 {before}。", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("list", help="列出已登记的部门")
def list_() -> None:
    with session_scope(session_factory()) as session:
        table = Table("统一社会信用代码", "名称", "行政区划")
        for department in service.list_departments(session):
            table.add_row(department.code, department.name, department.region or "")
        console.print(table)


@app.command("issue-key", help="为部门签发接口访问密钥（只显示一次）")
def issue_key(
    department: str = typer.Option(..., "--department", help="部门的统一社会信用代码"),
    name: str = typer.Option("部门业务系统", "--name", help="密钥用途"),
    days: int = typer.Option(365, "--days", min=1, max=3650, help="有效天数"),
    scope: list[str] = typer.Option(None, "--scope", help=SCOPE_HELP),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            dept = service.get_department(session, department)
            key, token = service.issue_api_key(
                session, department=dept, name=name, scopes=scope or None, expires_at=utcnow() + timedelta(days=days)
            )
            console.print(f"已为 {dept.name} 签发访问密钥（编号 {key.prefix}，{days} 天内有效，"
                          f"权限：{'、'.join(key.scopes)}）。", highlight=False)  # fmt: skip
            console.print("请立即妥善保存，平台不会再次显示：", highlight=False)
            typer.echo(token)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("revoke-key", help="吊销接口访问密钥")
def revoke_key(prefix: str = typer.Argument(..., help="密钥编号")) -> None:
    try:
        with writing_scope(session_factory()) as session:
            service.revoke_api_key(session, prefix=prefix)
            console.print(f"访问密钥 {prefix} 已吊销。", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None
