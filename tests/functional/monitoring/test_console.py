"""What the 信用办 and a department see: the month's table, the rows behind a figure, warnings in the inbox,
the monthly workbook, 重错码 and the integrity board."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from tests.factories import records as rf
from tests.factories.monitoring import REPORTED, TODAY

from xinyong.codes import make_uscc
from xinyong.errors import InvalidInput
from xinyong.monitoring import quality
from xinyong.monitoring.definitions import DefinitionError, parse_definitions
from xinyong.monitoring.models import IssueKind
from xinyong.notify.models import InboxItem
from xinyong.records.models import Record
from xinyong.subjects import service as subjects_service
from xinyong.subjects.models import Subject
from xinyong.web.deps import get_today


@pytest.fixture(autouse=True)
def pinned_day(app):  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_today] = lambda: TODAY


_CELL = re.compile(r'<td data-kpi="([a-z-]+)"([^>]*)>(.*?)</td>', re.S)
_TAG = re.compile(r"<[^>]+>")


def kpi_cells(page: str, department_code: str) -> dict[str, tuple[str, str]]:
    """The department's row of the month's table: KPI key → (the text shown, the cell's attributes)."""
    match = re.search(rf'<tr data-department="{department_code}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {department_code}"
    return {key: (" ".join(_TAG.sub(" ", text).split()), attributes) for key, attributes, text in _CELL.findall(match.group(1))}


def pdf_text(content: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def pdf_fonts(content: bytes, tmp_path) -> list[list[str]]:  # type: ignore[no-untyped-def]
    path = tmp_path / "fonts.pdf"
    path.write_bytes(content)
    listing = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in listing.splitlines()[2:]]


def test_the_month_shows_the_rates_and_links_to_the_rows(client, accounts, sign_in, ten_rows):
    browser = sign_in(accounts.users["platform_admin"])
    page = browser.get("/admin/monitoring?month=2025-10")
    assert page.status_code == 200
    assert "70.0%" in page.text
    assert "71.4%" in page.text
    assert "7/10" in page.text
    assert "5/7" in page.text
    dept = accounts.dept_a.id
    assert f"/admin/monitoring/2025-10/departments/{dept}/late" in page.text
    late = browser.get(f"/admin/monitoring/2025-10/departments/{dept}/late")
    assert late.status_code == 200
    for doc in ten_rows.late_docs:
        assert doc in late.text
    rejected = browser.get(f"/admin/monitoring/2025-10/departments/{dept}/rejected")
    assert rejected.status_code == 200
    assert "共 3 行" in rejected.text
    assert "/static/vendor/chartjs/chart.umd.min.js" in page.text
    cells = kpi_cells(page.text, accounts.dept_a.code)
    assert cells["compliance"][0] == "70.0% 7/10"
    assert cells["timeliness"][0] == "71.4% 5/7"
    assert 'data-testid="previous-month"' not in page.text  # nothing was reported before October


def test_a_department_with_no_rows_shows_dashes_on_the_page(client, accounts, sign_in, ten_rows):
    page = sign_in(accounts.users["platform_admin"]).get("/admin/monitoring?month=2025-10")
    quiet = kpi_cells(page.text, accounts.dept_b.code)
    for key in ("compliance", "timeliness", "effective", "completeness", "realtime", "repairs", "feedback", "score"):
        assert quiet[key][0] == "—", (key, quiet[key])
    assert 'title="本月无可计算的数据"' in quiet["compliance"][1]  # the reason, on the cell
    assert 'title="本月无可计算的数据"' in quiet["commitments"][1]  # connected: nothing due, not "尚未接入"
    assert quiet["rows"][0] == "0"
    row = re.search(rf'<tr data-department="{accounts.dept_b.code}">(.*?)</tr>', page.text, re.S).group(1)
    assert "0.0%" not in row
    assert "100.0%" not in row
    assert f"/departments/{accounts.dept_b.id}/late" not in row  # no figure, so no rows behind it


def test_a_department_user_sees_only_its_own_row(client, accounts, sign_in, ten_rows):
    browser = sign_in(accounts.users["operator_b"])
    page = browser.get("/admin/monitoring?month=2025-10")
    assert page.status_code == 200
    assert accounts.dept_a.name not in page.text
    assert kpi_cells(page.text, accounts.dept_b.code)["compliance"][0] == "—"
    assert "全市合计" not in page.text  # not even summed
    other = browser.get(f"/admin/monitoring/2025-10/departments/{accounts.dept_a.id}/late")
    assert other.status_code == 404
    assert "未找到该部门的考核明细" in other.text
    for doc in ten_rows.late_docs:
        assert doc not in other.text


@pytest.mark.parametrize(("month", "message"), [("2025-13", "格式不正确"), ("2030-01", "尚未到来")])
def test_bad_months_on_the_page_are_refused_with_the_reason(client, accounts, sign_in, month, message):
    browser = sign_in(accounts.users["platform_admin"])
    page = browser.get(f"/admin/monitoring?month={month}")
    assert page.status_code == 422
    assert message in page.text


def test_a_warning_reaches_the_department_inbox_and_stays_until_acknowledged(client, accounts, sign_in, ten_rows,
                                                                              db_session):  # fmt: skip
    admin = sign_in(accounts.users["platform_admin"])
    done = admin.post("/admin/monitoring/warnings", {"month": "2025-10"})
    assert done.status_code == 303
    alerts_page = admin.get(done.headers["location"]).text
    assert "已按预警规则评估 2025-10：新发出 2 条，自动解除 0 条" in alerts_page
    assert f"及时率低于 90%：{accounts.dept_a.name}（2025-10）" in alerts_page
    operator = sign_in(accounts.users["operator"])
    inbox = operator.get("/admin/inbox")
    assert "及时率低于 90%" in inbox.text
    assert "合规率低于 90%" in inbox.text
    assert "2025-10 及时率 71.4%（5/7），低于 90.0%" in inbox.text  # the figure, and how it is worked out
    assert f"/admin/monitoring/2025-10/departments/{accounts.dept_a.id}/late" in inbox.text
    item = db_session.scalars(select(InboxItem).where(InboxItem.user_id == accounts.users["operator"].id,
                                                      InboxItem.title.startswith("及时率"))).first()  # fmt: skip
    assert item is not None
    assert item.ref.startswith("alert:")
    other = sign_in(accounts.users["operator_b"])
    assert "及时率低于 90%" not in other.get("/admin/inbox").text
    operator = sign_in(accounts.users["operator"])
    again = operator.get("/admin/inbox")
    assert "及时率低于 90%" in again.text  # still there: not acknowledged yet
    ack = operator.post(f"/admin/alerts/{item.ref[6:]}/acknowledge", {"back": "inbox"})
    assert ack.status_code == 303
    table = operator.get(ack.headers["location"]).text.split('data-testid="inbox"')[1]
    assert "及时率低于 90%" not in table
    assert "合规率低于 90%" in table
    assert "已确认（user:operator）" in operator.get("/admin/alerts").text
    twice = operator.post(f"/admin/alerts/{item.ref[6:]}/acknowledge", {"back": "inbox"})
    assert twice.status_code == 303  # back to the inbox with the reason
    assert "当前状态“已确认”下不能执行“确认”" in operator.get(twice.headers["location"]).text


def test_the_monthly_workbook_has_the_same_numbers(client, accounts, sign_in, ten_rows):
    browser = sign_in(accounts.users["platform_admin"])
    browser.post("/admin/monitoring/warnings", {"month": "2025-10"})
    response = browser.get("/admin/monitoring/report.xlsx?month=2025-10")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["部门考核"]
    header = [c.value for c in sheet[2]]
    row = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[1] == accounts.dept_a.code)
    assert round(row[header.index("合规率")], 3) == 0.7
    assert round(row[header.index("及时率")] * 100, 1) == 71.4
    assert row[header.index("报送数据量")] == 10
    assert row[header.index("排名")] == 1
    quiet = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[1] == accounts.dept_b.code)
    assert quiet[header.index("及时率")] == "—"
    assert quiet[header.index("合规率")] == "—"
    assert quiet[header.index("总分")] == "—"
    assert quiet[header.index("排名")] == "—"
    trend = list(book["趋势"].iter_rows(values_only=True))
    assert trend[0][:3] == ("月份", "合规率", "及时率")
    october = next(r for r in trend if r[0] == "2025-10")
    assert (round(october[1], 3), round(october[2], 3)) == (0.7, 0.714)  # the city: dept A's rows alone
    assert next(r for r in trend if r[0] == "2025-09")[1] is None  # no rows: empty, not 0
    issues = list(book["问题与预警"].iter_rows(min_row=2, values_only=True))
    rejected = [r for r in issues if r[0] == accounts.dept_a.name and r[1] == "退回原因"]
    assert sum(r[3] for r in rejected) == 3
    assert all(r[2] for r in rejected)  # each with its problem code
    warnings = {r[2] for r in issues if r[1] == "预警"}
    assert f"及时率低于 90%：{accounts.dept_a.name}（2025-10）" in warnings
    assert not [r for r in issues if r[0] == accounts.dept_b.name]
    explained = {r[0]: r[1] for r in book["指标说明"].iter_rows(min_row=2, values_only=True)}
    assert explained["合规率"] == "合规率 = 接收行数 ÷ 报送行数"
    integrity = {r[0]: r[1] for r in book["政务诚信"].iter_rows(min_row=2, max_row=6, values_only=True)}
    assert integrity["新增政府机构失信被执行人"] == "0"
    assert integrity["按期清零率"] == "—"
    assert list(book["重错码"].iter_rows(min_row=2, values_only=True)) == []


