"""The permission matrix's region dimension: a county's accounts see their county in every core console page.

Data is made in two counties of one city (德清县: dept_a; 长兴县: dept_c) through the domains' services. Signed in
as a county's account, every page below lists its own county's objects and none of the other's; every route
that takes an id of the other county's object answers 404 (a GET: the console's "未找到…" page; a POST: the same,
or the console's way back to the form with "未找到…" shown there — never a 500, nothing changed). Searches by the
other county's subject name, code or 文书号 find nothing. The city's 信用办 sees both counties.

A route added later is one line in PAGES (a list or search page) or OBJECT_ROUTES (a route taking an object's id);
tests/functional/admin/test_permission_matrix.py holds the role dimension of the same matrix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.factories import lists as lf
from tests.fixtures.regions import Regional
from tests.fixtures.subject_accounts import (  # noqa: F401  (fixtures: penalties through the pipeline, accounts)
    PDF,
    penalty,
    subject_account,
    today,
)

from xinyong.accounts.models import SubjectAccount
from xinyong.actors import Actor, Permission
from xinyong.auth.service import actor_for_user
from xinyong.checks import service as checks_service
from xinyong.config import Settings
from xinyong.db import utcnow
from xinyong.departments import service as departments_service
from xinyong.departments.models import ApiKey, Department
from xinyong.files import IncomingFile
from xinyong.lists.models import ListEntry
from xinyong.objections import service as objections_service
from xinyong.objections.models import Objection
from xinyong.records.models import Batch, Record, RecordStatus
from xinyong.repair import service as repair_service
from xinyong.repair.models import RepairApplication
from xinyong.reports.models import IssuedReport, ReportKind
from xinyong.subjects.models import Subject

P = Permission

# A list or search page: (path template, the permission it needs, the kind of object it must list). `{o[...]}`
# is filled from the object of that kind (the own county's, then the other's).
PAGES: list[tuple[str, Permission, str]] = [
    ("/admin", P.DASHBOARD_READ, "batch"),
    ("/admin/batches", P.BATCHES_READ, "batch"),
    ("/admin/records?doc_no={o[doc_no]}", P.RECORDS_READ, "record"),
    ("/admin/subjects?q={o[name]}", P.SUBJECTS_READ, "subject"),
    ("/admin/subjects?q={o[code]}", P.SUBJECTS_READ, "subject"),
    ("/admin/repairs?status=all", P.REPAIRS_READ, "repair"),
    ("/admin/objections?status=all", P.OBJECTIONS_READ, "objection"),
    ("/admin/lists", P.LISTS_READ, "entry"),
    ("/admin/checks", P.CHECKS_READ, "check"),
    ("/admin/checks/stats", P.CHECKS_READ, "department"),
    ("/admin/reports", P.REPORTS_READ, "report"),
    ("/admin/audit", P.AUDIT_READ, "audit"),
    ("/admin/audit?subject={o[code]}", P.AUDIT_READ, "audit"),
    ("/admin/departments", P.DEPARTMENTS_READ, "department"),
    ("/admin/users", P.USERS_READ, "user"),
    ("/admin/keys", P.KEYS_WRITE, "key"),
    ("/admin/upload", P.RECORDS_WRITE, "department"),  # the departments a county's 信用办 reports for
]

# A route taking an object's id or code: (method, path template, the permission it needs, kind, form).
OBJECT_ROUTES: list[tuple[str, str, Permission, str, dict[str, str]]] = [
    ("GET", "/admin/batches/{o[id]}", P.BATCHES_READ, "batch", {}),
    ("GET", "/admin/batches/{o[id]}/problems.csv", P.BATCHES_READ, "batch", {}),
    ("GET", "/admin/batches?department={o[id]}", P.BATCHES_READ, "department", {}),
    ("GET", "/admin?department={o[id]}", P.DASHBOARD_READ, "department", {}),
    ("POST", "/admin/records/{o[id]}/revoke", P.RECORDS_WRITE, "record", {"reason": "越权撤销尝试"}),
    ("GET", "/admin/subjects/{o[id]}", P.SUBJECTS_READ, "subject", {}),
    ("POST", "/admin/subjects/{o[id]}/reveal", P.SUBJECTS_REVEAL, "subject", {"reason": "越权查看尝试"}),
    ("GET", "/admin/repairs/{o[id]}", P.REPAIRS_READ, "repair", {}),
    ("POST", "/admin/repairs/{o[id]}/accept", P.REPAIRS_ACCEPT, "repair", {}),
    ("POST", "/admin/repairs/{o[id]}/return", P.REPAIRS_ACCEPT, "repair", {"missing": "请补充缴款凭证原件"}),
    ("POST", "/admin/repairs/{o[id]}/refuse", P.REPAIRS_ACCEPT, "repair", {"reason": "材料不齐全，不予受理"}),
    ("GET", "/admin/objections/{o[id]}", P.OBJECTIONS_READ, "objection", {}),
    ("POST", "/admin/objections/{o[id]}/decide", P.OBJECTIONS_DECIDE, "objection",
     {"outcome": "uphold", "reason": "经核实，记录无误"}),
    ("GET", "/admin/lists/{o[id]}", P.LISTS_READ, "entry", {}),
    ("POST", "/admin/lists/{o[id]}/notify", P.LISTS_WRITE, "entry", {}),
    ("POST", "/admin/lists/{o[id]}/objection", P.LISTS_WRITE, "entry", {"text": "当事人提出异议"}),
    ("POST", "/admin/lists/{o[id]}/decide", P.LISTS_DECIDE, "entry", {"decision_no": "越权〔2025〕1号"}),
    ("POST", "/admin/lists/{o[id]}/withdraw", P.LISTS_DECIDE, "entry", {"reason": "越权不予列入"}),
    ("POST", "/admin/lists/{o[id]}/publish", P.LISTS_WRITE, "entry", {}),
    ("POST", "/admin/lists/{o[id]}/remove", P.LISTS_DECIDE, "entry", {"reason": "越权移出名单"}),
    ("GET", "/admin/checks/{o[number]}", P.CHECKS_READ, "check", {}),
    ("GET", "/admin/checks/{o[number]}/print", P.CHECKS_READ, "check", {}),
    ("POST", "/admin/checks/{o[number]}/feedback", P.CHECKS_WRITE, "check", {"applied": "0", "note": "越权反馈尝试"}),
    ("GET", "/admin/subject-accounts?subject_id={o[id]}", P.SUBJECT_ACCOUNTS_READ, "subject", {}),
    ("POST", "/admin/subject-accounts/find", P.SUBJECT_ACCOUNTS_READ, "subject", {"code": "{o[code]}"}),
    ("POST", "/admin/subject-accounts/activation-codes", P.SUBJECT_ACCOUNTS_ACTIVATE, "subject",
     {"subject_id": "{o[id]}", "channel": "counter"}),
    ("POST", "/admin/subject-accounts/{o[id]}/revoke", P.SUBJECT_ACCOUNTS_REVOKE, "account", {"reason": "越权注销尝试"}),
    ("POST", "/admin/departments/{o[id]}/active", P.DEPARTMENTS_WRITE, "department", {"active": "0"}),
    ("POST", "/admin/users/{o[id]}", P.USERS_WRITE, "user", {"role": "operator", "active": "0"}),
    ("POST", "/admin/users/{o[id]}/reset-password", P.USERS_WRITE, "user", {}),
    ("POST", "/admin/users", P.USERS_WRITE, "department",
     {"username": "intruder", "role": "operator", "department": "{o[id]}"}),
    ("POST", "/admin/keys", P.KEYS_WRITE, "department", {"department": "{o[id]}", "name": "越权密钥"}),
    ("POST", "/admin/keys/{o[prefix]}/revoke", P.KEYS_WRITE, "key", {}),
]

# Who signs in, and which county is theirs: the 德清县 信用办, a 德清县 department's operator (dept_a), the 长兴县
# auditor.
VIEWERS = [("county_admin", "deqing"), ("operator", "deqing"), ("county_auditor_c", "changxing")]
OTHER = {"deqing": "changxing", "changxing": "deqing"}


@dataclass
class County:
    objects: dict[str, dict[str, Any]]  # kind -> the fields the templates use, and "marker": its text in a page


@pytest.fixture
def console_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The console's settings, with somewhere to keep repair evidence."""
    return settings.model_copy(update={
        "portal_rate_limit_requests": 0, "upload_max_bytes": 256 * 1024, "login_rate_limit_attempts": 1000,
        "upload_dir": tmp_path / "uploads", "events_file": tmp_path / "events.jsonl", "evidence_max_bytes": 64 * 1024,
    })  # fmt: skip


