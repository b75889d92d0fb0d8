"""The warning rules besides a KPI under its threshold: a government body listed as 失信被执行人 (taken onto the
integrity board from the court's list), a sudden drop of reporting, a repair past the department's deadline."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from tests.factories import lists as list_factories
from tests.factories import records as rf
from tests.factories.monitoring import TODAY

from xinyong.accounts import activation
from xinyong.accounts import service as accounts_service
from xinyong.actors import Actor
from xinyong.alerts.models import Alert, AlertStatus
from xinyong.auth import service as auth_service
from xinyong.clock import today as china_today
from xinyong.codes import make_uscc
from xinyong.files import IncomingFile
from xinyong.lists import imports as list_imports
from xinyong.monitoring import service
from xinyong.monitoring.rules import Month
from xinyong.notify import service as notify_service
from xinyong.notify.models import OutboxItem
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.repair import service as repair_service
from xinyong.web.deps import get_today

OCTOBER = Month(2025, 10)
GOV = make_uscc("1", "1", "330521", "00000077")


def _alerts(session, rule: str) -> list[Alert]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(Alert).where(Alert.rule == rule).order_by(Alert.id)))


def test_a_government_body_on_the_courts_list_reaches_the_board_and_the_office(app, client, accounts, sign_in,
                                                                               db_session, settings, protector):  # fmt: skip
    app.dependency_overrides[get_today] = lambda: TODAY
    list_factories.load_types(db_session, accounts.dept_a)
    outcome = list_imports.import_list_rows(db_session, [
        {"name": "安吉县某某管理局", "code": GOV, "doc_no": "（2025）浙0523执9号", "listed_on": "2025-10-10",
         "reasons": "有履行能力而拒不履行生效判决"},
        {"name": "安吉县某某有限公司", "code": rf.company_code(4401), "doc_no": "（2025）浙0523执10号",
         "listed_on": "2025-10-10", "reasons": "拒不履行"},
    ], type_key="court-dishonest-debtors", department=accounts.dept_a, actor=Actor.system("test"), protector=protector,
        today=TODAY)  # fmt: skip
    assert outcome.created == 2, outcome
    run = service.evaluate_warnings(db_session, month=OCTOBER, settings=settings, today=TODAY, actor="test")
    assert run.by_rule.get("government-listed") == 1  # the company is not a government body
    again = service.evaluate_warnings(db_session, month=OCTOBER, settings=settings, today=TODAY, actor="test")
    assert "government-listed" not in again.by_rule  # once per listing, however often the rules run
    db_session.commit()
    notify_service.deliver_pending(db_session, settings=settings, notifier=notify_service.notifier_for(settings))

    admin = sign_in(accounts.users["platform_admin"])
    board = admin.get("/admin/integrity").text
    assert "安吉县某某管理局" in board
    assert "失信被执行人" in board
    assert "2026-01-08" in board  # 90 days after the listing
    assert "安吉县某某有限公司" not in board
    inbox = admin.get("/admin/inbox").text  # no supervising body yet: the 信用办's own inbox
    assert "政府机构新增失信记录：安吉县某某管理局（失信被执行人）" in inbox
    assert "须于 2026-01-08 前清零" in inbox
    month = admin.get("/admin/monitoring?month=2025-10").text
    indicators = month.split('data-testid="integrity-indicators"')[1].split("</table>")[0]
    assert "<td>新增政府机构失信被执行人</td><td>1</td>" in indicators
    assert "<td>未清零的政务失信记录</td><td>1</td>" in indicators


def _reported(session, settings, protector, department, day: date, count: int) -> None:  # type: ignore[no-untyped-def]
    rows = [rf.penalty_row(CF_JDRQ=(day - timedelta(days=3)).isoformat()) for _ in range(count)]
    records_service.import_rows(session, rows, settings=settings, protector=protector, record_type="penalty",
                                department=department, actor="test", today=day)  # fmt: skip


def test_a_sudden_drop_of_reporting_warns_the_department_until_it_recovers(db_session, settings, protector, accounts):
    for day in (date(2025, 7, 15), date(2025, 8, 14), date(2025, 9, 15)):
        _reported(db_session, settings, protector, accounts.dept_a, day, 10)
    _reported(db_session, settings, protector, accounts.dept_a, date(2025, 10, 15), 4)
    _reported(db_session, settings, protector, accounts.dept_b, date(2025, 10, 15), 1)  # nothing before: no drop
    run = service.evaluate_warnings(db_session, month=OCTOBER, settings=settings, today=TODAY, actor="test")
    assert run.by_rule.get("reporting-drop") == 1
    [alert] = _alerts(db_session, "reporting-drop")
    assert alert.department_id == accounts.dept_a.id
    assert alert.body == "2025-10 报送 4 行，前 3 个月平均 10 行，下降超过 50.0%。"
    recipients = {i.payload["user_id"] for i in db_session.scalars(select(OutboxItem).where(OutboxItem.topic == "inbox"))
                  if i.payload["ref"] == f"alert:{alert.id}"}  # fmt: skip
    assert recipients == {accounts.users["operator"].id, accounts.users["reviewer"].id}

    _reported(db_session, settings, protector, accounts.dept_a, date(2025, 10, 17), 2)  # 6 rows: no longer a drop
    rerun = service.evaluate_warnings(db_session, month=OCTOBER, settings=settings, today=TODAY, actor="test")
    assert rerun.resolved >= 1
    db_session.refresh(alert)
    assert alert.status is AlertStatus.RESOLVED
    assert alert.note == "重新计算后已不满足预警条件，系统自动解除"


def test_a_repair_past_the_departments_deadline_warns_it_until_decided(db_session, settings, protector, accounts,
                                                                       tmp_path):  # fmt: skip
    console_settings = settings.model_copy(update={"upload_dir": tmp_path / "uploads"})
    today = china_today()
    row = rf.penalty_row(CF_JDRQ=(today - timedelta(days=200)).isoformat())
    records_service.import_rows(db_session, [row], settings=console_settings, protector=protector,
                                record_type="penalty", department=accounts.dept_a, actor="test", today=today)  # fmt: skip
    record = db_session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
    account = accounts_service.sign_up(db_session, code=row["CF_XDR_SHXYM"], name=row["CF_XDR_MC"],
                                       contact="repair@example.cn", password="Subject-pass-2025", protector=protector,
                                       settings=console_settings)  # fmt: skip
    code = db_session.scalars(select(OutboxItem).where(OutboxItem.topic == "message")
                              .order_by(OutboxItem.id.desc())).first().payload["body"].split("验证码为 ")[1][:6]  # fmt: skip
    accounts_service.verify(db_session, account_id=account.id, code=code, protector=protector)
    _, activation_code = activation.issue(db_session, subject_id=record.subject_id, actor=Actor.system("test"),
                                          channel="counter", settings=console_settings, protector=protector)  # fmt: skip
    activation.redeem(db_session, account, code=activation_code, settings=console_settings, protector=protector)
    application = repair_service.submit_application(
        db_session, account=account, record_id=record.id,
        data=repair_service.ApplicationInput(contact_name="张三", contact_phone="13800138000", contact_email="",
                                             statement="已缴清罚款并完成整改。", signer_name="张三", agrees=True),
        files=[IncomingFile("缴款凭证.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")],
        settings=console_settings, today=today,
    )  # fmt: skip
    platform = auth_service.actor_for_user(accounts.users["platform_admin"])
    repair_service.accept_application(db_session, application.id, actor=platform, settings=console_settings,
                                      today=today)  # fmt: skip
    due = application.department_due
    assert due is not None

    on_time = service.evaluate_warnings(db_session, month=Month.of(due), settings=console_settings, today=due,
                                        actor="test")  # fmt: skip
    assert "repair-overdue" not in on_time.by_rule  # the deadline's own day is still in time
    late = due + timedelta(days=1)
    run = service.evaluate_warnings(db_session, month=Month.of(late), settings=console_settings, today=late,
                                    actor="test")  # fmt: skip
    assert run.by_rule.get("repair-overdue") == 1
    [alert] = _alerts(db_session, "repair-overdue")
    assert alert.department_id == accounts.dept_a.id
    assert alert.title == f"信用修复申请逾期未办结：{application.number}"
    assert f"部门审核期限为 {due}" in alert.body

    reviewer = auth_service.actor_for_user(accounts.users["reviewer"])
    repair_service.approve_application(db_session, application.id, actor=reviewer, opinion="同意修复，已核实整改",
                                       today=late)  # fmt: skip
    service.evaluate_warnings(db_session, month=Month.of(late), settings=console_settings, today=late, actor="test")
    db_session.refresh(alert)
    assert alert.status is AlertStatus.RESOLVED
