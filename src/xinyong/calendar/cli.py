from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from xinyong.calendar import service
from xinyong.commandline import console, fail, session_factory
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.regions import inherit
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)

REGION_HELP = "行政区划代码：该区划自己的工作日/休息日（不填或填本平台区划即全平台）"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"日期“{text}”格式不正确，应为 YYYY-MM-DD") from None


@app.command("set", help="设定某日为工作日或休息日（覆盖国务院节假日安排数据）")
def set_(
    day: str = typer.Argument(..., help="日期 YYYY-MM-DD"),
    workday: bool = typer.Option(..., "--workday/--holiday", help="工作日或休息日"),
    note: str = typer.Option(None, "--note", help="说明，如“2027 年春节调休”"),
    region: str = typer.Option(None, "--region", help=REGION_HELP),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            service.set_override(session, day=_day(day), is_workday=workday, note=note, region=region)
    except DomainError as exc:
        raise fail(exc) from None
    where = f"（行政区划 {region}）" if region else ""
    console.print(f"{day} 已设为{'工作日' if workday else '休息日'}{where}。", highlight=False)


@app.command("remove", help="删除某日的设定")
def remove(day: str = typer.Argument(..., help="日期 YYYY-MM-DD"),
           region: str = typer.Option(None, "--region", help=REGION_HELP)) -> None:  # fmt: skip
    try:
        with writing_scope(session_factory()) as session:
            removed = service.remove_override(session, day=_day(day), region=region)
    except DomainError as exc:
        raise fail(exc) from None
    console.print("已删除。" if removed else "该日没有设定。")


@app.command("list", help="列出自定义的工作日与休息日")
def list_(year: int = typer.Option(None, "--year", help="只看某一年"),
          region: str = typer.Option(None, "--region", help=REGION_HELP)) -> None:  # fmt: skip
    try:
        with session_scope(session_factory()) as session:
            table = Table("日期", "类型", "说明")
            for row in service.list_overrides(session, year=year, region=region):
                table.add_row(row.day.isoformat(), "工作日" if row.is_workday else "休息日", row.note or "")
            console.print(table)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("deadline", help="计算报送期限：决定日期后第 N 个工作日")
def deadline(
    decision: str = typer.Argument(..., help="决定日期 YYYY-MM-DD"),
    workdays: int = typer.Option(7, "--workdays", help="工作日数"),
    region: str = typer.Option(None, "--region", help="按该行政区划的工作日计算（含其继承的上级设定）"),
) -> None:
    try:
        with session_scope(session_factory()) as session:
            calendar = service.load_calendar(session, region=inherit.owner(session, region))
    except DomainError as exc:
        raise fail(exc) from None
    due = calendar.report_deadline(_day(decision), workdays)
    console.print(f"决定日期 {decision}，报送期限 {due.isoformat()}（第 {workdays} 个工作日）。", highlight=False)
    for year in sorted(calendar.uncovered_years):
        console.print(f"[yellow]注意：{year} 年的节假日安排尚未配置，按周一至周五计算。[/yellow]", highlight=False, markup=True)