def test_the_monthly_pdf_embeds_its_font_and_reads_as_the_table(client, accounts, sign_in, ten_rows, db_session,
                                                                 tmp_path):  # fmt: skip
    accounts.dept_b.name = "安吉县交通运输局<东区>&港航"  # markup characters are text, never markup
    db_session.commit()
    response = sign_in(accounts.users["platform_admin"]).get("/admin/monitoring/report.pdf?month=2025-10")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="monitoring-2025-10.pdf"'
    text = pdf_text(response.content, tmp_path)
    assert "信用监测月报 · 2025-10" in text
    dept_a = next(line for line in text.splitlines() if accounts.dept_a.name in line)
    assert "70.0%" in dept_a
    assert "71.4%" in dept_a
    assert "安吉县交通运输局<东区>&港航" in text.replace("\n", "")
    assert "合规率 = 接收行数 ÷ 报送行数" in text
    assert "退回 " in text
    fonts = pdf_fonts(response.content, tmp_path)
    assert fonts
    for font in fonts:  # name, type…, emb, sub, uni, object, generation: every font is embedded, or base 14
        if font[-5] == "no":
            assert font[0] in ("Helvetica", "Times-Roman", "Courier"), font
    embedded = [f for f in fonts if f[-5] == "yes"]
    assert embedded
    assert all(f[-4] == "yes" and f[-3] == "yes" for f in embedded)  # a subset, with its Unicode map