def _county(db_session, console_settings, protector, today, penalty, subject_account, *, regional: Regional,  # type: ignore[no-untyped-def]  # noqa: F811
            key: str, department: Department, prefix: str) -> County:  # fmt: skip
    system = Actor.system("test")
    listed, repaired, objected = (
        penalty(department=department, CF_XDR_MC=f"{prefix}{what}测试有限公司", CF_WSH=f"{prefix}罚〔2025〕{n}号")
        for n, what in ((1, "名单"), (2, "修复"), (3, "异议"))
    )  # fmt: skip
    subject = db_session.get(Subject, listed.subject_id)
    batch = db_session.scalars(select(Batch).where(Batch.department_id == department.id).order_by(Batch.id.desc())).first()
    entry = lf.listed(db_session, console_settings, protector, department, subject.uscc, today=today)
    account = subject_account(repaired)
    repair = repair_service.submit_application(
        db_session, account=account, record_id=repaired.id, settings=console_settings, today=today,
        data=repair_service.ApplicationInput("李经理", "13800000000", "", "已缴纳罚款，整改完毕。", "张三", True),
        files=[IncomingFile("a.pdf", PDF)],
    )  # fmt: skip
    objection = objections_service.file_objection(
        db_session, account=subject_account(objected), record_id=objected.id, today=today, settings=console_settings,
        data=objections_service.ObjectionInput("wrong-data", "罚款金额应为一千元，决定书记载有误。", "李经理", "13800000000"),
        files=[],
    )  # fmt: skip
    operator = regional.users["operator" if key == "deqing" else "operator_c"]
    check = checks_service.run_check(db_session, checks_service.CheckItem(code=subject.uscc), matter="政府采购",
                                     actor=actor_for_user(operator), settings=console_settings, protector=protector,
                                     today=today)  # fmt: skip
    report = IssuedReport(number=f"BG{prefix.encode().hex()[:10]}", kind=ReportKind.PUBLIC, subject_id=subject.id,
                          subject_name=subject.name, subject_code=subject.uscc, requested_by=f"user:{operator.username}",
                          department_id=department.id, content_sha256="0" * 64)  # fmt: skip
    db_session.add(report)
    api_key, _token = departments_service.issue_api_key(db_session, department=department, name=f"{prefix}系统",
                                                        expires_at=utcnow() + timedelta(days=30), actor=system)  # fmt: skip
    db_session.commit()
    return County({
        "batch": {"id": batch.id, "marker": f'href="/admin/batches/{batch.id}"'},
        "record": {"id": listed.id, "doc_no": listed.doc_no, "marker": f'href="/admin/subjects/{subject.id}"'},
        "subject": {"id": subject.id, "name": subject.name, "code": subject.uscc,
                    "marker": f'href="/admin/subjects/{subject.id}"'},  # a search echoes what was typed
        "repair": {"id": repair.id, "marker": repair.number},
        "objection": {"id": objection.id, "marker": objection.number},
        "entry": {"id": entry.id, "marker": f'href="/admin/lists/{entry.id}"'},
        "check": {"number": check["number"], "marker": check["number"]},
        "report": {"id": report.id, "marker": report.number},
        "audit": {"code": db_session.get(Subject, objected.subject_id).uscc, "marker": f"<td>objection:{objection.id}</td>"},
        "department": {"id": department.id, "marker": department.name},
        "user": {"id": operator.id, "marker": f"<td>{operator.username}</td>"},
        "key": {"prefix": api_key.prefix, "marker": api_key.prefix},
        "account": {"id": account.id, "marker": f"{account.id}"},
    })


