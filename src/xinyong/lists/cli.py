"""`xinyong lists …`: list types, the daily expiry job, and imports of lists decided elsewhere."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from xinyong import clock
from xinyong.actors import Actor
from xinyong.commandline import console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.departments import service as departments_service
from xinyong.errors import DomainError
from xinyong.lists import imports, service
from xinyong.protect import protector
from xinyong.regions import inherit
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)


REGION_HELP = "行政区划代码：该区划自己的名单类型（覆盖上级的同名类型，在该区划及其下级适用；不填即全平台）"


def _day(text: str | None) -> date:

    return date.fromisoformat(text) if text else clock.today()


@app.command("load-types", help="载入名单类型（默认载入内置类型）；没有设立依据的类型会被拒绝；重复运行即更新")
def load_types(path: Path = typer.Argument(None, help="名单类型文件（TOML，[[types]]）"),
               region: str = typer.Option(None, "--region", help=REGION_HELP)) -> None:  # fmt: skip

    try:
        with writing_scope(session_factory()) as session:
            types = service.load_types_file(session, path or service.BUILTIN_TYPES, actor=Actor.system("cli"),
                                            region=region)  # fmt: skip
            for t in types:
                console.print(f"{t.key}：{t.name}（{t.origin.label}，{t.nature.label}）", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("types", help="列出名单类型及其认定部门")
def types_(region: str = typer.Option(None, "--region", help="只列该行政区划适用的名单类型（含继承的上级类型）")) -> None:

    try:
        with session_scope(session_factory()) as session:
            scope = service.ALL_REGIONS if region is None else inherit.owner(session, region)
            names = {d.code: d.name for d in departments_service.list_departments(session)}
            table = Table("标识", "区划", "名称", "来源", "性质", "有效期（月）", "公示", "认定部门", "依据")
            for t in service.list_types(session, region=scope):
                deciders = "、".join(names.get(c, c) for c in t.deciding_departments or []) or "未设置（不接受列入）"
                table.add_row(t.key, inherit.label(session, t.region_code), t.name,
                              t.origin.label + (f"（{t.source}）" if t.source else ""), t.nature.label,
                              str(t.duration_months or "—"), "是" if t.is_public else "否", deciders, t.legal_basis)  # fmt: skip
            console.print(table)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("set-deciders", help="设置名单类型的认定部门（外部导入的名单：其来源部门）；不带部门代码即清空，该名单不再接受新的列入")
def set_deciders(
    list_type: str = typer.Argument(..., help="名单类型标识，如 serious-dishonesty"),
    codes: list[str] = typer.Argument(None, help="认定部门的统一社会信用代码（可多个）"),
    region: str = typer.Option(None, "--region", help="行政区划代码：设置该区划自己的名单类型（不填即全平台的）"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            t = service.set_deciding_departments(session, list_type, codes=codes or [], actor=Actor.system("cli"),
                                                 region=region)  # fmt: skip
            names = [departments_service.get_department(session, c).name for c in t.deciding_departments]
    except DomainError as exc:
        raise fail(exc) from None
    shown = "、".join(names) if names else "无（不再接受新的列入或导入）"
    console.print(f"{t.key}（{t.name}）的认定部门：{shown}", highlight=False)


@app.command("expire", help="将有效期已届满的名单记录移出（期满自动移出）；可每日定时运行，重复运行无副作用")
def expire(
    today: str = typer.Option(None, help="按此日期计算（YYYY-MM-DD，默认北京时间今天）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:

    day = _day(today)
    with writing_scope(session_factory()) as session:  # reads, then writes (see writequeue.writing_scope)
        count = service.expire_due(session, today=day)
    if as_json:
        typer.echo(json.dumps({"today": day.isoformat(), "expired": count}))
    else:
        console.print(f"{day.isoformat()}：期满移出 {count} 条名单记录", highlight=False)


@app.command("import", help="导入外部认定的名单文件（CSV/XLSX），输出问题报告摘要")
def import_(
    list_type: str = typer.Argument(..., help="名单类型标识，如 court-dishonest-debtors"),
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="名单文件"),
    department: str = typer.Option(..., "--department", help="导入部门的统一社会信用代码"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:

    try:
        with writing_scope(session_factory()) as session:
            dept = departments_service.get_department(session, department)
            outcome = imports.import_list_file(session, path, type_key=list_type, department=dept,
                                               actor=Actor.system("cli"), settings=settings(),
                                               protector=protector(settings()), today=_day(None))  # fmt: skip
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(outcome.as_dict(), ensure_ascii=False))
        return
    if outcome.failure:
        raise fail(f"文件未能导入：{outcome.failure}")
    console.print(f"导入批次 {outcome.import_id}：读取 {outcome.rows} 行，新增 {outcome.created}，更新 {outcome.updated}，"
                  f"未变 {outcome.unchanged}，退回 {outcome.rejected}", highlight=False)  # fmt: skip
