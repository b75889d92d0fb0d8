"""The monthly monitoring report: a workbook (openpyxl, with native Excel charts) and a PDF (ReportLab, with
its own charts and its CJK font embedded, see pdffont.py), from the same figures as the console and
`xinyong monitoring kpis`."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from xinyong.exports import safe_cell
from xinyong.monitoring import pdffont, rules

# The font the story is first put together with, only to collect its characters (nothing is drawn with it).
PROBE_FONT = "Helvetica"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F3")
TREND_KPIS = ("compliance", "timeliness", "effective", "completeness")
PALETTE = (colors.HexColor("#1f5fa8"), colors.HexColor("#c0392b"), colors.HexColor("#27ae60"), colors.HexColor("#8e44ad"))


@dataclass
class ReportData:
    result: Any  # service.MonthResult
    trend: dict[str, Any]
    alerts: dict[int, list[Any]]  # department id → the month's warnings
    problems: dict[int, list[tuple[str, int]]]  # department id → (problem code, rows) of rejected rows
    quality: list[Any]  # unresolved 重错码 findings
    board: list[Any]  # 政务诚信 board rows


def _header(sheet: Any, values: list[str]) -> None:
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def workbook(data: ReportData) -> bytes:
    result = data.result
    defs = result.definitions
    book = Workbook()
    sheet = book.active
    sheet.title = "部门考核"
    sheet.append([f"信用监测月报 · {result.month} · 部门考核（“—”表示本月无可计算的数据或数据来源尚未接入）"])
    _header(sheet, ["排名", "部门代码", "部门名称", *[k.name for k in defs.kpis], "总分"])
    rows = sorted(result.departments, key=lambda r: (r.rank is None, r.rank or 0, r.department.code))
    if result.city is not None:
        rows = [*rows, result.city]
    for row in rows:
        cells: list[Any] = [row.rank if row.rank is not None else "—", row.department.code, safe_cell(row.department.name)]
        for kpi in defs.kpis:
            value = row.values[kpi.key].value
            cells.append("—" if value is None else value)
        cells.append("—" if row.score is None else row.score)
        sheet.append(cells)
        for index, kpi in enumerate(defs.kpis, start=4):
            cell = sheet.cell(row=sheet.max_row, column=index)
            if kpi.is_rate and isinstance(cell.value, float):
                cell.number_format = "0.0000%" if kpi.direction == "lower" else "0.0%"
    sheet.column_dimensions["C"].width = 28

    formulas = book.create_sheet("指标说明")
    _header(formulas, ["指标", "计算公式", "权重", "满分标准", "方向"])
    for kpi in defs.kpis:
        formulas.append([kpi.name, kpi.formula, kpi.weight or "不计分",
                         rules.percent(kpi.full_marks_at, 4 if kpi.direction == "lower" else 0) if kpi.full_marks_at is not None else "—",
                         "越低越好" if kpi.direction == "lower" else "越高越好"])  # fmt: skip
    formulas.column_dimensions["B"].width = 80

    trend = book.create_sheet("趋势")
    names = data.trend["names"]
    _header(trend, ["月份", *[names[k] for k in TREND_KPIS], names["score"]])
    for index, label in enumerate(data.trend["labels"]):
        trend.append([label, *[_ratio(data.trend["series"][k][index]) for k in TREND_KPIS],
                      data.trend["series"]["score"][index]])  # fmt: skip
        for column in range(2, 2 + len(TREND_KPIS)):
            trend.cell(row=trend.max_row, column=column).number_format = "0.0%"
    chart = LineChart()
    chart.title = "主要指标趋势（全市）" if result.city is not None else "主要指标趋势"
    chart.y_axis.title = "比率"
    chart.y_axis.number_format = "0%"
    chart.add_data(Reference(trend, min_col=2, max_col=1 + len(TREND_KPIS), min_row=1, max_row=trend.max_row),
                   titles_from_data=True)  # fmt: skip
    chart.set_categories(Reference(trend, min_col=1, min_row=2, max_row=trend.max_row))
    chart.width, chart.height = 24, 10
    trend.add_chart(chart, "H2")

    issues = book.create_sheet("问题与预警")
    _header(issues, ["部门", "类别", "内容", "数量或状态"])
    for row in result.departments:
        for code, count in data.problems.get(row.department.id, []):
            issues.append([safe_cell(row.department.name), "退回原因", code, count])
        for alert in data.alerts.get(row.department.id, []):
            issues.append([safe_cell(row.department.name), "预警", safe_cell(alert.title), alert.status.label])
    issues.column_dimensions["A"].width = 28
    issues.column_dimensions["C"].width = 60

    quality = book.create_sheet("重错码")
    _header(quality, ["编号", "类型", "涉及主体数", "情况", "状态"])
    for issue in data.quality:
        quality.append([issue.id, issue.kind.label, issue.affected, safe_cell(issue.detail.get("summary", "")),
                        issue.status.label])  # fmt: skip
    quality.column_dimensions["D"].width = 80

    integrity = book.create_sheet("政务诚信")
    _header(integrity, ["指标", "数值", "要求", "说明"])
    for indicator in defs.indicators:
        value = result.indicators[indicator.key]
        integrity.append([indicator.name, rules.display(indicator, value), indicator.target or "", indicator.formula])
    integrity.append([])
    _header(integrity, ["主体", "统一社会信用代码", "类别", "列入日期", "账龄（天）", "监管单位", "清零期限", "状态"])
    for item in data.board:
        integrity.append([safe_cell(item.subject.name), item.subject.uscc, item.kind_label, item.case.listed_on,
                          item.age_days, item.supervisor or "未指定", item.case.clear_by,
                          "逾期未清零" if item.is_overdue else item.case.status.label])  # fmt: skip
    integrity.column_dimensions["A"].width = 30
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _ratio(percent_value: float | None) -> float | None:
    return None if percent_value is None else percent_value / 100


# ------------------------------------------------------------------------------------------------- PDF


class _Characters:
    """Every text of the report passes through here, so that the embedded font holds each character."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def __call__(self, text: str) -> str:
        self.seen.update(text)
        return text


