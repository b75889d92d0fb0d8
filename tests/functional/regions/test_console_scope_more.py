"""The console beyond the records: monitoring, warnings, 重错码, inspections, 信用承诺, the department catalogue,
政务诚信, the exchange and 信易贷 — a county's users see their county only, another county's ids answer 404, and the
city's dashboard sums its counties."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.orm import Session
from tests.factories import records as rf
from tests.factories.commitments import commitment_row
from tests.fixtures.regions import CHANGXING, DEQING, Regional

from xinyong.actors import Actor
from xinyong.alerts import service as alerts_service
from xinyong.alerts.models import Alert
from xinyong.auth import service as auth_service
from xinyong.codes import make_uscc
from xinyong.config import Settings
from xinyong.departments.models import Department
from xinyong.inspections import roster
from xinyong.inspections.models import InspectionPlan
from xinyong.intake import service as intake_service
from xinyong.integrity.models import CaseStatus, IntegrityCase
from xinyong.monitoring import service as monitoring_service
from xinyong.monitoring.models import IssueKind, IssueStatus, QualityIssue
from xinyong.monitoring.rules import Month
from xinyong.protect import Protector
from xinyong.records import service as records_service
from xinyong.subjects.models import Subject, SubjectKind

SYSTEM = Actor.system("test")
REPORTED = date(2025, 10, 15)
MONTH = "2025-10"
LATE = "2025-09-01"  # 7 working days before 10-15 had long passed: late
ON_TIME = "2025-09-29"
DEQING_LATE, CHANGXING_LATE = 3, 6  # with 2 and 1 rows on time: 5 penalties in 德清县, 7 in 长兴县
# 长兴县 reports one 信用承诺 as well: 5 rows in 德清县, 8 in 长兴县, 13 in the city
DEQING_ROWS, CHANGXING_ROWS = DEQING_LATE + 2, CHANGXING_LATE + 1 + 1


def _penalties(dept: Department, late: int, on_time: int) -> list[dict[str, str]]:
    own = {"CF_CFJG": dept.name, "CF_CFJGDM": dept.code, "CF_SJLY": dept.name, "CF_SJLYDM": dept.code}
    return ([rf.penalty_row(CF_JDRQ=LATE, **own) for _ in range(late)]
            + [rf.penalty_row(CF_JDRQ=ON_TIME, **own) for _ in range(on_time)])  # fmt: skip


@dataclass
class Seeded:
    alert_a: Alert
    alert_c: Alert
    issue_c: QualityIssue
    plan_a: InspectionPlan
    plan_c: InspectionPlan
    inspector_c: int
    commitment_c: int
    duty_c: int
    case_c: IntegrityCase
    case_c_by_code: IntegrityCase


def _subject(session: Session, code: str, name: str) -> Subject:
    subject = Subject(kind=SubjectKind.ORGANISATION, name=name, name_norm=name, uscc=code)
    session.add(subject)
    session.flush()
    return subject


def _plan(session: Session, dept: Department, number: str, matter: str) -> InspectionPlan:
    plan = InspectionPlan(number=number, matter=matter, department_id=dept.id, period_start=date(2025, 11, 1),
                          period_end=date(2025, 11, 30), population={"kinds": [], "regions": [], "sector": None},
                          ratios={}, special_domains=[], inspectors_per_subject=2, created_by="test")  # fmt: skip
    session.add(plan)
    session.flush()
    return plan


@pytest.fixture
def seeded(db_session: Session, regional: Regional, console_settings: Settings, protector: Protector) -> Seeded:
    dept_a, dept_c = regional.accounts.dept_a, regional.dept_c
    for dept, late, on_time in ((dept_a, DEQING_LATE, 2), (dept_c, CHANGXING_LATE, 1)):
        result = records_service.import_rows(db_session, _penalties(dept, late, on_time), settings=console_settings,
                                             protector=protector, record_type="penalty", department=dept,
                                             actor="test", today=REPORTED)  # fmt: skip
        assert (result.created, result.late) == (late + on_time, late), result
    alert_a = alerts_service.raise_alert(db_session, rule="test", key="a", department_id=dept_a.id,
                                         title="德清县的预警", body="德清", actor=SYSTEM)  # fmt: skip
    alert_c = alerts_service.raise_alert(db_session, rule="test", key="c", department_id=dept_c.id,
                                         title="长兴县的预警", body="长兴", actor=SYSTEM)  # fmt: skip
    assert alert_a is not None
    assert alert_c is not None
    issue_c = QualityIssue(kind=IssueKind.CODE_MANY_NAMES, key="test:c", status=IssueStatus.OPEN, subject_ids=[],
                           department_ids=[dept_c.id], affected=1, detail={"summary": "长兴县的重错码"})  # fmt: skip
    db_session.add(issue_c)
    plan_a = _plan(db_session, dept_a, "CC2025DQ0001", "德清县的抽查事项")
    plan_c = _plan(db_session, dept_c, "CC2025CX0001", "长兴县的抽查事项")
    inspector_c = roster.add_inspector(db_session, department=dept_c, name="长兴检查员", badge_no="CX33050001",
                                       actor=SYSTEM)  # fmt: skip
    own_c = {"承诺受理单位": dept_c.name, "承诺受理单位统一社会信用代码": dept_c.code, "数据来源单位": dept_c.name,
             "数据来源单位统一社会信用代码": dept_c.code, "承诺人名称": "长兴县承诺科技有限公司"}  # fmt: skip
    row = commitment_row(date(2025, 10, 10), **own_c)
    result = records_service.import_rows(db_session, [row], settings=console_settings, protector=protector,
                                         record_type="commitment", department=dept_c, actor="test", today=REPORTED)  # fmt: skip
    assert result.created == 1, result
    from xinyong.records.models import Record

    commitment_c = db_session.query(Record).filter_by(record_type="commitment", doc_no=row["承诺编码"]).one().id
    duty_c = intake_service.set_duty(db_session, SYSTEM, settings=console_settings, department_id=dept_c.id,
                                     record_type="penalty").id  # fmt: skip
    body_c = _subject(db_session, make_uscc("1", "1", CHANGXING, "00000091"), "长兴县某镇人民政府")
    body_c2 = _subject(db_session, make_uscc("1", "1", CHANGXING, "00000092"), "长兴县某局")
    case_c = IntegrityCase(subject_id=body_c.id, kind="arrears", summary="长兴县拖欠账款", listed_on=date(2025, 9, 1),
                           supervisor_id=dept_c.id, clear_by=date(2025, 12, 1), status=CaseStatus.OPEN,
                           created_by="test")  # fmt: skip
    case_c_by_code = IntegrityCase(subject_id=body_c2.id, kind="arrears", summary="长兴县无监管单位的拖欠",
                                   listed_on=date(2025, 9, 1), supervisor_id=None, clear_by=date(2025, 12, 1),
                                   status=CaseStatus.OPEN, created_by="test")  # fmt: skip
    db_session.add_all([case_c, case_c_by_code])
    db_session.commit()
    return Seeded(alert_a, alert_c, issue_c, plan_a, plan_c, inspector_c.id, commitment_c, duty_c, case_c,
                  case_c_by_code)  # fmt: skip


DEQING_USERS = ("county_admin", "operator")  # 德清县's 信用办 and an operator of one of its departments
CHANGXING_TEXT = ("长兴县市场监督管理局", "长兴县的预警", "长兴县的重错码", "长兴县的抽查事项", "长兴检查员",
                  "长兴县承诺科技有限公司", "长兴县拖欠账款", "长兴县无监管单位的拖欠")  # fmt: skip

PAGES = [
    "/admin/monitoring?month=" + MONTH, "/admin/alerts", "/admin/monitoring/quality", "/admin/inspections",
    "/admin/inspectors", "/admin/commitments", "/admin/commitments/verifications", "/admin/commitments/dashboard",
    "/admin/intake/duties", "/admin/integrity?show=all",
]  # fmt: skip


@pytest.mark.parametrize("user", DEQING_USERS)
@pytest.mark.parametrize("url", PAGES)
def test_a_deqing_user_sees_no_changxing_data(sign_in, regional, seeded, user, url):
    page = sign_in(regional.users[user]).get(url)
    assert page.status_code == 200, page.text[:500]
    for text in CHANGXING_TEXT:
        assert text not in page.text, (url, text)


@pytest.mark.parametrize("url", PAGES)
def test_the_city_sees_both_counties(sign_in, regional, seeded, url):
    page = sign_in(regional.users["platform_admin"]).get(url)
    assert page.status_code == 200, page.text[:500]
    assert any(text in page.text for text in CHANGXING_TEXT), url


@pytest.mark.parametrize("url", ["/admin/alerts", "/admin/monitoring/quality", "/admin/inspectors",
                                 "/admin/integrity?show=all"])  # fmt: skip
def test_changxing_auditor_sees_its_county_and_not_deqing(sign_in, regional, seeded, url):
    page = sign_in(regional.users["county_auditor_c"]).get(url)
    assert page.status_code == 200, page.text[:500]
    assert any(text in page.text for text in CHANGXING_TEXT), url
    for text in ("德清县的预警", "德清县的抽查事项", "安吉县交通运输局"):
        assert text not in page.text, (url, text)


def _other_county_urls(seeded: Seeded, regional: Regional) -> list[str]:
    dept_c = regional.dept_c.id
    return [
        f"/admin/monitoring/{MONTH}/departments/{dept_c}/late", f"/admin/monitoring/{MONTH}/departments/{dept_c}/batches",
        f"/admin/monitoring?month={MONTH}&department={dept_c}", f"/admin/monitoring?month={MONTH}&region={CHANGXING}",
        f"/admin/monitoring/report.xlsx?month={MONTH}&region={CHANGXING}",
        f"/admin/monitoring/quality/{seeded.issue_c.id}", f"/admin/inspections/{seeded.plan_c.id}",
        f"/admin/commitments/{seeded.commitment_c}", f"/admin/intake/duties?department={dept_c}",
    ]  # fmt: skip


def test_another_countys_ids_answer_not_found(sign_in, regional, seeded):
    browser = sign_in(regional.users["county_admin"])
    for url in _other_county_urls(seeded, regional):
        assert browser.get(url).status_code == 404, url


def test_the_city_reaches_those_ids(sign_in, regional, seeded):
    browser = sign_in(regional.users["platform_admin"])
    for url in _other_county_urls(seeded, regional):
        if "/commitments/" in url:  # the 信用办 reads a department's commitments from the list, not one by one
            continue
        assert browser.get(url).status_code == 200, url


def test_a_county_cannot_act_on_another_countys_objects(sign_in, regional, seeded, db_session, console_settings):
    browser = sign_in(regional.users["county_admin"])
    posts = [
        (f"/admin/alerts/{seeded.alert_c.id}/resolve", {"note": "不是本县的"}),
        (f"/admin/integrity/cases/{seeded.case_c.id}/clear", {"note": "不是本县的记录"}),
        (f"/admin/integrity/cases/{seeded.case_c_by_code.id}/clear", {"note": "不是本县的记录"}),
        (f"/admin/intake/duties/{seeded.duty_c}/delete", {}),
        (f"/admin/inspectors/{seeded.inspector_c}/exclusions", {"subject_code": rf.company_code(1), "reason": "亲属关系"}),
        (f"/admin/monitoring/quality/{seeded.issue_c.id}/distinct", {"note": "不是本县的问题"}),
        ("/admin/intake/duties", {"department": str(regional.dept_c.id), "record_type": "license"}),
    ]  # fmt: skip
    for url, form in posts:
        answer = browser.post(url, data=form)
        assert answer.status_code in (303, 404), (url, answer.status_code)
        if answer.status_code == 303:
            follow = browser.get(answer.headers["location"])
            assert "不存在" in follow.text or "找不到" in follow.text or "未找到" in follow.text, (url, follow.text[:300])
    db_session.expire_all()
    assert db_session.get(Alert, seeded.alert_c.id).status.value == "open"
    assert db_session.get(IntegrityCase, seeded.case_c.id).status is CaseStatus.OPEN
    assert db_session.get(IntegrityCase, seeded.case_c_by_code.id).status is CaseStatus.OPEN
    assert db_session.get(QualityIssue, seeded.issue_c.id).status is IssueStatus.OPEN
    assert [d.record_type for d in intake_service.duties(db_session, console_settings)
            if d.department_id == regional.dept_c.id] == ["penalty"]  # fmt: skip


# ---------------------------------------------------------------------------------------- the city sums


def _region_cells(html: str, code: str) -> dict[str, str]:
    row = re.search(rf'<tr[^>]*data-region="{code}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, code
    return {key: re.sub(r"<[^>]+>", "", cell).split()[0] if cell.strip() else ""
            for key, cell in re.findall(r'<td data-kpi="([a-z]+)">(.*?)</td>', row.group(1), re.S)}  # fmt: skip


def _timeliness(html: str, code: str) -> str:
    row = re.search(rf'<tr[^>]*data-region="{code}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, code
    cell = re.search(r'<td data-kpi="timeliness">(.*?)</td>', row.group(1), re.S)
    assert cell
    return re.search(r"(\d+/\d+)", cell.group(1)).group(1)  # type: ignore[union-attr]


def test_the_city_dashboard_sums_its_counties(sign_in, regional, seeded):
    page = sign_in(regional.users["platform_admin"]).get(f"/admin/monitoring?month={MONTH}")
    assert page.status_code == 200
    assert 'data-testid="region-table"' in page.text
    deqing, changxing = DEQING_ROWS, CHANGXING_ROWS
    assert _region_cells(page.text, DEQING)["rows"] == str(deqing)
    assert _region_cells(page.text, CHANGXING)["rows"] == str(changxing)
    assert _region_cells(page.text, "total")["rows"] == str(deqing + changxing)
    # 及时率 = on time ÷ new: each county its own, the city their sum
    on_time_c, new_c = (int(n) for n in _timeliness(page.text, CHANGXING).split("/"))
    assert _timeliness(page.text, DEQING) == f"2/{deqing}"
    assert new_c - on_time_c == CHANGXING_LATE
    assert _timeliness(page.text, "total") == f"{2 + on_time_c}/{deqing + new_c}"
    assert "全市合计" in page.text
    assert 'data-testid="region-filter"' in page.text


def test_the_service_sums_late_records_per_county(db_session, regional, seeded, console_settings):
    city = auth_service.actor_for_user(regional.users["platform_admin"])
    result = monitoring_service.compute_month(db_session, month=Month(2025, 10), settings=console_settings,
                                              today=date(2025, 11, 5), actor=city)  # fmt: skip
    late = {total.code: total.row.measures["records_late"] for total in result.regions}
    assert late == {DEQING: DEQING_LATE, CHANGXING: CHANGXING_LATE}
    assert result.city is not None
    assert result.city.measures["records_late"] == DEQING_LATE + CHANGXING_LATE
    document = monitoring_service.to_json(result)
    assert [r["code"] for r in document["regions"]] == [DEQING, CHANGXING]
    assert sum(r["kpis"]["rows"]["value"] for r in document["regions"]) == document["city"]["kpis"]["rows"]["value"]
    county = auth_service.actor_for_user(regional.users["county_admin"])
    own = monitoring_service.compute_month(db_session, month=Month(2025, 10), settings=console_settings,
                                           today=date(2025, 11, 5), actor=county)  # fmt: skip
    assert [t.code for t in own.regions] == [DEQING]
    assert own.city is not None
    assert own.city.measures["records_late"] == DEQING_LATE
    assert own.city.department.name == "德清县合计"
    assert {row.department.id for row in own.departments} == {regional.accounts.dept_a.id, regional.accounts.dept_b.id}


def test_a_county_admin_sees_only_its_own_county_row(sign_in, regional, seeded):
    page = sign_in(regional.users["county_admin"]).get(f"/admin/monitoring?month={MONTH}")
    assert page.status_code == 200
    assert f'data-region="{DEQING}"' in page.text
    assert f'data-region="{CHANGXING}"' not in page.text
    assert "长兴县" not in page.text
    assert _region_cells(page.text, "total")["rows"] == str(DEQING_ROWS)
    assert "德清县合计" in page.text
    assert 'data-testid="region-filter"' not in page.text


def test_the_city_narrows_to_one_county(sign_in, regional, seeded):
    page = sign_in(regional.users["platform_admin"]).get(f"/admin/monitoring?month={MONTH}&region={CHANGXING}")
    assert page.status_code == 200
    assert "长兴县市场监督管理局" in page.text
    assert "安吉县交通运输局" not in page.text
    assert f'data-region="{DEQING}"' not in page.text
    assert _region_cells(page.text, "total")["rows"] == str(CHANGXING_ROWS)
    assert "长兴县合计" in page.text


@pytest.mark.parametrize("region", ["999999", "330599", "<script>", "330521' OR 1=1"])
def test_an_unknown_region_in_the_filter_is_not_found(sign_in, regional, seeded, region):
    answer = sign_in(regional.users["platform_admin"]).get("/admin/monitoring", params={"month": MONTH, "region": region})
    assert answer.status_code == 404


def test_the_county_report_holds_only_its_county(sign_in, regional, seeded):
    from io import BytesIO

    from openpyxl import load_workbook

    answer = sign_in(regional.users["county_admin"]).get(f"/admin/monitoring/report.xlsx?month={MONTH}")
    assert answer.status_code == 200
    book = load_workbook(BytesIO(answer.content))
    text = " ".join(str(cell.value) for sheet in book for row in sheet.iter_rows() for cell in row if cell.value)
    assert regional.accounts.dept_a.name in text
    assert "长兴县" not in text


@pytest.mark.parametrize("url", ["/admin/finance", "/admin/scenarios", "/admin/exchange"])
def test_city_wide_pages_are_read_by_a_county_and_changed_by_the_city(sign_in, regional, seeded, url):
    user = "county_auditor_c" if url == "/admin/exchange" else "county_admin"
    page = sign_in(regional.users[user]).get(url)
    assert page.status_code == 200
    if url == "/admin/exchange":
        assert "由市级信用办统一办理" in page.text
    else:
        assert f'action="{url}/' not in page.text
        assert f'action="{url}"' not in page.text
        city = sign_in(regional.users["platform_admin"]).get(url)
        assert f'action="{url}' in city.text


def test_a_county_cannot_change_the_city_wide_finance_registry(sign_in, regional, seeded):
    browser = sign_in(regional.users["county_admin"])
    answer = browser.post("/admin/finance/institutions", data={"code": rf.company_code(9), "name": "某某银行湖州分行"})
    assert answer.status_code in (303, 403)
    page = browser.get(answer.headers["location"]) if answer.status_code == 303 else answer
    assert "市级信用办" in page.text
    assert "某某银行湖州分行" not in sign_in(regional.users["platform_admin"]).get("/admin/finance").text
