"""`xinyong repair …`: what the 信用办 watches from a shell."""

from __future__ import annotations

import json
from datetime import date

import typer

from xinyong.actors import Actor
from xinyong.clock import today as china_today
from xinyong.commandline import console, session_factory
from xinyong.db import session_scope
from xinyong.departments.models import Department
from xinyong.objections import service as objections_service
from xinyong.repair import service as repair_service

app = typer.Typer(no_args_is_help=True)


@app.command("overdue", help="按部门统计逾期未办结的信用修复申请与异议")
def overdue(
    today: str = typer.Option(None, help="按此日期计算（YYYY-MM-DD，默认北京时间今天）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:

    day = date.fromisoformat(today) if today else china_today()
    actor = Actor.system()
    with session_scope(session_factory()) as session:
        repairs = dict(repair_service.overdue_by_department(session, actor, today=day))
        objections: dict[str, int] = {}

        for item in objections_service.queue(session, actor, status="overdue", today=day, limit=100_000):
            department = session.get(Department, item.department_id)
            name = department.name if department else str(item.department_id)
            objections[name] = objections.get(name, 0) + 1
    if as_json:
        typer.echo(json.dumps({"today": day.isoformat(), "repairs": repairs, "objections": objections},
                              ensure_ascii=False))  # fmt: skip
        return
    names = sorted(set(repairs) | set(objections))
    if not names:
        console.print(f"{day.isoformat()}：没有逾期的申请", highlight=False)
    for name in names:
        console.print(f"{name}：信用修复逾期 {repairs.get(name, 0)} 件，异议逾期 {objections.get(name, 0)} 件",
                      highlight=False)  # fmt: skip