def _same(text: str) -> str:
    return text


def _trend_drawing(data: ReportData, font: str, t: Callable[[str], str]) -> Drawing | Paragraph:
    """The main rates over the last months; a series with no month to count is left out (ReportLab cannot draw
    a line of no points), and with none at all the chart is a sentence."""
    shown = [k for k in TREND_KPIS if any(v is not None for v in data.trend["series"][k])]
    if not shown:
        return Paragraph(escape(t("主要指标趋势：近几个月均无可计算的数据。")), ParagraphStyle("none", fontName=font, fontSize=9))
    drawing = Drawing(250 * mm, 80 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 15 * mm, 12 * mm, 180 * mm, 58 * mm
    chart.data = [list(data.trend["series"][k]) for k in shown]  # None: a month with nothing to count, no point
    chart.categoryAxis.categoryNames = [t(label) for label in data.trend["labels"]]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d%%"
    t("0123456789%")
    colours = [PALETTE[TREND_KPIS.index(k)] for k in shown]
    for index, colour in enumerate(colours):
        chart.lines[index].strokeColor = colour
        chart.lines[index].strokeWidth = 1.5
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 200 * mm, 60 * mm
    legend.fontName, legend.fontSize = font, 8
    legend.colorNamePairs = [(colour, t(data.trend["names"][k])) for colour, k in zip(colours, shown, strict=True)]
    drawing.add(legend)
    drawing.add(String(15 * mm, 74 * mm, t("主要指标趋势（%；无可计算数据的月份不画点，不记为 0）"), fontName=font, fontSize=9))
    return drawing


def _story(data: ReportData, font: str, t: Callable[[str], str]) -> list[Any]:
    """The report's flowables, every text through `t`."""
    result = data.result
    defs = result.definitions
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=18, spaceBefore=6)
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=11)
    cell = ParagraphStyle("cell", fontName=font, fontSize=7, leading=9)
    department = ParagraphStyle("dept", parent=body, fontSize=9, leading=13)

    def para(text: str, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(t(text)), style)

    story: list[Any] = [para(f"信用监测月报 · {result.month}", title),
                        para("“—”表示本月无可计算的数据或数据来源尚未接入，不计入总分。", body), Spacer(1, 4 * mm)]  # fmt: skip
    header = ["排名", "部门", *[k.name for k in defs.kpis], "总分"]
    table_rows: list[list[Any]] = [[para(h, cell) for h in header]]
    rows = sorted(result.departments, key=lambda r: (r.rank is None, r.rank or 0, r.department.code))
    if result.city is not None:
        rows = [*rows, result.city]
    for row in rows:
        table_rows.append([t(str(row.rank or "—")), para(row.department.name, cell),
                           *[t(rules.display(k, row.values[k.key])) for k in defs.kpis],
                           t("—" if row.score is None else f"{row.score:.1f}")])  # fmt: skip
    table = Table(table_rows, repeatRows=1, colWidths=[10 * mm, 40 * mm, *[17 * mm] * len(defs.kpis), 14 * mm])
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 7), ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde7f3")),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))  # fmt: skip
    story += [para("部门考核", heading), table, Spacer(1, 4 * mm), _trend_drawing(data, font, t), PageBreak()]
    story.append(para("指标说明", heading))
    for kpi in defs.kpis:
        story.append(para(f"{kpi.name}（权重 {kpi.weight:g}）：{kpi.formula}", body))
    story.append(para("政务诚信", heading))
    for indicator in defs.indicators:
        value = result.indicators[indicator.key]
        target = f"（要求：{indicator.target}）" if indicator.target else ""
        story.append(para(f"{indicator.name}：{rules.display(indicator, value)}{target}", body))
    for item in data.board:
        state = "逾期未清零" if item.is_overdue else item.case.status.label
        story.append(para(f"{item.subject.name}（{item.kind_label}）：列入 {item.case.listed_on}，账龄 {item.age_days} 天，"
                          f"监管单位 {item.supervisor or '未指定'}，清零期限 {item.case.clear_by}，{state}", body))  # fmt: skip
    story.append(para("各部门问题与预警", heading))
    for row in result.departments:
        problems = data.problems.get(row.department.id, [])
        warnings = data.alerts.get(row.department.id, [])
        if not problems and not warnings:
            continue
        story.append(para(row.department.name, department))
        for code, count in problems:
            story.append(para(f"· 退回 {count} 行：{code}", body))
        for alert in warnings:
            story.append(para(f"· 预警（{alert.status.label}）：{alert.title}", body))
    story.append(para("重错码", heading))
    if not data.quality:
        story.append(para("无未解决的重错码问题。", body))
    for issue in data.quality:
        story.append(para(f"#{issue.id} {issue.kind.label}：{issue.detail.get('summary', '')}（{issue.status.label}）", body))
    return story


def pdf(data: ReportData, *, font_file: Path) -> bytes:
    """The report as a PDF with its font embedded (a subset of `font_file`). Raises PdfFontUnavailable."""
    characters = _Characters()
    _story(data, PROBE_FONT, characters)
    title = f"信用监测月报 {data.result.month}"
    font = pdffont.register(font_file, "".join(characters.seen) + title)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                                 topMargin=10 * mm, bottomMargin=10 * mm, title=title)  # fmt: skip
    document.build(_story(data, font, _same))
    return buffer.getvalue()
