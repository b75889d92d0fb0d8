"""`xinyong inspections …`: the inspector roster, plans, the seeded draw, publication and results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong import clock, writequeue
from xinyong.actors import Actor
from xinyong.commandline import console, fail, session_factory, settings
from xinyong.departments import service as departments_service
from xinyong.errors import DomainError, NotFound
from xinyong.inspections import roster, service
from xinyong.inspections.models import InspectionAssignment, PlanStatus
from xinyong.protect import protector
from xinyong.records.models import BatchSource
from xinyong.subjects import service as subjects_service

app = typer.Typer(no_args_is_help=True)
CLI = Actor.system("cli")


@contextmanager
def _session(*, writing: bool = False) -> Iterator[Session]:
    """One transaction; a refusal that is itself a fact to keep (an audited refusal) is committed too. With
    `writing`, a writer's transaction in the writers' turn (`writequeue.writing`): a command that reads and then
    writes, which on SQLite would otherwise fail whenever an import's chunk committed in between."""
    session = session_factory()()
    try:
        with writequeue.writing(session) if writing else nullcontext():
            yield session
        session.commit()
    except DomainError as exc:
        if exc.keeps_changes:
            session.commit()
        else:
            session.rollback()
        raise fail(exc) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _day(text: str | None, what: str = "日期") -> date:
    try:
        return date.fromisoformat(text) if text else clock.today()
    except ValueError:
        raise fail(f"{what}“{text}”格式不正确，应为 YYYY-MM-DD") from None


@app.command("inspector-add", help="登记执法检查人员（执法检查人员库）")
def inspector_add(
    department: str = typer.Option(..., "--department", help="所属部门的统一社会信用代码"),
    name: str = typer.Option(..., "--name", help="姓名"),
    badge: str = typer.Option(..., "--badge", help="执法证号"),
) -> None:
    with _session(writing=True) as session:
        dept = departments_service.get_department(session, department)
        inspector = roster.add_inspector(session, department=dept, name=name, badge_no=badge, actor=CLI)
        console.print(f"已登记检查人员 {inspector.name}（{inspector.badge_no}，{dept.name}）", highlight=False)


@app.command("exclude", help="登记检查人员对某主体的回避（利害关系），抽取时不会选派")
def exclude(
    badge: str = typer.Argument(..., help="检查人员的执法证号"),
    code: str = typer.Argument(..., help="主体的统一社会信用代码"),
    reason: str = typer.Option(..., "--reason", help="回避事由"),
) -> None:
    with _session(writing=True) as session:
        inspector = roster.inspector_by_badge(session, badge)
        roster.exclude(session, inspector=inspector, subject_code=code, reason=reason, actor=CLI,
                       protector=protector(settings()))  # fmt: skip
        console.print(f"已登记：{inspector.name}（{inspector.badge_no}）对 {code} 回避", highlight=False)


@app.command("inspectors", help="列出执法检查人员")
def inspectors(department: str = typer.Option(None, "--department", help="部门的统一社会信用代码")) -> None:
    with _session() as session:
        dept = departments_service.get_department(session, department) if department else None
        table = Table("执法证号", "姓名", "在岗", "回避登记")
        for inspector, count in roster.roster_of_department(session, dept.id if dept else None):
            table.add_row(inspector.badge_no, inspector.name, "是" if inspector.is_active else "否", str(count))
        console.print(table)


def _ratios(values: list[str]) -> dict[str, str]:
    found = {}
    for item in values:
        grade, sep, ratio = item.partition("=")
        if not sep or not grade.strip():
            raise fail(f"抽查比例“{item}”应写作 等级=百分比，如 B=5")
        found[grade.strip()] = ratio.strip()
    return found


