"""What an operator gets from the shell: the month's KPIs (as a table and as JSON), the monthly report as a
workbook and as a PDF, warnings that also go by e-mail to the address set with `xinyong users set-email`."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from tests.factories import records as rf
from tests.factories.monitoring import import_ten_rows
from tests.fixtures.keys import TEST_KEY
from typer.testing import CliRunner

from xinyong.cli import app
from xinyong.commandline import session_factory, settings
from xinyong.db import session_scope
from xinyong.notify.models import OutboxItem
from xinyong.notify.service import MESSAGE
from xinyong.protect import protector as make_protector

runner = CliRunner()


@pytest.fixture
def shell(fresh_database_url, monkeypatch) -> Iterator[dict[str, str]]:  # type: ignore[no-untyped-def]
    """A migrated database of its own with October's ten rows of one department, and none of another."""
    monkeypatch.setenv("XINYONG_DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("XINYONG_SECRET_KEY", TEST_KEY)
    monkeypatch.setenv("COLUMNS", "400")
    settings.cache_clear()
    session_factory.cache_clear()
    with session_scope(session_factory()) as session:
        busy = rf.department(session)
        quiet = rf.department(session, code=rf.OTHER_DEPT_CODE, name="安吉县交通运输局")
        import_ten_rows(session, settings(), make_protector(settings()), busy)
        codes = {"busy": busy.code, "quiet": quiet.code}
    yield codes
    settings.cache_clear()
    session_factory.cache_clear()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_the_month_as_a_table_and_as_json(shell):
    table = invoke("monitoring", "kpis", "--month", "2025-10")
    assert table.exit_code == 0, table.output
    busy_line = next(line for line in table.output.splitlines() if "安吉县市场监督管理局" in line)
    assert "70.0%" in busy_line
    assert "71.4%" in busy_line
    quiet_line = next(line for line in table.output.splitlines() if "安吉县交通运输局" in line)
    assert "%" not in quiet_line  # no rows: every rate "—", never 0 % or 100 %
    assert "尚未接入" not in table.output  # every built-in source is connected

    result = invoke("monitoring", "kpis", "--month", "2025-10", "--json", "--base-url", "https://xy.example.gov.cn/")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    busy = next(d for d in document["departments"] if d["code"] == shell["busy"])
    assert busy["kpis"]["compliance"]["display"] == "70.0%"
    assert (busy["kpis"]["compliance"]["numerator"], busy["kpis"]["compliance"]["denominator"]) == (7, 10)
    assert busy["kpis"]["timeliness"]["display"] == "71.4%"
    assert busy["kpis"]["timeliness"]["rows_url"].startswith("https://xy.example.gov.cn/admin/monitoring/2025-10/")
    assert busy["rank"] == 1
    quiet = next(d for d in document["departments"] if d["code"] == shell["quiet"])
    assert {quiet["kpis"][k]["display"] for k in ("compliance", "timeliness", "effective", "completeness")} == {"—"}
    assert quiet["kpis"]["compliance"]["value"] is None
    assert quiet["kpis"]["compliance"]["not_applicable"] == "本月无可计算的数据"
    assert quiet["score"] is None
    assert quiet["rank"] is None
    assert busy["kpis"]["commitments"]["not_applicable"] == "本月无可计算的数据"  # no 告知承诺 due

    one = json.loads(invoke("monitoring", "kpis", "--month", "2025-10", "--json", "--department", shell["quiet"]).output)
    assert [d["code"] for d in one["departments"]] == [shell["quiet"]]


@pytest.mark.parametrize(("args", "message"), [
    (("--month", "2025-13"), "格式不正确"), (("--month", "2099-01"), "尚未到来"),
    (("--month", "2025-10", "--department", "11330521MB000000XX"), "没有代码为“11330521MB000000XX”的部门"),
])  # fmt: skip
def test_bad_months_and_departments_are_refused(shell, args, message):
    result = invoke("monitoring", "kpis", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_the_monthly_report_as_a_workbook_and_as_a_pdf(shell, tmp_path, monkeypatch):
    book_path = tmp_path / "m.xlsx"
    made = invoke("monitoring", "report", "--month", "2025-10", "--out", str(book_path))
    assert made.exit_code == 0, made.output
    sheet = load_workbook(book_path)["部门考核"]
    header = [c.value for c in sheet[2]]
    busy = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[1] == shell["busy"])
    assert round(busy[header.index("合规率")], 3) == 0.7

    pdf_path = tmp_path / "m.pdf"
    assert invoke("monitoring", "report", "--month", "2025-10", "--out", str(pdf_path)).exit_code == 0
    text = subprocess.run(["pdftotext", "-layout", str(pdf_path), "-"], check=True, capture_output=True,
                          text=True).stdout  # fmt: skip
    busy_line = next(line for line in text.splitlines() if "安吉县市场监督管理局" in line)
    assert "70.0%" in busy_line
    assert "71.4%" in busy_line
    # A month with nothing reported: no trend to draw, still a report.
    empty = tmp_path / "empty.pdf"
    assert invoke("monitoring", "report", "--month", "2024-01", "--out", str(empty)).exit_code == 0
    empty_text = subprocess.run(["pdftotext", str(empty), "-"], check=True, capture_output=True, text=True).stdout
    assert "主要指标趋势：近几个月均无可计算的数据。" in empty_text

    wrong = invoke("monitoring", "report", "--month", "2025-10", "--out", str(tmp_path / "m.txt"))
    assert wrong.exit_code == 1
    assert "输出文件须以 .xlsx 或 .pdf 结尾" in wrong.output
    monkeypatch.setenv("XINYONG_PDF_FONT", str(tmp_path / "no-such-font.ttc"))
    settings.cache_clear()
    no_font = invoke("monitoring", "report", "--month", "2025-10", "--out", str(tmp_path / "n.pdf"))
    assert no_font.exit_code == 1
    assert "生成 PDF 所需的中文字体不可用" in no_font.output
    assert "文件不存在" in no_font.output
    assert not (tmp_path / "n.pdf").exists()


def test_a_warning_is_also_mailed_to_the_address_set_for_the_user(shell):
    added = invoke("users", "add", "--username", "op1", "--role", "operator", "--department", shell["busy"])
    assert added.exit_code == 0, added.output
    bad = invoke("users", "set-email", "op1", "op1@")
    assert bad.exit_code == 1
    assert "电子邮箱“op1@”格式不正确" in bad.output
    neither = invoke("users", "set-email", "op1")
    assert neither.exit_code == 1
    assert "请给出电子邮箱，或用 --clear 清除" in neither.output
    done = invoke("users", "set-email", "op1", "op1@example.gov.cn")
    assert done.exit_code == 0, done.output
    assert "op1 的预警邮箱为 op1@example.gov.cn" in done.output
    assert "op1@example.gov.cn" in invoke("users", "list").output

    warned = invoke("monitoring", "warnings", "--month", "2025-10")
    assert warned.exit_code == 0, warned.output
    assert "新发出预警 2 条" in warned.output
    with session_scope(session_factory()) as session:
        mail = [i.payload for i in session.scalars(select(OutboxItem).where(OutboxItem.topic == MESSAGE))]
    assert {m["address"] for m in mail} == {"op1@example.gov.cn"}
    assert any("及时率 71.4%（5/7）" in m["body"] for m in mail)

    cleared = invoke("users", "set-email", "op1", "--clear")
    assert cleared.exit_code == 0
    assert "op1 的预警邮箱已清除（只收控制台收件箱）" in cleared.output
    unknown = invoke("users", "set-email", "nobody", "a@example.gov.cn")
    assert unknown.exit_code == 1
