from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from xinyong.calendar import service
from xinyong.commandline import console, fail, session_factory
from xinyong.db import session_scope

app = typer.Typer(no_args_is_help=True)


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
) -> None:
    with session_scope(session_factory()) as session:
        service.set_override(session, day=_day(day), is_workday=workday, note=note)
    console.print(f"{day} 已设为{'工作日' if workday else '休息日'}。", highlight=False)


@app.command("remove", help="删除某日的设定")
def remove(day: str = typer.Argument(..., help="日期 YYYY-MM-DD")) -> None:
    with session_scope(session_factory()) as session:
        removed = service.remove_override(session, day=_day(day))
    console.print("已删除。" if removed else "该日没有设定。")


@app.command("list", help="列出自定义的工作日与休息日")
def list_(year: int = typer.Option(None, "--year", help="只看某一年")) -> None:
    with session_scope(session_factory()) as session:
        table = Table("日期", "类型", "说明")
        for row in service.list_overrides(session, year=year):
            table.add_row(row.day.isoformat(), "工作日" if row.is_workday else "休息日", row.note or "")
        console.print(table)


@app.command("deadline", help="计算报送期限：决定日期后第 N 个工作日")
def deadline(
    decision: str = typer.Argument(..., help="决定日期 YYYY-MM-DD"),
    workdays: int = typer.Option(7, "--workdays", help="工作日数"),
) -> None:
    with session_scope(session_factory()) as session:
        calendar = service.load_calendar(session)
    due = calendar.report_deadline(_day(decision), workdays)
    console.print(f"决定日期 {decision}，报送期限 {due.isoformat()}（第 {workdays} 个工作日）。", highlight=False)
    for year in sorted(calendar.uncovered_years):
        console.print(f"[yellow]注意：{year} 年的节假日安排尚未配置，按周一至周五计算。[/yellow]", highlight=False)
