"""部门目录清单: the 信用办 keeps which types each department must report and how often; monitoring's 报送率 is
measured against it, and its rows name the types due but not reported."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from tests.factories import records as rf

from xinyong.audit.models import AuditEntry
from xinyong.auth import service as auth_service
from xinyong.catalog import load_catalog
from xinyong.intake import rules
from xinyong.intake import service as intake_service
from xinyong.intake.models import DepartmentDuty
from xinyong.monitoring import service as monitoring
from xinyong.monitoring.rules import Month
from xinyong.records import service as records_service

SEPTEMBER, OCTOBER = Month(2025, 9), Month(2025, 10)


def test_the_credit_office_keeps_the_department_catalogue_in_the_console(client, sign_in, accounts, db_session):
    admin = sign_in(accounts.users["platform_admin"])
    dept = accounts.dept_a
    added = admin.post("/admin/intake/duties", {"department": str(dept.id), "record_type": "penalty"},
                       follow_redirects=False)  # fmt: skip
    assert added.status_code == 303
    admin.post("/admin/intake/duties", {"department": str(dept.id), "record_type": "tax-rating", "frequency": "quarterly"})
    page = admin.get(f"/admin/intake/duties?department={dept.id}")
    assert page.status_code == 200
    assert "行政处罚" in page.text
    assert "作出决定后 7 个工作日内（双公示）" in page.text  # the default of a 双公示 type
    assert "纳税信用等级" in page.text
    assert "每季度" in page.text
    duties = {d.record_type: d.frequency for d in db_session.scalars(select(DepartmentDuty))}
    assert duties == {"penalty": "7wd", "tax-rating": "quarterly"}
    # Changing the frequency keeps one line per type.
    admin.post("/admin/intake/duties", {"department": str(dept.id), "record_type": "tax-rating", "frequency": "monthly"})
    assert db_session.scalar(select(DepartmentDuty.frequency).where(DepartmentDuty.record_type == "tax-rating")) == "monthly"
    actions = set(db_session.scalars(select(AuditEntry.action)))
    assert "department-catalogue.set" in actions

    # Bad input: an unknown type, an unknown frequency, no department: a message, nothing stored.
    for form, message in (({"department": str(dept.id), "record_type": "nothing"}, "信息类别“nothing”"),
                          ({"department": str(dept.id), "record_type": "penalty", "frequency": "daily"}, "报送频次“daily”无效"),
                          ({"department": "", "record_type": "penalty"}, "请选择部门"),
                          ({"department": "999999", "record_type": "penalty"}, "该部门")):  # fmt: skip
        refused = admin.post("/admin/intake/duties", form, follow_redirects=True)
        assert refused.status_code == 200, form
        assert message in refused.text, form
    assert db_session.scalar(select(DepartmentDuty.frequency).where(DepartmentDuty.record_type == "penalty")) == "7wd"

    # A department's operator sees its own department's catalogue and cannot change it.
    operator = sign_in(accounts.users["operator_b"])
    own = operator.get("/admin/intake/duties")
    assert own.status_code == 200
    assert "行政处罚" not in own.text  # department B has no line yet
    assert "保存" not in own.text
    assert operator.post("/admin/intake/duties", {"department": str(accounts.dept_b.id), "record_type": "penalty"}).status_code == 403

    admin = sign_in(accounts.users["platform_admin"])
    duty_id = db_session.scalar(select(DepartmentDuty.id).where(DepartmentDuty.record_type == "tax-rating"))
    removed = admin.post(f"/admin/intake/duties/{duty_id}/delete", follow_redirects=True)
    assert "已从部门目录清单中移出" in removed.text
    assert admin.post("/admin/intake/duties/999999/delete", follow_redirects=True).status_code == 200


def test_periods_of_each_frequency():
    assert rules.period_of("7wd", date(2025, 10, 1)) == (date(2025, 10, 1), date(2025, 10, 31))
    assert rules.period_of("monthly", date(2025, 12, 1)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert rules.period_of("quarterly", date(2025, 10, 1)) is None
    assert rules.period_of("quarterly", date(2025, 9, 1)) == (date(2025, 7, 1), date(2025, 9, 30))
    assert rules.period_of("yearly", date(2025, 11, 1)) is None
    assert rules.period_of("yearly", date(2025, 12, 1)) == (date(2025, 1, 1), date(2025, 12, 31))
    catalog = load_catalog()
    assert rules.default_frequency(catalog.get("license")) == "7wd"  # declared in the catalogue: 双公示
    assert rules.default_frequency(catalog.get("tax-arrears")) == "monthly"


def test_monitoring_measures_the_reporting_rate_against_the_catalogue(db_session, settings, protector, accounts):
    dept = accounts.dept_a
    system = auth_service.actor_for_user(accounts.users["platform_admin"])
    for key, frequency in (("penalty", None), ("license", None), ("tax-rating", "quarterly"), ("reward", "yearly")):
        intake_service.set_duty(db_session, system, settings=settings, department_id=dept.id, record_type=key,
                                frequency=frequency)  # fmt: skip
    # September: penalties reported, and the quarter's tax ratings in August; licences not reported.
    records_service.import_rows(db_session, [rf.penalty_row(CF_JDRQ="2025-09-01")], settings=settings,
                                protector=protector, record_type="penalty", department=dept, actor="test",
                                today=date(2025, 9, 8))  # fmt: skip
    rating = {"NS_XDR_MC": "日照市纳税样例有限公司", "NS_XDR_LB": "法人及非法人组织", "NS_XDR_SHXYM": rf.company_code(7),
              "NS_WSH": "日税评〔2025〕1号", "NS_ND": "2024", "NS_DJ": "A", "NS_JDRQ": "2025-08-01", "NS_JG": "日照市税务局",
              "NS_JGDM": dept.code, "NS_SJLY": "日照市税务局", "NS_SJLYDM": dept.code}  # fmt: skip
    result = records_service.import_rows(db_session, [rating], settings=settings, protector=protector,
                                         record_type="tax-rating", department=dept, actor="test", today=date(2025, 8, 20))  # fmt: skip
    assert result.created == 1
    db_session.commit()

    september = monitoring.compute_month(db_session, month=SEPTEMBER, settings=settings, today=date(2025, 10, 20))
    row = september.row(dept.id)
    assert (row.measures["types_expected"], row.measures["types_reported"]) == (3, 2)  # penalty, license, tax-rating
    assert round(row.values["coverage"].value * 3) == 2
    october = monitoring.compute_month(db_session, month=OCTOBER, settings=settings, today=date(2025, 10, 20))
    assert (october.row(dept.id).measures["types_expected"], october.row(dept.id).measures["types_reported"]) == (2, 0)
    # A department without a catalogue is not measured (“—”, not 0 % or 100 %).
    assert october.row(accounts.dept_b.id).values["coverage"].value is None

    rows = monitoring.drilldown(db_session, month=SEPTEMBER, department_id=dept.id, kind="types-due",
                                settings=settings, actor=system)  # fmt: skip
    assert [r[0] for r in rows.rows] == ["行政许可", "行政处罚", "纳税信用等级"]  # the missing one first
    assert [r[3] for r in rows.rows] == ["未报送", "已报送", "已报送"]
    assert rows.rows[2][2] == "2025-07-01 至 2025-09-30"