def test_a_code_under_two_names_shows_in_quality_with_its_rate(client, accounts, sign_in, db_session, settings,
                                                               protector):  # fmt: skip
    from xinyong.records import service as records_service

    code = rf.company_code(900)
    first = rf.penalty_row(CF_XDR_SHXYM=code, CF_XDR_MC="安吉县甲乙科技有限公司")
    second = rf.penalty_row(CF_XDR_SHXYM=code, CF_XDR_MC="安吉县丙丁贸易有限公司")
    lax = settings.model_copy(update={"name_mismatch": "warning"})
    records_service.import_rows(db_session, [first, second], settings=lax, protector=protector, record_type="penalty",
                                department=accounts.dept_a, actor="test", today=REPORTED)  # fmt: skip
    db_session.commit()
    browser = sign_in(accounts.users["platform_admin"])
    assert browser.post("/admin/monitoring/quality/scan").status_code == 303
    page = browser.get("/admin/monitoring/quality")
    assert "一码多名" in page.text
    assert "安吉县丙丁贸易有限公司" in page.text
    assert "1 / " in page.text
    assert "%" in page.text
    issue = next(i for i in quality.list_issues(db_session) if i.kind is IssueKind.CODE_MANY_NAMES)
    assert accounts.dept_a.id in issue.department_ids
    short = browser.post(f"/admin/monitoring/quality/{issue.id}/distinct", {"note": "x"})
    assert short.status_code == 303
    assert "至少" in browser.get(short.headers["location"]).text
    ok = browser.post(f"/admin/monitoring/quality/{issue.id}/distinct", {"note": "已核实为企业更名"})
    assert ok.status_code == 303
    browser.post("/admin/monitoring/quality/scan")
    assert "安吉县丙丁贸易有限公司" not in browser.get("/admin/monitoring/quality").text  # a recorded name change


