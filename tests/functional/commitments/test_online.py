"""Made online and handled by the department: a subject commits from a template (full text, agreement, hash,
printable copy), sees it on its account and, if public, on the portal; the accepting department lists, filters,
records fulfilment and verifies (承诺不实 → 全部未履行 with the 追究, audited); other departments are refused; the
dashboard counts. Each bad input with its status code and message."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from tests.functional.commitments.conftest import KEY, days_ago, dept_row, record_of

from xinyong.audit.models import AuditEntry
from xinyong.calendar.service import load_calendar
from xinyong.commitments import service
from xinyong.commitments.models import OnlineCommitment, TaskStatus, VerificationTask
from xinyong.records.models import RecordVersion
from xinyong.subjects.models import Subject
from xinyong.subjects.refs import record_ref

TEMPLATE = "food-business-notice"


@pytest.fixture
def subject(db_session, accounts, import_file, today, subject_account):  # type: ignore[no-untyped-def]
    """A company known to the platform (one earlier commitment, kept 不予公开) with a verified account."""
    row = dept_row(accounts.dept_a, days_ago(today, 40), 公开类型="不予公开", 承诺类型="主动型")
    assert import_file([row]).created == 1
    return subject_account(record_of(db_session, row["承诺编码"]))


def _form(client, key=TEMPLATE):  # type: ignore[no-untyped-def]
    page = client.get(f"/account/commitments/new/{key}")
    assert page.status_code == 200, page.text
    content_hash = page.text.split('name="content_hash" value="')[1].split('"')[0]
    assert 'name="subject_code"' not in page.text  # the account decides who commits, not the form
    return page, content_hash


def _make(portal, accounts, **overrides):  # type: ignore[no-untyped-def]
    _, content_hash = _form(portal.client)
    data = {"department": str(accounts.dept_a.id), "agreed": "yes", "content_hash": content_hash, **overrides}
    return portal.post(f"/account/commitments/new/{TEMPLATE}", data)


def test_a_subject_commits_online_and_the_department_finds_it_untrue(  # type: ignore[no-untyped-def]
    client, db_session, accounts, subject, portal_sign_in, sign_in, today, console_settings, protector
):
    portal = portal_sign_in(subject)
    page, _ = _form(client)
    template = service.config(console_settings).template(TEMPLATE)
    assert template.text.splitlines()[0] in page.text
    assert template.liability in page.text

    made = _make(portal, accounts)
    assert made.status_code == 303, made.text
    online = db_session.scalars(select(OnlineCommitment)).one()
    assert made.headers["location"] == f"/account/commitments/{online.id}"
    assert online.code[:6] == accounts.dept_a.code[2:8]
    assert online.code[6:14] == f"{today:%Y%m%d}"
    assert len(online.content_hash) == 64
    copy = client.get(f"/account/commitments/{online.id}")
    assert copy.status_code == 200
    assert online.content_hash in copy.text
    assert "pledge-copy" in copy.text
    assert template.text.splitlines()[1] in copy.text
    own = client.get("/account/commitments")
    assert online.code in own.text
    assert "履行中" in own.text
    # 可向社会公开: on the portal and the public API
    uscc = db_session.get(Subject, subject.subject_id).uscc
    api = client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": KEY}).json()
    assert [i["doc_no"] for i in api["items"]] == [online.code]
    # the same commitment again, while in force: refused
    again = _make(portal, accounts)
    assert again.status_code == 409
    assert "已存在" in again.text

    # The accepting department: its list (filtered), the verification task, the finding 承诺不实.
    operator = sign_in(accounts.users["operator"])
    listing = operator.get("/admin/commitments", params={"kind": "证明事项告知承诺型"})
    assert listing.status_code == 200
    assert online.code in listing.text
    assert online.code not in operator.get("/admin/commitments", params={"status": "全部未履行"}).text
    task = db_session.scalars(select(VerificationTask)).one()
    assert task.due_on == service.rules.verification_due(load_calendar(db_session), today, 20)
    tasks_page = operator.get("/admin/commitments/verifications")
    assert online.code in tasks_page.text
    # another department may not verify or record fulfilment: 403
    other = sign_in(accounts.users["operator_b"])
    refused = other.post(f"/admin/commitments/verifications/{task.id}", {"finding": "untrue", "note": "x", "actions": "终止办理"})
    assert refused.status_code == 403
    assert "只能核查本部门" in refused.text
    assert other.get(f"/admin/commitments/{online.record_id}").status_code == 403
    fulfil = other.post(f"/admin/commitments/{online.record_id}/fulfilment", {"status": "全部履行"})
    assert fulfil.status_code == 403
    assert "本部门" in fulfil.text
    # untrue without the 追究: refused
    operator = sign_in(accounts.users["operator"])
    bare = operator.post(f"/admin/commitments/verifications/{task.id}", {"finding": "untrue", "note": "场所证明系伪造"})
    assert bare.status_code == 422
    assert "追究措施" in bare.text
    done = operator.post(f"/admin/commitments/verifications/{task.id}",
                         {"finding": "untrue", "note": "场所证明系伪造", "actions": ["终止办理", "记入信用记录"]})  # fmt: skip
    assert done.status_code == 303, done.text
    db_session.expire_all()
    task = db_session.get(VerificationTask, task.id)
    assert task.status is TaskStatus.UNTRUE
    assert task.on_time
    record = record_of(db_session, online.code)
    assert record.payload["CN_LXZT"] == "全部未履行"
    assert record.payload["CN_ZJNR"] == "终止办理；记入信用记录"
    assert record.payload["CN_RDDW"] == accounts.dept_a.name
    assert db_session.scalars(select(RecordVersion).where(RecordVersion.record_id == record.id)).one().version == 1
    actions = {e.action for e in db_session.scalars(select(AuditEntry))}
    assert {"commitment.made", "commitment.fulfilment", "commitment.verified"} <= actions
    # The subject sees it broken; the dashboard counts it.
    portal = portal_sign_in(subject)
    assert "全部未履行" in client.get("/account/commitments").text
    # the subject may object to the finding through the objection procedure, as against any record
    objection_form = client.get(f"/objections/file/{record_ref(record.id, protector)}")
    assert objection_form.status_code == 200
    assert online.code in objection_form.text
    operator = sign_in(accounts.users["operator"])
    board = operator.get("/admin/commitments/dashboard")
    assert board.status_code == 200
    row = board.text.split(f'data-department="{accounts.dept_a.name}"')[1].split("</tr>")[0]
    assert '<td data-testid="accepted">2</td>' in row
    assert '<td data-testid="on-time">1</td>' in row
    assert '<td data-testid="broken">1</td>' in row


def test_bad_inputs_of_the_online_commitment(client, db_session, accounts, subject, portal_sign_in, today):  # type: ignore[no-untyped-def]
    portal = portal_sign_in(subject)
    other_company = dept_row(accounts.dept_a, today)["统一社会信用代码"]
    cases = [
        ({"subject_code": other_company}, 403, "不能代他人承诺"),
        ({"agreed": ""}, 422, "请完整阅读承诺书"),
        ({"content_hash": "0" * 64}, 422, "承诺书内容已更新"),
        ({"department": ""}, 422, "请选择承诺受理单位"),
        ({"department": "<script>1</script>"}, 422, "请选择承诺受理单位"),
    ]
    for change, status, text in cases:
        response = _make(portal, accounts, **change)
        assert response.status_code == status, (change, response.text[:300])
        assert text in response.text, change
    unknown = portal.post("/account/commitments/new/unknown", {"agreed": "yes"})
    assert unknown.status_code == 404
    assert "承诺书模板" in unknown.text
    assert db_session.scalars(select(OnlineCommitment)).all() == []


def test_fulfilment_by_the_department_and_its_bad_inputs(db_session, accounts, import_file, sign_in, today):  # type: ignore[no-untyped-def]
    row = dept_row(accounts.dept_a, days_ago(today, 20), 公开类型="特定范围内公开")
    import_file([row])
    record = record_of(db_session, row["承诺编码"])
    operator = sign_in(accounts.users["operator"])
    detail = operator.get(f"/admin/commitments/{record.id}")
    assert detail.status_code == 200
    assert row["承诺内容"] in detail.text
    url = f"/admin/commitments/{record.id}/fulfilment"
    assert row["承诺编码"] in operator.get("/admin/commitments/verifications").text  # its task, created on sight
    cases = [
        ({"status": "基本履行"}, 422, "未知的承诺履行状态"),
        ({"status": "部分履行", "unfulfilled": ""}, 422, "未履行的承诺内容为必填项"),
        ({"status": "部分履行", "unfulfilled": "未按期整改", "determined_on": days_ago(today, 30).isoformat()}, 422,
         "早于承诺作出日期"),
        ({"status": "部分履行", "unfulfilled": "未按期整改", "determined_on": (today + timedelta(days=2)).isoformat()}, 422,
         "日期不能在未来"),
        ({"status": "部分履行", "unfulfilled": "未按期整改", "determined_on": "2025-13-01"}, 422, "不是有效日期"),
    ]
    for data, status, text in cases:
        response = operator.post(url, data)
        assert response.status_code == status, (data, response.text[:300])
        assert text in response.text, data
    ok = operator.post(url, {"status": "全部履行"})
    assert ok.status_code == 303
    db_session.expire_all()
    assert record_of(db_session, row["承诺编码"]).payload["CN_LXZT"] == "全部履行"
    task = db_session.scalars(select(VerificationTask)).one()
    assert task.status is TaskStatus.CONFIRMED  # the determination answers the verification
    assert row["承诺编码"] not in operator.get("/admin/commitments/verifications").text
    hostile = '<img src=x onerror="alert(1)">{{7*7}}'
    assert operator.post(url, {"status": "部分履行", "unfulfilled": hostile, "pursued": hostile}).status_code == 303
    shown = operator.get(f"/admin/commitments/{record.id}").text
    assert "<img src=x" not in shown
    assert "&lt;img src=x" in shown
    # a record that is not a commitment does not exist here
    assert operator.get("/admin/commitments/999999").status_code == 404
    # the 信用办 reads every department's, but records no fulfilment (谁受理、谁认定)
    admin = sign_in(accounts.users["platform_admin"])
    assert row["承诺编码"] in admin.get("/admin/commitments").text
    assert admin.post(url, {"status": "全部履行"}).status_code == 403


def test_an_overdue_task_is_flagged(db_session, accounts, import_file, sign_in, today):  # type: ignore[no-untyped-def]
    row = dept_row(accounts.dept_a, days_ago(today, 60), 承诺事由="食品经营许可")
    import_file([row])
    operator = sign_in(accounts.users["operator"])
    page = operator.get("/admin/commitments/verifications")
    assert "已逾期" in page.text
    assert row["承诺编码"] in page.text
    board = operator.get("/admin/commitments/dashboard").text
    assert '<td data-testid="overdue"><strong class="warn">1</strong></td>' in board


def test_a_department_takes_commitments_on_the_templates_its_region_adopted(  # type: ignore[no-untyped-def]
    db_session, accounts, subject, portal_sign_in, today, console_settings
):
    from xinyong.actors import Actor
    from xinyong.departments import service as departments_service
    from xinyong.regions import service as regions_service

    system = Actor.system("test")
    for code in ("330500", "330521"):  # 湖州市 (takes both departments), 德清县
        regions_service.add_region(db_session, code=code, actor=system)
    db_session.expire_all()  # the root took the departments in one UPDATE
    departments_service.move_department(db_session, accounts.dept_b.id, region="330521", actor=system)
    others = [t.key for t in service.templates(console_settings) if t.key != TEMPLATE]
    service.set_region_templates(db_session, "330521", others, actor=system, settings=console_settings)
    db_session.commit()
    portal = portal_sign_in(subject)
    refused = _make(portal, accounts, department=str(accounts.dept_b.id))
    assert refused.status_code == 422
    assert "未采用承诺书模板" in refused.text
    assert db_session.scalars(select(OnlineCommitment)).all() == []
    assert _make(portal, accounts).status_code == 303  # the city's department: every template