@pytest.fixture
def counties(db_session, console_settings, protector, today, penalty, subject_account, regional):  # type: ignore[no-untyped-def]  # noqa: F811
    lf.load_types(db_session, regional.accounts.dept_a, regional.dept_c)
    make = {"db_session": db_session, "console_settings": console_settings, "protector": protector, "today": today,
            "penalty": penalty, "subject_account": subject_account, "regional": regional}
    return {
        "deqing": _county(**make, key="deqing", department=regional.accounts.dept_a, prefix="德清县"),
        "changxing": _county(**make, key="changxing", department=regional.dept_c, prefix="长兴县"),
    }


def _fill(template: str, obj: dict[str, Any]) -> str:
    return template.format(o=obj)


def _state(db_session, county: County) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    """What the refused writes could have changed in a county."""
    o = county.objects
    db_session.expire_all()
    return (
        db_session.get(Record, o["record"]["id"]).status, db_session.get(RepairApplication, o["repair"]["id"]).status,
        db_session.get(Objection, o["objection"]["id"]).status, db_session.get(ListEntry, o["entry"]["id"]).state,
        db_session.get(Department, o["department"]["id"]).is_active,
        db_session.get(ApiKey, db_session.scalar(select(ApiKey.id).where(ApiKey.prefix == o["key"]["prefix"]))).revoked_at,
        db_session.get(SubjectAccount, o["account"]["id"]).status,
        db_session.scalar(select(Subject.id).where(Subject.id == o["subject"]["id"])),
    )  # fmt: skip