@app.command("plan-add", help="制定随机抽查计划：事项、部门、期间、抽查对象名录（主体类别、区域、行业）、各等级抽查比例、重点领域、检查人员")
def plan_add(
    department: str = typer.Option(..., "--department", help="实施检查的部门的统一社会信用代码"),
    matter: str = typer.Option(..., "--matter", help="抽查事项"),
    start: str = typer.Option(..., "--from", help="抽查期间开始（YYYY-MM-DD）"),
    end: str = typer.Option(..., "--to", help="抽查期间结束（YYYY-MM-DD）"),
    kinds: list[str] = typer.Option([], "--kind", help="主体类别：organisation 或 individual_business，可重复"),
    regions: list[str] = typer.Option([], "--region", help="行政区划代码（统一社会信用代码第 3–8 位），可重复"),
    sector: str = typer.Option(None, "--sector", help="行业（见 inspections sectors）"),
    special: list[str] = typer.Option([], "--special", help="重点领域（不论等级全部抽查），可重复"),
    ratios: list[str] = typer.Option([], "--ratio", help="等级=百分比，如 A=2，可重复；未列出的等级用配置的默认比例"),
    badges: list[str] = typer.Option([], "--inspector", help="检查人员执法证号，可重复；默认本部门全部在岗人员"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    draft = service.PlanDraft(matter, _day(start, "开始日期"), _day(end, "结束日期"), kinds, regions, sector, special,
                              _ratios(ratios), badges)  # fmt: skip
    with _session(writing=True) as session:
        dept = departments_service.get_department(session, department)
        plan = service.create_plan(session, draft, department=dept, actor=CLI, settings=settings(), today=clock.today())
        doc: dict[str, Any] = {"plan": plan.number, "matter": plan.matter, "ratios": plan.ratios,
                               "special_domains": plan.special_domains, "population": plan.population}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
    else:
        console.print(f"已制定抽查计划 {doc['plan']}：{doc['matter']}；抽查比例 "
                      + "，".join(f"{g} {r}%" for g, r in doc["ratios"].items()), highlight=False)  # fmt: skip


@app.command("sectors", help="列出可用的行业与重点领域")
def sectors_() -> None:
    table = Table("标识", "名称", "重点领域", "条件")
    for sector in service.sectors(settings()).values():
        table.add_row(sector.key, sector.name, "是" if sector.special else "", f"{sector.record_type}.{sector.field} 含 "
                      + "、".join(sector.contains))  # fmt: skip
    console.print(table)


@app.command("plans", help="列出抽查计划")
def plans() -> None:
    with _session() as session:
        table = Table("编号", "事项", "部门", "期间", "状态")
        for plan, department in service.list_plans(session):
            table.add_row(plan.number, plan.matter, department, f"{plan.period_start}–{plan.period_end}",
                          PlanStatus(plan.status).label)  # fmt: skip
        console.print(table)


@app.command("draw", help="以随机种子抽取检查对象并随机选派检查人员；结果先记录（审计）再显示；同一计划只能抽取一次")
def draw(
    number: str = typer.Argument(..., help="计划编号"),
    seed: int = typer.Option(..., "--seed", help="随机种子（公开、可复现；如现场摇号所得）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    with _session(writing=True) as session:
        plan = service.plan_by_number(session, number)
        service.draw_plan(session, plan.id, seed=seed, actor=CLI, settings=settings(), today=clock.today())
        session.commit()  # recorded and audited before anyone sees it
        doc = service.draw_document(session, plan, settings=settings())
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    console.print(f"计划 {doc['plan']}：种子 {doc['seed']}，名录 {doc['population_size']} 户，抽中 {len(doc['drawn'])} 户",
                  highlight=False)  # fmt: skip
    console.print(f"名录摘要 {doc['population_digest']}", highlight=False)
    console.print(f"结果摘要 {doc['result_digest']}", highlight=False)
    for item in doc["drawn"]:
        console.print(f"  {item['uscc']} {item['name']}（{item['grade']}）检查人员 {'、'.join(item['inspectors'])}",
                      highlight=False)  # fmt: skip


@app.command("verify", help="用记录的名录快照、种子和检查人员名单重新抽取，核对结果是否一致")
def verify(number: str = typer.Argument(..., help="计划编号")) -> None:
    with _session() as session:
        plan = service.plan_by_number(session, number)
        same, recorded, again = service.verify_draw(session, plan)
    if not same:
        raise fail(f"复核不一致：记录的结果摘要 {recorded}，重新抽取得到 {again}")
    console.print(f"复核一致：结果摘要 {recorded}", highlight=False)


@app.command("publish", help="公示抽查计划、抽取结果（及之后录入的检查结果）")
def publish(number: str = typer.Argument(..., help="计划编号")) -> None:
    with _session(writing=True) as session:
        plan = service.plan_by_number(session, number)
        service.publish_plan(session, plan.id, actor=CLI, settings=settings(), today=clock.today())
        console.print(f"已公示计划 {plan.number}，公示至 {plan.publish_until}", highlight=False)


@app.command("result", help="录入检查结果（只能由实施检查的部门录入），结果记入主体的信用记录")
def result(
    number: str = typer.Argument(..., help="计划编号"),
    code: str = typer.Argument(..., help="检查对象的统一社会信用代码"),
    outcome: str = typer.Option(..., "--outcome", help="检查结果，如 未发现问题、发现问题已责令整改"),
    department: str = typer.Option(..., "--department", help="录入部门的统一社会信用代码"),
    on: str = typer.Option(None, "--date", help="检查日期（默认今天）"),
    note: str = typer.Option("", "--note", help="检查情况说明"),
) -> None:
    with _session() as session:
        plan = service.plan_by_number(session, number)
        subject = subjects_service.get_subject(session, code, protector(settings()))
        assignment = session.scalar(select(InspectionAssignment).where(InspectionAssignment.plan_id == plan.id,
                                                                       InspectionAssignment.subject_id == subject.id))  # fmt: skip
        if assignment is None:
            raise NotFound(what=f"计划 {plan.number} 中的检查对象 {code}")
        dept = departments_service.get_department(session, department)
        service.record_result(session, assignment.id, department=dept, outcome=outcome, note=note,
                              inspected_on=_day(on, "检查日期"), actor=CLI, settings=settings(),
                              protector=protector(settings()), today=clock.today(), source=BatchSource.CLI)  # fmt: skip
        console.print(f"已录入 {subject.name} 的检查结果：{outcome}", highlight=False)


@app.command("show", help="查看抽查计划、各等级的抽查比例与实际抽取比例")
def show(
    number: str = typer.Argument(..., help="计划编号"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    with _session() as session:
        plan = service.plan_by_number(session, number)
        view = service.plan_view(session, plan, settings=settings(), with_inspectors=True)
        strata = [{"stratum": s.label, "population": s.population, "asked": s.asked, "drawn": s.drawn}
                  for s in view.strata]  # fmt: skip
        doc = {"plan": plan.number, "matter": plan.matter, "department": view.department,
               "status": plan.status, "strata": strata, "drawn": view.total,
               "results": view.results}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    console.print(f"{doc['plan']} {doc['matter']}（{doc['department']}）", highlight=False)
    for s in strata:
        console.print(f"  {s['stratum']}：名录 {s['population']}，比例 {s['asked']}%，抽中 {s['drawn']}", highlight=False)