def test_merging_subjects_of_different_kinds_is_refused(db_session, accounts, settings, protector):
    from xinyong.records import service as records_service

    company = rf.penalty_row(CF_XDR_MC="安吉县同名商行")
    shop = rf.penalty_row(CF_XDR_MC="安吉县同名商行", CF_XDR_LB="个体工商户", CF_XDR_SHXYM=rf.individual_code(77))
    records_service.import_rows(db_session, [company, shop], settings=settings, protector=protector,
                                record_type="penalty", department=accounts.dept_a, actor="test", today=REPORTED)  # fmt: skip
    quality.scan(db_session, actor="test")
    issue = next(i for i in quality.list_issues(db_session) if i.kind is IssueKind.NAME_MANY_CODES)
    from xinyong.auth import service as auth_service

    admin = auth_service.actor_for_user(accounts.users["platform_admin"])
    with pytest.raises(InvalidInput, match="不能合并不同类别"):
        quality.merge(db_session, issue.id, keep_id=issue.subject_ids[0], actor=admin, note="同一主体", protector=protector)


def test_merging_moves_the_records_and_retires_the_codes(db_session, accounts, settings, protector):
    from xinyong.auth import service as auth_service
    from xinyong.records import service as records_service

    a = rf.penalty_row(CF_XDR_MC="安吉县合并测试有限公司", CF_XDR_SHXYM=rf.company_code(801))
    b = rf.penalty_row(CF_XDR_MC="安吉县合并测试有限公司", CF_XDR_SHXYM=rf.company_code(802))
    records_service.import_rows(db_session, [a, b], settings=settings, protector=protector, record_type="penalty",
                                department=accounts.dept_a, actor="test", today=REPORTED)  # fmt: skip
    quality.scan(db_session, actor="test")
    issue = next(i for i in quality.list_issues(db_session) if i.kind is IssueKind.NAME_MANY_CODES)
    keep, gone = issue.subject_ids
    admin = auth_service.actor_for_user(accounts.users["platform_admin"])
    quality.merge(db_session, issue.id, keep_id=keep, actor=admin, note="核实为同一企业", protector=protector)
    owners = set(db_session.scalars(select(Record.subject_id).where(Record.doc_no.in_([a["CF_WSH"], b["CF_WSH"]]))))
    assert owners == {keep}
    merged = db_session.get(Subject, gone)
    assert merged.merged_into_id == keep
    assert merged.uscc is None
    assert subjects_service.find_by_code(db_session, b["CF_XDR_SHXYM"], protector) is None


@pytest.mark.parametrize(("change", "message"), [
    ({"numerator": "rows_accepted + no_such_field"}, "未定义的计量值"),
    ({"denominator": "0"}, "恒为 0"),
    ({"denominator": "rows_submitted / 2"}, "不允许除法"),
    ({"full_marks_at": 1.5}, "超出 0–100%"),
])  # fmt: skip
def test_bad_kpi_definitions_are_refused(change, message):
    kpi = {"key": "k", "name": "合规率", "formula": "f", "numerator": "rows_accepted", "denominator": "rows_submitted",
           "weight": 10, "full_marks_at": 1.0, **change}  # fmt: skip
    data = {"sources": [{"key": "s", "provider": "m:f", "measures": {"rows_accepted": "a", "rows_submitted": "b"}}],
            "kpis": [kpi]}  # fmt: skip
    with pytest.raises(DefinitionError, match=message):
        parse_definitions(data)


