"""Random inspections as people see them: the operator's plan form, the reviewer's draw and publication with
the ratio asked and drawn per grade, results by the inspecting department only, the roster, and the portal."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from tests.factories.inspections import SYSTEM, TODAY, build

from xinyong.audit.models import AuditEntry
from xinyong.inspections import service
from xinyong.inspections.models import InspectionAssignment, InspectionPlan
from xinyong.web.deps import get_today


@pytest.fixture
def graded(app, db_session, console_settings, protector, accounts, tmp_path):  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_today] = lambda: TODAY
    settings = console_settings.model_copy(update={"upload_dir": tmp_path / "uploads"})
    app.state.settings = settings
    return build(db_session, settings, protector, a=40, b=20, c=2, d=2, departments=(accounts.dept_a, accounts.dept_b))


def follow(browser, response):  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    return browser.get(response.headers["location"])


PLAN = {"matter": "食品经营许可事项监督检查", "period_start": "2025-10-01", "period_end": "2025-12-31",
        "kind": ["organisation", "individual_business"], "ratio_A": "5", "ratio_B": "10", "ratio_C": "100",
        "ratio_D": "100", "special": ["drugs"]}  # fmt: skip


def test_plan_draw_publish_and_results_through_the_console_and_the_portal(client, sign_in, accounts, graded, db_session):  # type: ignore[no-untyped-def]
    operator = sign_in(accounts.users["operator"])
    page = operator.get("/admin/inspections")
    assert page.status_code == 200
    assert 'name="ratio_A"' in page.text
    assert 'value="2"' in page.text
    assert "药品" in page.text

    refused = follow(operator, operator.post("/admin/inspections", data={**PLAN, "ratio_B": "150"}))
    assert "抽查比例“150”应为 0–100 之间的百分数" in refused.text
    refused = follow(operator, operator.post("/admin/inspections", data={**PLAN, "regions": "110101"}))
    assert "抽查对象名录为空" in refused.text

    detail = follow(operator, operator.post("/admin/inspections", data=PLAN))
    assert "已制定抽查计划" in detail.text
    assert 'data-testid="plan-status">待抽取' in detail.text
    assert 'data-testid="draw-form"' not in detail.text  # an operator does not draw
    plan = db_session.scalars(select(InspectionPlan).order_by(InspectionPlan.id.desc())).first()
    assert plan.ratios == {"A": "5", "B": "10", "C": "100", "D": "100"}

    reviewer = sign_in(accounts.users["reviewer"])
    page = reviewer.get(f"/admin/inspections/{plan.id}")
    assert 'data-testid="draw-form"' in page.text
    drawn = follow(reviewer, reviewer.post(f"/admin/inspections/{plan.id}/draw", data={"seed": "20251020"}))
    assert "种子、名录摘要和结果已记录" in drawn.text
    assert 'data-testid="seed">20251020' in drawn.text
    strata = re.findall(r"<tr><td>([^<]+)</td><td>(\d+)</td><td>([\d.]+)%</td><td>(\d+)</td><td>([^<]+)</td></tr>", drawn.text)
    assert ("A 级", "40", "5", "2", "5.0%") in strata
    assert ("B 级", "20", "10", "2", "10.0%") in strata
    assert ("D 级", "2", "100", "2", "100.0%") in strata
    assert ("重点领域（不论等级）", "2", "100", "2", "100.0%") in strata
    assert "张明（ZF33050001）" in drawn.text or "李华（ZF33050002）" in drawn.text

    again = follow(reviewer, reviewer.post(f"/admin/inspections/{plan.id}/draw", data={"seed": "1"}))
    assert "不得以其他种子重新抽取" in again.text
    assert db_session.scalars(select(AuditEntry).where(AuditEntry.action == "inspection.redraw-refused")).one()

    published = follow(reviewer, reviewer.post(f"/admin/inspections/{plan.id}/publish"))
    assert "已在门户网站公示" in published.text
    assert "公示至 2026-12-31" in published.text

    target = db_session.scalars(select(InspectionAssignment).where(InspectionAssignment.plan_id == plan.id)
                                .order_by(InspectionAssignment.position)).first()  # fmt: skip
    result = {"assignment": str(target.id), "outcome": "发现问题已责令整改", "inspected_on": "2025-10-15", "note": "台账不全"}
    other = sign_in(accounts.users["operator_b"])
    refused = follow(other, other.post(f"/admin/inspections/{plan.id}/results", data=result))
    assert "只有实施检查的部门（安吉县市场监督管理局）可以录入" in refused.text
    operator = sign_in(accounts.users["operator"])
    done = follow(operator, operator.post(f"/admin/inspections/{plan.id}/results", data=result))
    assert "已录入检查结果：发现问题已责令整改" in done.text

    client.cookies.clear()
    portal = client.get("/inspections")
    assert portal.status_code == 200
    assert plan.number in portal.text
    assert "食品经营许可事项监督检查" in portal.text
    page = client.get(f"/inspections/{plan.number}")
    assert page.status_code == 200
    assert 'data-testid="seed">20251020' in page.text
    assert "发现问题已责令整改" in page.text
    assert "ZF3305" not in page.text  # inspectors are not published
    assert client.get("/inspections/SJ20990101XXXXXX").status_code == 404


def test_the_roster_and_conflicts_of_interest(client, sign_in, accounts, graded):  # type: ignore[no-untyped-def]
    operator = sign_in(accounts.users["operator"])
    page = follow(operator, operator.post("/admin/inspectors", data={"name": "周洁", "badge_no": "zf 3305 0099"}))
    assert "已登记检查人员 周洁（ZF33050099）" in page.text
    page = follow(operator, operator.post("/admin/inspectors", data={"name": "周洁", "badge_no": "ZF33050099"}))
    assert "执法证号 ZF33050099已存在" in page.text
    inspector = graded.inspectors[0]
    page = follow(operator, operator.post(f"/admin/inspectors/{inspector.id}/exclusions",
                                          data={"subject_code": graded.by_grade["A"][0], "reason": "其兄在该企业任职"}))  # fmt: skip
    assert f"已登记 {inspector.name} 的回避" in page.text
    page = follow(operator, operator.post(f"/admin/inspectors/{inspector.id}/exclusions",
                                          data={"subject_code": "91330521MA00000000", "reason": "亲属"}))  # fmt: skip
    assert "未找到该信用主体" in page.text
    other = sign_in(accounts.users["operator_b"])
    page = follow(other, other.post(f"/admin/inspectors/{inspector.id}/exclusions",
                                    data={"subject_code": graded.by_grade["A"][1], "reason": "亲属关系"}))  # fmt: skip
    assert "只能为本部门（本区划）的检查人员登记回避" in page.text
    auditor = sign_in(accounts.users["auditor"])
    page = auditor.get("/admin/inspectors")
    assert page.status_code == 200
    assert "ZF33050099" in page.text
    assert "登记回避" not in page.text


def test_a_large_draw_is_shown_a_page_at_a_time(client, sign_in, accounts, graded, db_session, monkeypatch):  # type: ignore[no-untyped-def]
    settings = client.app.state.settings
    draft = service.PlanDraft("分页测试抽查", TODAY, TODAY, [], [], None, [], {}, [])
    plan = service.create_plan(db_session, draft, department=accounts.dept_a, actor=SYSTEM, settings=settings, today=TODAY)
    db_session.flush()
    row = service.draw_plan(db_session, plan.id, seed=8, actor=SYSTEM, settings=settings, today=TODAY)
    service.publish_plan(db_session, plan.id, actor=SYSTEM, settings=settings, today=TODAY)
    db_session.commit()
    monkeypatch.setattr(service, "ASSIGNMENTS_PAGE", 3)
    pages = -(-row.drawn // 3)
    first = client.get(f"/inspections/{plan.number}")
    second = client.get(f"/inspections/{plan.number}?page=2")
    beyond = client.get(f"/inspections/{plan.number}?page=999")
    assert f"第 1 / {pages} 页" in first.text
    assert f"第 2 / {pages} 页" in second.text
    assert f"第 {pages} / {pages} 页" in beyond.text
    codes = [set(re.findall(r'data-uscc="(\w+)"', page.text)) for page in (first, second)]
    assert len(codes[0]) == len(codes[1]) == 3
    assert not codes[0] & codes[1]
    assert f"（{row.drawn} 户，已录入结果 0 户）" in first.text
    staff = sign_in(accounts.users["auditor"])
    assert f"第 2 / {pages} 页" in staff.get(f"/admin/inspections/{plan.id}?page=2").text
