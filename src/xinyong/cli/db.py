from __future__ import annotations

import typer

from xinyong import migrate
from xinyong.commandline import console, settings

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade", help="创建数据库或迁移到最新版本（XINYONG_DATABASE_URL 指定的数据库）")
def upgrade(revision: str = typer.Argument("heads", help="目标版本")) -> None:
    url = settings().database_url
    before = migrate.database_revisions(url)
    migrate.upgrade(url, revision)
    after = migrate.database_revisions(url)
    if before == after:
        console.print(f"数据库已是目标版本（{'、'.join(after) or '空'}），无需迁移。", highlight=False)
    else:
        console.print(f"数据库已迁移：{'、'.join(before) or '空库'} → {'、'.join(after)}。", highlight=False)
