from __future__ import annotations

import typer
from rich.table import Table

from xinyong.actors import Actor
from xinyong.commandline import console, fail, session_factory
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.regions import rules, service
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)


@app.command("add", help="登记行政区划：第一个登记的是本平台自身的区划（如市），其余登记在它之下（如县、区）")
def add(
    code: str = typer.Argument(..., help="GB/T 2260 行政区划代码，如 371122"),
    name: str = typer.Option(None, "--name", help="名称（默认取自 GB/T 2260 代码表）"),
    parent: str = typer.Option(None, "--parent", help="上级区划代码（默认为已登记的所属市或本平台区划）"),
    host: str = typer.Option(None, "--host", help="该区划门户网站的域名（同一实例按域名提供县级信用网站）"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            region = service.add_region(session, code=code, name=name, parent=parent, host=host,
                                        actor=Actor.system("cli"))  # fmt: skip
            where = f"，上级 {region.parent_code}" if region.parent_code else "（本平台自身的区划）"
            console.print(f"已登记行政区划：{region.name}（{region.code}）{where}", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("set", help="修改行政区划的名称、上级或门户域名")
def set_(
    code: str = typer.Argument(...),
    name: str = typer.Option(None, "--name"),
    parent: str = typer.Option(None, "--parent"),
    host: str = typer.Option(None, "--host"),
    clear_host: bool = typer.Option(False, "--clear-host", help="取消该区划的门户域名"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            region = service.update_region(session, code, name=name, parent=parent, host=host, clear_host=clear_host,
                                           actor=Actor.system("cli"))  # fmt: skip
            console.print(f"已更新行政区划：{region.name}（{region.code}）", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("list", help="列出行政区划树")
def list_() -> None:
    with session_scope(session_factory()) as session:
        table = Table("代码", "名称", "级别", "门户域名")
        for depth, node in service.list_regions(session):
            table.add_row(node.code, "　" * depth + node.name, rules.LEVEL_TITLES[rules.level(node.code)],
                          node.host or "")  # fmt: skip
        console.print(table)
