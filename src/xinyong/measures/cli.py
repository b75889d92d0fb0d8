"""`xinyong measures …`: load and list the measure list (措施清单)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from xinyong.actors import Actor
from xinyong.commandline import console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.measures import service
from xinyong.regions import inherit
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)


@app.command("load", help="从 TOML 文件载入措施（默认载入内置示例清单）；每条成为新措施，全部成功才保存")
def load(path: Path = typer.Argument(None, help="措施文件（[[measures]]）"),
         region: str = typer.Option(None, "--region", help="行政区划代码：作为该区划自己的措施（在该区划及其下级适用）")) -> None:  # fmt: skip

    try:
        with writing_scope(session_factory()) as session:
            measures = service.load_measures_file(session, path or service.DEFAULT_MEASURES, actor=Actor.system("cli"),
                                                  settings=settings(), region=region)  # fmt: skip
            for m in measures:
                console.print(f"{m.code}@{m.version} {m.matter}：{m.content}", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("list", help="列出现行措施")
def list_(region: str = typer.Option(None, "--region", help="只列该行政区划适用的措施（含继承的上级措施）")) -> None:

    try:
        with session_scope(session_factory()) as session:
            scope = service.ALL_REGIONS if region is None else inherit.owner(session, region)
            table = Table("编号", "版本", "区划", "事项", "内容", "名单", "效果", "依据")
            for m in service.current_measures(session, region=scope):
                table.add_row(m.code, str(m.version), inherit.label(session, m.region_code), m.matter, m.content,
                              "、".join(m.list_types), m.effect.label, m.basis)  # fmt: skip
            console.print(table)
    except DomainError as exc:
        raise fail(exc) from None
