"""`xinyong evaluation …`: load a model, run it over every subject, show a subject's grade and who moved."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from xinyong import clock
from xinyong.actors import Actor
from xinyong.commandline import console, err_console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.evaluation import explain, service
from xinyong.evaluation.spec import ModelInvalid
from xinyong.protect import protector
from xinyong.regions import inherit
from xinyong.subjects import service as subjects_service
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else clock.today()
    except ValueError:
        raise fail(f"日期“{text}”格式不正确，应为 YYYY-MM-DD") from None


@app.command("load-model", help="载入评价模型（TOML；默认载入内置模型）；同一版本内容不同时拒绝，须提高版本号")
def load_model(
    path: Path = typer.Argument(None, help="评价模型文件"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    try:
        with writing_scope(session_factory()) as session:
            row, created = service.load_model_file(session, path or service.BUILTIN_MODEL, actor=Actor.system("cli"),
                                                   settings=settings())  # fmt: skip
            summary = {"key": row.key, "version": row.version, "name": row.name, "digest": row.digest,
                       "created": created}  # fmt: skip
    except ModelInvalid as exc:
        if as_json:
            typer.echo(json.dumps({"problems": [p.__dict__ for p in exc.problems]}, ensure_ascii=False))
        else:
            err_console.print(f"[red]评价模型有误（{len(exc.problems)} 处）：[/red]", highlight=False, markup=True)
            for problem in exc.problems:
                err_console.print(f"  [{problem.code}] {problem.where}：{problem.message}", highlight=False)
        raise typer.Exit(1) from None
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    else:
        state = "已载入" if created else "已是当前内容，未变更"
        console.print(f"{row.key} {row.version}（{row.name}）：{state}", highlight=False)


@app.command("models", help="列出已载入的评价模型版本")
def models() -> None:
    with session_scope(session_factory()) as session:
        table = Table("标识", "版本", "名称", "载入时间", "摘要")
        for row in service.list_models(session):
            table.add_row(row.key, row.version, row.name, row.loaded_at.astimezone(clock.CHINA).strftime("%Y-%m-%d %H:%M"),
                          row.digest[:12])  # fmt: skip
        console.print(table)


@app.command("set-model", help="设置某行政区划的评价所用的模型（不设置即继承上级的；--inherit 恢复继承）")
def set_model(
    model: str = typer.Argument(None, help="模型标识（须已载入）"),
    region: str = typer.Option(None, "--region", help="行政区划代码（不填或填本平台区划即全平台）"),
    inherit_parent: bool = typer.Option(False, "--inherit", help="删除该区划自己的设定，继承上级的"),
) -> None:
    if not inherit_parent and not model:
        raise fail("请给出模型标识，或用 --inherit 恢复继承上级的模型")
    try:
        with writing_scope(session_factory()) as session:
            owner = service.set_region_model(session, region, None if inherit_parent else model,
                                             actor=Actor.system("cli"))  # fmt: skip
            name = inherit.label(session, owner)
            effective = service.region_model(session, owner) or "最近载入的模型"
    except DomainError as exc:
        raise fail(exc) from None
    console.print(f"{name}的评价模型：{effective}", highlight=False)


@app.command("run", help="按评价日对全部法人和个体工商户进行综合评价（集合运算，结果按批次保存）")
def run(
    as_of: str = typer.Option(None, "--as-of", help="评价日（YYYY-MM-DD，默认北京时间今天）"),
    model: str = typer.Option(None, "--model", help="模型标识（默认最近载入的模型）"),
    version: str = typer.Option(None, "--version", help="模型版本（默认该模型最近载入的版本）"),
    region: str = typer.Option(None, "--region", help="行政区划代码：使用该区划选定的模型（未选定的继承上级的）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    day = _day(as_of)
    try:
        with session_scope(session_factory()) as session:
            owner = inherit.owner(session, region) if region else None
            result = service.run_evaluation(session, as_of=day, actor=Actor.system("cli"), settings=settings(),
                                            key=model, version=version, region=owner)  # fmt: skip
            same = service.same_result_as(session, result)
            doc = {"run": result.id, "as_of": day.isoformat(), "subjects": result.subjects,
                   "grades": result.grade_counts, "changes": result.changes, "digest": result.digest,
                   "same_as_run": same}  # fmt: skip
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    grades = "，".join(f"{g} {n}" for g, n in result.grade_counts.items())
    console.print(f"评价批次 {result.id}（评价日 {day.isoformat()}）：{result.subjects} 个主体；{grades}；"
                  f"等级变化 {result.changes} 个", highlight=False)  # fmt: skip
    console.print(f"结果摘要 {result.digest}" + (f"（与批次 {same} 相同）" if same else ""), highlight=False)


@app.command("show", help="查看主体最近一次评价的等级、得分和各项指标（含所依据的记录）")
def show(
    code: str = typer.Argument(..., help="统一社会信用代码"),
    run_id: int = typer.Option(None, "--run", help="评价批次（默认最近一次）"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    try:
        with session_scope(session_factory()) as session:
            subject = subjects_service.get_subject(session, code, protector(settings()))
            chosen = service.get_run(session, run_id)[0] if run_id else None
            found = explain.explain(session, subject, settings=settings(), today=clock.today(), run=chosen)
            if found is None:
                raise fail("该主体尚无评价结果（不在评价范围内，或尚未运行评价）")
            doc = found.as_dict()
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps(doc, ensure_ascii=False))
        return
    console.print(f"{doc['subject']['name']}：{doc['grade']}（{doc['grade_label']}），得分 {doc['score']} / "
                  f"{doc['max_score']}，评价日 {doc['run']['as_of']}，模型 {doc['run']['model']}", highlight=False)  # fmt: skip
    if doc["override_reason"]:
        console.print(f"等级调整：{doc['override_reason']}", highlight=False)
    for item in doc["indicators"]:
        console.print(f"  {item['path']} › {item['name']}：{item['points']:+d} 分（{item['hits']} 条）", highlight=False)
        for record in item["records"]:
            points = f" {record['points']} 分" if record["points"] is not None else ""
            console.print(f"      {record['title']} {record['doc_no']} {record['decision_date'] or ''}{points}",
                          highlight=False)  # fmt: skip
    for prospect in doc["what_would_change_it"]:
        when = f"{prospect['on']} 起" if prospect["on"] else "现在"
        console.print(f"  · {when}：{prospect['reason']} → 得分 {prospect['score']}，等级 {prospect['grade']}",
                      highlight=False)  # fmt: skip


@app.command("changes", help="列出最近一次（或指定）评价批次中等级发生变化的主体及原因")
def changes(
    run_id: int = typer.Option(None, "--run", help="评价批次（默认最近一次）"),
    direction: str = typer.Option(None, "--direction", help="down（下降）或 up（上升）"),
    limit: int = typer.Option(50, "--limit", min=1, max=10000),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出"),
) -> None:
    try:
        with session_scope(session_factory()) as session:
            chosen = service.get_run(session, run_id)[0] if run_id else service.latest_run(session)
            if chosen is None:
                raise fail("尚无已完成的评价批次")
            found, total = service.changes(session, chosen, settings=settings(), direction=direction, limit=limit)
    except DomainError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"run": chosen.id, "total": total, "changes": [c.as_dict() for c in found]},
                              ensure_ascii=False))  # fmt: skip
        return
    console.print(f"评价批次 {chosen.id}：等级变化 {total} 个主体", highlight=False)
    for c in found:
        why = "；".join(f"{n} {b:+d}→{a:+d}" for n, b, a in c.reasons) or "—"
        console.print(f"  {c.name} {c.uscc or ''}：{c.from_grade}→{c.to_grade}（{c.from_score}→{c.to_score}）{why}",
                      highlight=False)  # fmt: skip
