from __future__ import annotations

import typer

from xinyong import migrate
from xinyong.cli import console, settings

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade", help="创建数据库或迁移到最新版本（XINYONG_DATABASE_URL 指定的数据库）")
def upgrade(revision: str = typer.Argument("heads", help="目标版本")) -> None:
    migrate.upgrade(settings().database_url, revision)
    console.print("数据库已是最新版本。")