@pytest.mark.parametrize(("viewer", "home"), VIEWERS)
def test_a_county_account_sees_only_its_county(db_session, regional, counties, sign_in, viewer, home):  # type: ignore[no-untyped-def]
    user = regional.users[viewer]
    actor = actor_for_user(user)
    own, other = counties[home], counties[OTHER[home]]
    browser = sign_in(user)
    checked = 0
    for template, permission, kind in PAGES:
        for county, expected in ((own, True), (other, False)):
            url = _fill(template, county.objects[kind])
            page = browser.get(url)
            if not actor.can(permission):
                assert page.status_code == 403, url
                continue
            assert page.status_code == 200, (url, page.status_code)
            marker = county.objects[kind]["marker"]
            if kind == "department" and viewer == "operator":
                continue  # a department's account is shown its own department's name on any page
            assert (marker in page.text) is expected, (viewer, url, marker, expected)
            checked += 1
    assert checked


@pytest.mark.parametrize(("viewer", "home"), VIEWERS)
def test_another_countys_objects_are_not_found(db_session, regional, counties, sign_in, viewer, home):  # type: ignore[no-untyped-def]
    user = regional.users[viewer]
    actor = actor_for_user(user)
    own, other = counties[home], counties[OTHER[home]]
    before = _state(db_session, other)
    browser = sign_in(user)
    refused = 0
    for method, template, permission, kind, form in OBJECT_ROUTES:
        if kind == "department" and method == "GET" and actor.is_department_bound:
            continue  # a department's account is always shown its own department, whichever is asked for
        url = _fill(template, other.objects[kind])
        data = {name: _fill(value, other.objects[kind]) for name, value in form.items()}
        response = browser.get(url) if method == "GET" else browser.post(url, data)
        if not actor.can(permission):
            assert response.status_code == 403, (method, url)
            continue
        if response.status_code == 303:  # a refused form: back to where it came from, the reason shown there
            assert method == "POST", url
            response = browser.get(response.headers["location"])
        assert response.status_code in (200, 404), (method, url, response.status_code)
        assert "未找到" in response.text, (viewer, method, url)
        refused += 1
        if method == "GET":
            assert response.status_code == 404, url
            assert "<h1>404</h1>" in response.text, url
    assert refused
    assert _state(db_session, other) == before
    # The own county's objects open.
    for method, template, permission, kind, _form in OBJECT_ROUTES:
        if method == "GET" and actor.can(permission):
            url = _fill(template, own.objects[kind])
            assert browser.get(url).status_code == 200, (viewer, url)


def test_the_citys_office_sees_both_counties(regional, counties, sign_in):  # type: ignore[no-untyped-def]
    browser = sign_in(regional.users["platform_admin"])
    for template, _permission, kind in PAGES:
        for county in counties.values():
            page = browser.get(_fill(template, county.objects[kind]))
            assert page.status_code == 200, template
            marker = county.objects[kind]["marker"]
            if kind == "audit" or template.startswith("/admin/subjects") or template.startswith("/admin/records"):
                assert marker in page.text, (template, marker)
            else:
                others = [c.objects[kind]["marker"] for c in counties.values()]
                assert all(m in page.text for m in others), (template, others)
    for method, template, _permission, kind, _form in OBJECT_ROUTES:
        if method == "GET":
            for county in counties.values():
                assert browser.get(_fill(template, county.objects[kind])).status_code == 200, template


def test_a_county_dashboard_counts_only_its_county(db_session, regional, counties, sign_in):  # type: ignore[no-untyped-def]
    from xinyong.admin import service as admin_service

    city = admin_service.dashboard(db_session, actor_for_user(regional.users["platform_admin"]))
    deqing = admin_service.dashboard(db_session, actor_for_user(regional.users["county_admin"]))
    changxing = admin_service.dashboard(db_session, actor_for_user(regional.users["county_admin_c"]))
    assert deqing.rows >= 3  # three penalties each, at least
    assert changxing.rows >= 3
    assert city.rows == deqing.rows + changxing.rows  # the city's sums its counties
    assert {b.department_id for b in deqing.batches} == {regional.accounts.dept_a.id}
    assert {b.department_id for b in changxing.batches} == {regional.dept_c.id}


def test_a_county_revokes_its_own_records_only(db_session, regional, counties, sign_in):  # type: ignore[no-untyped-def]
    browser = sign_in(regional.users["county_admin"])
    own = counties["deqing"].objects["record"]
    response = browser.post(f"/admin/records/{own['id']}/revoke", {"reason": "重复报送，予以撤销"})
    assert response.status_code == 303
    db_session.expire_all()
    assert db_session.get(Record, own["id"]).status == RecordStatus.REVOKED