@pytest.mark.parametrize("threshold", [1.2, -0.1, 90])
def test_a_warning_threshold_outside_0_to_100_percent_is_refused(threshold):
    data = {"sources": [{"key": "s", "provider": "m:f", "measures": {"a": "a", "b": "b"}}],
            "kpis": [{"key": "k", "name": "k", "formula": "f", "numerator": "a", "denominator": "b"}],
            "warnings": [{"key": "w", "kind": "kpi-below", "kpi": "k", "threshold": threshold}]}  # fmt: skip
    with pytest.raises(DefinitionError, match="超出 0–100%"):
        parse_definitions(data)


GOV = make_uscc("1", "1", "330521", "00000099")


def _government_body(db_session, accounts, settings, protector):  # type: ignore[no-untyped-def]
    from xinyong.records import service as records_service

    records_service.import_rows(db_session, [rf.penalty_row(CF_XDR_MC="安吉县某某局", CF_XDR_SHXYM=GOV),
                                             rf.penalty_row(CF_XDR_SHXYM=rf.company_code(555))],
                                settings=settings, protector=protector, record_type="penalty",
                                department=accounts.dept_a, actor="test", today=REPORTED)  # fmt: skip
    db_session.commit()


def test_a_government_body_listed_appears_on_the_board_with_its_clearing_date(client, accounts, sign_in, db_session,
                                                                              settings, protector):  # fmt: skip
    _government_body(db_session, accounts, settings, protector)
    admin = sign_in(accounts.users["platform_admin"])
    done = admin.post("/admin/integrity/cases", {"code": GOV, "kind": "court-debtor", "summary": "未履行生效判决",
                                                 "listed_on": "2025-10-10", "supervisor": str(accounts.dept_b.id)})  # fmt: skip
    assert done.status_code == 303, done.text[-3000:]
    board = admin.get("/admin/integrity")
    assert "安吉县某某局" in board.text
    assert "失信被执行人" in board.text
    assert "2026-01-08" in board.text  # 90 days after 2025-10-10
    assert "10 天" in board.text
    inbox = sign_in(accounts.users["reviewer_b"]).get("/admin/inbox")
    assert "政府机构新增失信记录" in inbox.text
    admin = sign_in(accounts.users["platform_admin"])
    refused = admin.post("/admin/integrity/cases", {"code": rf.company_code(555), "kind": "court-debtor", "summary": "x"})
    assert refused.status_code == 303
    assert "不是政府机构" in admin.get(refused.headers["location"]).text


def test_civil_servants_files_need_their_role_and_a_reason(client, accounts, sign_in, db_session, console_settings):
    from xinyong.actors import Actor
    from xinyong.audit.models import AuditEntry
    from xinyong.auth import service as auth_service
    from xinyong.auth.rules import Role

    keeper = auth_service.create_user(db_session, username="keeper", password="Correct-horse-42",
                                      role=Role.INTEGRITY_KEEPER, department=None, display_name="档案管理员",
                                      actor=Actor.system("test"), settings=console_settings)  # fmt: skip
    db_session.commit()
    admin = sign_in(accounts.users["platform_admin"])
    refused = admin.get("/admin/civil-servants")
    assert refused.status_code == 403
    assert "无权执行此操作（需要 admin:civil-servants:read 权限）" in refused.text
    browser = sign_in(keeper)
    person = "110101199003074514"
    added = browser.post("/admin/civil-servants", {"person_name": "王五", "id_number": person, "employer": "安吉县某局",
                                                   "category": "assessment", "item": "受到表彰奖励",
                                                   "description": "年度优秀", "occurred_on": "2025-01-10"})  # fmt: skip
    assert added.status_code == 303, added.text
    no_reason = browser.post("/admin/civil-servants/search", {"q": "王五", "reason": ""})
    assert no_reason.status_code == 422
    assert "须说明查询事由" in no_reason.text
    assert "安吉县某局" not in no_reason.text
    found = browser.post("/admin/civil-servants/search", {"q": person, "reason": "干部任用考察"})
    assert found.status_code == 200
    assert "王五" in found.text
    assert person not in found.text
    looked = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "civil-servant.looked-up")).all()
    assert [e.reason for e in looked] == ["干部任用考察"]
