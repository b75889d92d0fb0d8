from __future__ import annotations

from pathlib import Path

import typer
from alembic.util.exc import CommandError

from xinyong import backup, migrate
from xinyong.commandline import console, fail, settings
from xinyong.errors import DomainError

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade", help="创建数据库或迁移到最新版本（XINYONG_DATABASE_URL 指定的数据库）")
def upgrade(revision: str = typer.Argument("heads", help="目标版本")) -> None:
    url = settings().database_url
    before = migrate.database_revisions(url)
    unknown = sorted(set(before) - migrate.known_revisions())
    if unknown:
        raise fail(f"数据库版本 {'、'.join(unknown)} 不是本程序已知的版本（数据库来自更新版本的程序），请先升级程序")
    try:
        migrate.upgrade(url, revision)
    except CommandError as exc:  # a target revision that does not exist
        raise fail(f"无法迁移：{exc}") from None
    after = migrate.database_revisions(url)
    if before == after:
        console.print(f"数据库已是目标版本（{'、'.join(after) or '空'}），无需迁移。", highlight=False, markup=False)
    else:
        console.print(f"数据库已迁移：{'、'.join(before) or '空库'} → {'、'.join(after)}。", highlight=False, markup=False)


@app.command("backup", help="备份数据库到文件（SQLite：在线备份；PostgreSQL：pg_dump 自定义格式），导入进行中也可运行")
def backup_(out: Path = typer.Argument(..., help="备份文件")) -> None:
    try:
        outcome = backup.backup(settings().database_url, out)
    except DomainError as exc:
        raise fail(exc) from None
    kind = "SQLite 数据库文件" if outcome.kind == "sqlite" else "pg_dump 自定义格式"
    console.print(f"已备份到 {outcome.path}（{kind}，{outcome.size:,} 字节）", highlight=False, markup=False)


@app.command("restore", help="从备份文件恢复数据库（会覆盖当前数据库的全部内容；先停止网站服务和定时任务）")
def restore(
    source: Path = typer.Argument(..., help="备份文件（xinyong db backup 生成）"),
    force: bool = typer.Option(False, "--force", help="当前数据库已有数据时仍然覆盖"),
) -> None:
    try:
        outcome = backup.restore(settings().database_url, source, force=force)
    except DomainError as exc:
        raise fail(exc) from None
    if outcome.set_aside is not None:
        console.print(f"原数据库文件不是可读的数据库，已移到 {outcome.set_aside}（未删除）", highlight=False, markup=False)
    revisions = migrate.database_revisions(settings().database_url)
    console.print(f"已从 {outcome.path} 恢复数据库（版本 {'、'.join(revisions) or '未知'}）；"
                  "如版本较旧，请运行 xinyong db upgrade", highlight=False, markup=False)  # fmt: skip
