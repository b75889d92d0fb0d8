"""`xinyong monitoring …`: the department assessment, the monthly report, 重错码 checks and warning rules."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from xinyong import clock
from xinyong.commandline import console, fail, session_factory, settings
from xinyong.db import session_scope
from xinyong.errors import DomainError
from xinyong.monitoring import quality, rules, service
from xinyong.writequeue import writing_scope

app = typer.Typer(no_args_is_help=True)


@app.command("kpis", help="按月列出各部门考核指标、总分与排名（--json 输出机器可读格式）")
def kpis(
    month: str = typer.Option(..., "--month", help="月份 YYYY-MM"),
    department: str = typer.Option(None, "--department", help="只看一个部门（部门统一社会信用代码）"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    base_url: str = typer.Option("", "--base-url", help="明细链接前缀（如 https://xinyong.example.gov.cn）"),
) -> None:
    try:
        with session_scope(session_factory()) as session:
            today = clock.today()
            parsed = service.parse_month(month, today=today)
            department_id = service.parse_department(session, department)
            result = service.compute_month(session, month=parsed, settings=settings(), today=today,
                                           department_id=department_id)  # fmt: skip
            if as_json:
                print(json.dumps(service.to_json(result, base_url=base_url.rstrip("/")), ensure_ascii=False, indent=2))
                return
            defs = result.definitions
            table = Table(title=f"{parsed} 部门考核（“—”：无可计算的数据或来源未接入）")
            for column in ("排名", "部门", *[k.name for k in defs.kpis], "总分"):
                table.add_column(column)
            rows = [*result.departments, *([result.city] if result.city and department_id is None else [])]
            for row in rows:
                table.add_row(str(row.rank or "—"), row.department.name,
                              *[rules.display(k, row.values[k.key]) for k in defs.kpis],
                              "—" if row.score is None else f"{row.score:.1f}")  # fmt: skip
            console.print(table)
            for reason in sorted(set(result.unavailable.values())):
                console.print(f"说明：{reason}，相关指标显示“—”", highlight=False)
    except DomainError as exc:
        raise fail(exc) from None


@app.command("report", help="生成月报：--out 以 .xlsx 结尾生成工作簿，以 .pdf 结尾生成 PDF")
def make_report(
    month: str = typer.Option(..., "--month", help="月份 YYYY-MM"),
    out: Path = typer.Option(..., "--out", help="输出文件（.xlsx 或 .pdf）"),
) -> None:
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".pdf"):
        raise fail("输出文件须以 .xlsx 或 .pdf 结尾")
    try:
        with session_scope(session_factory()) as session:
            today = clock.today()
            data = service.report_data(session, month=service.parse_month(month, today=today), settings=settings(),
                                       today=today)  # fmt: skip
            from xinyong.monitoring import report  # the workbook and PDF engines: this command only

            content = report.workbook(data) if suffix == ".xlsx" else report.pdf(data, font_file=settings().pdf_font)
    except DomainError as exc:
        raise fail(exc) from None
    out.write_bytes(content)
    console.print(f"已生成 {out}（{len(content) // 1024} KB）", highlight=False)


@app.command("quality-scan", help="重错码检查：一码多名、一名多码、旧代码不符、校验位错误")
def quality_scan() -> None:
    with session_scope(session_factory()) as session:  # the whole register: read before the write lock
        found = quality.find(session)
    with writing_scope(session_factory()) as session:
        result = quality.store(session, found, actor="cli")
    console.print(f"发现 {result.found} 个问题（新增 {result.new}，已消除 {result.gone}）；"
                  f"涉及主体 {result.affected} / 有代码的主体 {result.with_codes}，"
                  f"重错码率 {rules.percent(result.rate, 4)}", highlight=False)  # fmt: skip


@app.command("warnings", help="按预警规则评估本月（或指定月份），向相关部门发出预警、解除已消除的预警")
def warnings(month: str = typer.Option(None, "--month", help="月份 YYYY-MM，默认本月")) -> None:
    try:
        today = clock.today()
        parsed = service.parse_month(month, today=today)
        with session_scope(session_factory()) as session:  # the month's figures: read before the write lock
            figures = service.month_figures(session, month=parsed, settings=settings(), today=today)
        with writing_scope(session_factory()) as session:
            run = service.evaluate_warnings(session, month=parsed, settings=settings(), today=today, actor="cli",
                                            figures=figures)  # fmt: skip
    except DomainError as exc:
        raise fail(exc) from None
    detail = "，".join(f"{rule} {count}" for rule, count in sorted(run.by_rule.items()))
    console.print(f"新发出预警 {run.raised} 条{f'（{detail}）' if detail else ''}，自动解除 {run.resolved} 条；"
                  "运行 `xinyong notify deliver` 发送邮件（控制台收件箱在网页请求后即送达）", highlight=False)  # fmt: skip
