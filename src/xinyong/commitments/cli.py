from __future__ import annotations

import typer
from rich.table import Table

from xinyong import clock
from xinyong.actors import Actor
from xinyong.commandline import console, fail, session_factory
from xinyong.commandline import settings as load_settings
from xinyong.commitments import service
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.regions import inherit
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)


@app.command("templates", help="列出信用办发布的信用承诺书模板")
def templates(region: str = typer.Option(None, "--region", help="只列该行政区划采用的模板（未设定的继承上级的）")) -> None:
    try:
        with session_scope(session_factory()) as session:
            shown = service.templates(load_settings(), session, region=inherit.owner(session, region))
    except DomainError as exc:
        raise fail(exc) from None
    for t in shown:
        console.print(f"{t.key}  {t.name}（{t.kind}，有效期 {t.valid_months} 个月，{t.openness}）", highlight=False)
        console.print(f"    依据：{t.basis}", highlight=False, soft_wrap=True)


@app.command("set-templates", help="设置某行政区划采用的承诺书模板（不设置即继承上级的；--inherit 恢复继承）")
def set_templates(
    keys: list[str] = typer.Argument(None, help="模板标识（可多个）"),
    region: str = typer.Option(None, "--region", help="行政区划代码（不填或填本平台区划即全平台）"),
    inherit_parent: bool = typer.Option(False, "--inherit", help="删除该区划自己的设定，继承上级的"),
) -> None:
    if not inherit_parent and not keys:
        raise fail("请给出模板标识，或用 --inherit 恢复继承上级的设定")
    try:
        with writing_scope(session_factory()) as session:
            owner = service.set_region_templates(session, region, None if inherit_parent else list(keys),
                                                 actor=Actor.system("cli"), settings=load_settings())  # fmt: skip
            name = inherit.label(session, owner)
            chosen = service.region_templates(session, owner)
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"{name}采用的承诺书模板：{'、'.join(sorted(chosen)) if chosen is not None else '全部'}", highlight=False)


@app.command("tasks", help="为尚无核查任务的告知承诺建立任务，并列出逾期未核查的任务")
def tasks() -> None:
    settings = load_settings()
    today = clock.today()
    with writing_scope(session_factory()) as session:  # reads, then writes (see writequeue.writing_scope)
        created = service.sync_tasks(session, settings=settings)
        rows = service.tasks(session, actor=Actor.system("cli"), settings=settings, today=today)
        overdue = [r for r in rows if r.is_overdue]
        table = Table("承诺编码", "承诺人", "事项", "核查期限")
        for r in overdue:
            table.add_row(r.task.code, r.item.record.subject_name, r.task.matter[:30], r.task.due_on.isoformat())
    console.print(f"新建核查任务 {created} 个；待核查 {len(rows)} 个，其中逾期 {len(overdue)} 个。", highlight=False)
    if overdue:
        console.print(table)


@app.command("dashboard", help="各部门受理、按期核查、违诺的信用承诺数")
def dashboard() -> None:
    settings = load_settings()
    with session_scope(session_factory()) as session:
        missing = service.tasks_missing(session, settings=settings)
    if missing:  # created first, as in `tasks`: a writer's transaction only when a read found one missing
        with writing_scope(session_factory()) as session:
            service.sync_tasks(session, settings=settings)
    with session_scope(session_factory()) as session:
        rows = service.dashboard(session, actor=Actor.system("cli"), settings=settings, today=clock.today(),
                                 sync=False)  # fmt: skip
    table = Table("部门", "受理", "核查任务", "已核查", "按期核查", "逾期未核查", "违诺")
    for r in rows:
        table.add_row(r.department, str(r.accepted), str(r.tasks), str(r.verified), str(r.verified_on_time),
                      str(r.overdue), str(r.broken))  # fmt: skip
    console.print(table)
