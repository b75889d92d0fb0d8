"""The console's work and its abuse cases: uploads, revocation, restricted look-ups, departments side by side."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import func, select
from tests.factories.records import ON_TIME, OTHER_DEPT_CODE, penalty_row, write_rows
from tests.functional.records.helpers import write_xlsx
from tests.functional.records.test_checks import PERSON_ID, person_row

from xinyong.audit import service as audit
from xinyong.audit.models import AuditEntry
from xinyong.files import safe_filename
from xinyong.records import service as records_service
from xinyong.records.models import Batch, Record, RecordStatus

SCRIPT = '<script>alert("x")</script>'


def _csv_bytes(tmp_path, rows) -> bytes:  # type: ignore[no-untyped-def]
    path = tmp_path / "rows.csv"
    write_rows(path, rows)
    return path.read_bytes()


def _upload(browser, name: str, content: bytes, record_type: str = "penalty", **extra):  # type: ignore[no-untyped-def]
    return browser.client.post(
        "/admin/upload",
        data={"csrf_token": browser.csrf, "record_type": record_type, **extra},
        files={"file": (name, content, "application/octet-stream")},
    )


def _flash(browser, response) -> str:  # type: ignore[no-untyped-def]
    return browser.get(response.headers["location"]).text


def _import(db_session, settings, protector, department, rows):  # type: ignore[no-untyped-def]
    result = records_service.import_rows(db_session, rows, settings=settings, protector=protector,
                                         record_type="penalty", department=department, actor="test", today=ON_TIME)  # fmt: skip
    db_session.commit()
    return result


@pytest.fixture(autouse=True)
def _on_time(monkeypatch):  # type: ignore[no-untyped-def]
    from xinyong import clock

    monkeypatch.setattr(clock, "today", lambda: ON_TIME)


# ------------------------------------------------------------------------------------------- uploads


def test_an_operator_uploads_a_csv_and_sees_the_batch(sign_in, accounts, tmp_path, db_session):
    browser = sign_in(accounts.users["operator"])
    response = _upload(browser, "十月处罚.csv", _csv_bytes(tmp_path, [penalty_row(), penalty_row(CF_WSH="")]))

    assert response.status_code == 303
    page = _flash(browser, response)
    assert "已导入 2 行" in page
    assert "退回 1" in page
    batch = db_session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    assert batch.department_id == accounts.dept_a.id
    assert batch.actor == "user:operator"
    assert batch.filename == "十月处罚.csv"
    csv_text = browser.get(f"/admin/batches/{batch.id}/problems.csv").text
    assert "CF_WSH" in csv_text


def test_the_progress_script_gets_the_target_as_json(sign_in, accounts, tmp_path):
    browser = sign_in(accounts.users["operator"])
    response = browser.client.post("/admin/upload", data={"csrf_token": browser.csrf, "record_type": "penalty"},
                                   files={"file": ("a.csv", _csv_bytes(tmp_path, [penalty_row()]))},
                                   headers={"X-Requested-With": "XMLHttpRequest"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["location"].startswith("/admin/batches/")


def test_an_operator_cannot_upload_for_another_department(sign_in, accounts, tmp_path, db_session):
    browser = sign_in(accounts.users["operator"])
    response = _upload(browser, "a.csv", _csv_bytes(tmp_path, [penalty_row()]), department=str(accounts.dept_b.id))
    assert "只能为本部门报送" in _flash(browser, response)
    assert db_session.scalar(select(Batch.id).where(Batch.department_id == accounts.dept_b.id)) is None


def test_the_admin_uploads_for_a_chosen_department(sign_in, accounts, tmp_path, db_session):
    browser = sign_in(accounts.users["platform_admin"])
    rows = [penalty_row(CF_CFJGDM=OTHER_DEPT_CODE, CF_SJLYDM=OTHER_DEPT_CODE, CF_SJLY="安吉县交通运输局")]
    response = _upload(browser, "b.csv", _csv_bytes(tmp_path, rows), department=str(accounts.dept_b.id))
    assert response.headers["location"].startswith("/admin/batches/")


def test_an_operator_cannot_backdate_an_upload(sign_in, accounts, tmp_path, db_session):
    browser = sign_in(accounts.users["operator"])
    assert 'name="reported_on"' not in browser.get("/admin/upload").text
    batches = db_session.scalar(select(func.count()).select_from(Batch))

    response = _upload(browser, "a.csv", _csv_bytes(tmp_path, [penalty_row()]), reported_on="2025-10-01",
                       backdate_reason="按原报送日期")  # fmt: skip

    assert response.status_code == 303
    assert "报送日期只能是今天（2025-10-15），不能指定为 2025-10-01" in _flash(browser, response)
    assert db_session.scalar(select(func.count()).select_from(Batch)) == batches


def test_the_platform_backdates_an_upload_with_a_reason_audited(sign_in, accounts, tmp_path, db_session):
    browser = sign_in(accounts.users["platform_admin"])
    assert 'name="reported_on"' in browser.get("/admin/upload").text
    rows = [penalty_row(CF_CFJGDM=OTHER_DEPT_CODE, CF_SJLYDM=OTHER_DEPT_CODE, CF_SJLY="安吉县交通运输局")]
    content = _csv_bytes(tmp_path, rows)
    department = str(accounts.dept_b.id)

    bad_day = _upload(browser, "b.csv", content, department=department, reported_on="10/10/2025")
    assert "报送日期“10/10/2025”格式不正确" in _flash(browser, bad_day)
    no_reason = _upload(browser, "b.csv", content, department=department, reported_on="2025-10-10")
    assert "须说明理由" in _flash(browser, no_reason)

    response = _upload(browser, "b.csv", content, department=department, reported_on="2025-10-10",
                       backdate_reason="迁移原系统报送记录")  # fmt: skip
    assert response.headers["location"].startswith("/admin/batches/")
    batch = db_session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    assert batch.reported_on.isoformat() == "2025-10-10"
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.backdated")).one()
    assert (entry.actor, entry.reason, entry.target) == ("user:platform-admin", "迁移原系统报送记录", f"batch:{batch.id}")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("report.exe", b"MZ\x90\x00", "只接受 CSV 或 XLSX"),
        ("report.pdf", b"%PDF-1.4", "只接受 CSV 或 XLSX"),
        ("fake.xlsx", b"CF_WSH,CF_SY\n1,2\n", "不是 XLSX"),
        ("binary.csv", b"\x00\x01\x02\x03" * 100, "不是 CSV"),
        ("zip.csv", b"PK\x03\x04rest", "不是 CSV"),
        ("empty.csv", b"", "文件为空"),
    ],
)
def test_wrong_types_are_refused_before_anything_is_stored(sign_in, accounts, db_session, name, content, message):
    browser = sign_in(accounts.users["operator"])
    before = db_session.scalar(select(Batch.id).order_by(Batch.id.desc()))
    response = _upload(browser, name, content)
    assert response.headers["location"] == "/admin/upload"
    assert message in _flash(browser, response)
    assert db_session.scalar(select(Batch.id).order_by(Batch.id.desc())) == before


def test_an_oversized_upload_is_refused_before_it_is_read(sign_in, accounts):
    browser = sign_in(accounts.users["operator"])
    response = _upload(browser, "big.csv", b"a" * (400 * 1024))  # the test limit is 256 KB
    assert response.status_code == 413


def test_a_zip_bomb_disguised_as_xlsx_fails_its_batch(sign_in, accounts, app, db_session):
    app.state.settings = app.state.settings.model_copy(update={"xlsx_max_uncompressed_bytes": 1024 * 1024})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (20 * 1024 * 1024))  # 20 MB that packs into ~20 KB
    browser = sign_in(accounts.users["operator"])
    response = _upload(browser, "bomb.xlsx", buffer.getvalue())
    assert response.headers["location"].startswith("/admin/batches/")
    batch = db_session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    db_session.refresh(batch)
    assert batch.status.value == "failed"
    assert batch.rows_read == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\windows\\evil.csv", "evil.csv"),
        ("/abs/path/x.xlsx", "x.xlsx"),
        ("..csv", "csv"),
        ("a\x00b\r\n.csv", "ab.csv"),
        ("<script>.csv", "_script_.csv"),
        ("", "upload"),
    ],
)
def test_path_tricks_in_file_names_are_neutralised(raw, expected):
    assert safe_filename(raw) == expected


def test_a_path_trick_name_never_reaches_the_disk_or_the_page(sign_in, accounts, tmp_path, db_session):
    browser = sign_in(accounts.users["operator"])
    response = _upload(browser, "../../../tmp/<b>x</b>.csv", _csv_bytes(tmp_path, [penalty_row()]))
    page = _flash(browser, response)
    batch = db_session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    assert "/" not in batch.filename
    assert "<" not in batch.filename
    assert "<b>x</b>" not in page


# ------------------------------------------------------------------------------ side by side


def test_departments_never_see_each_others_batches(sign_in, accounts, db_session, settings, protector):
    result = _import(db_session, settings, protector, accounts.dept_b,
                     [penalty_row(CF_CFJGDM=OTHER_DEPT_CODE, CF_SJLYDM=OTHER_DEPT_CODE, CF_SJLY="安吉县交通运输局")])
    browser = sign_in(accounts.users["operator"])
    assert browser.get(f"/admin/batches/{result.batch_id}").status_code == 404
    assert browser.get(f"/admin/batches/{result.batch_id}/problems.csv").status_code == 404
    assert f"#{result.batch_id}" not in browser.get("/admin/batches").text
    assert f"#{result.batch_id}" in sign_in(accounts.users["operator_b"]).get("/admin/batches").text


def test_an_operator_cannot_revoke_another_departments_record(sign_in, accounts, db_session, settings, protector):
    _import(db_session, settings, protector, accounts.dept_b,
            [penalty_row(CF_WSH="B-1", CF_CFJGDM=OTHER_DEPT_CODE, CF_SJLYDM=OTHER_DEPT_CODE, CF_SJLY="安吉县交通运输局")])
    record = db_session.scalars(select(Record).where(Record.doc_no == "B-1")).one()
    browser = sign_in(accounts.users["operator"])
    response = browser.post(f"/admin/records/{record.id}/revoke", {"reason": "越权撤销尝试"})
    assert "未找到该记录" in _flash(browser, response)
    db_session.refresh(record)
    assert record.status == RecordStatus.ACTIVE


def test_revoking_needs_a_reason_and_is_audited(sign_in, accounts, db_session, settings, protector):
    _import(db_session, settings, protector, accounts.dept_a, [penalty_row(CF_WSH="A-1")])
    record = db_session.scalars(select(Record).where(Record.doc_no == "A-1")).one()
    browser = sign_in(accounts.users["operator"])

    assert "撤销理由至少" in _flash(browser, browser.post(f"/admin/records/{record.id}/revoke", {"reason": " "}))
    response = browser.post(f"/admin/records/{record.id}/revoke", {"reason": "原处罚决定已被撤销"})
    assert "已撤销记录 A-1" in _flash(browser, response)
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "record.revoked")).one()
    assert entry.actor == "user:operator"
    assert entry.reason == "原处罚决定已被撤销"
    assert entry.subject_id == record.subject_id


def test_a_reviewer_reveals_an_id_number_with_a_reason_and_it_is_recorded(sign_in, accounts, db_session, settings,
                                                                           protector):  # fmt: skip
    _import(db_session, settings, protector, accounts.dept_a, [person_row(CF_WSH="P-1")])
    record = db_session.scalars(select(Record).where(Record.doc_no == "P-1")).one()
    browser = sign_in(accounts.users["reviewer"])

    page = browser.get(f"/admin/subjects/{record.subject_id}").text
    assert PERSON_ID not in page
    no_reason = browser.post(f"/admin/subjects/{record.subject_id}/reveal", {"reason": ""})
    assert "须说明理由" in _flash(browser, no_reason)
    revealed = browser.post(f"/admin/subjects/{record.subject_id}/reveal", {"reason": "核实异议申请人身份"})
    assert PERSON_ID in revealed.text
    assert revealed.headers["cache-control"] == "no-store"

    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "subject.revealed")).one()
    assert (entry.actor, entry.subject_id, entry.reason) == ("user:reviewer", record.subject_id, "核实异议申请人身份")
    assert entry.actor_department_id == accounts.dept_a.id
    assert audit.verify(db_session).is_intact


def test_a_reviewer_cannot_reveal_a_subject_of_another_department(sign_in, accounts, db_session, settings,
                                                                   protector):  # fmt: skip
    _import(db_session, settings, protector, accounts.dept_a, [person_row(CF_WSH="P-2")])
    record = db_session.scalars(select(Record).where(Record.doc_no == "P-2")).one()
    browser = sign_in(accounts.users["reviewer_b"])
    response = browser.post(f"/admin/subjects/{record.subject_id}/reveal", {"reason": "越权查看尝试"})
    assert "只能查看本部门有记录的主体" in _flash(browser, response)
    assert db_session.scalar(select(AuditEntry.id).where(AuditEntry.action == "subject.revealed")) is None


def test_an_operator_cannot_reveal_at_all(sign_in, accounts, db_session, settings, protector):
    _import(db_session, settings, protector, accounts.dept_a, [person_row(CF_WSH="P-3")])
    record = db_session.scalars(select(Record).where(Record.doc_no == "P-3")).one()
    browser = sign_in(accounts.users["operator"])
    assert browser.post(f"/admin/subjects/{record.subject_id}/reveal", {"reason": "想看看"}).status_code == 403


# ------------------------------------------------------------------------------- administration


def test_the_admin_creates_an_account_shown_once_and_it_must_change_its_password(sign_in, accounts, db_session):
    browser = sign_in(accounts.users["platform_admin"])
    response = browser.post("/admin/users", {"username": "new-op", "display_name": "新报送员", "role": "operator",
                                             "department": str(accounts.dept_a.id)})  # fmt: skip
    assert response.status_code == 200
    assert "一次性初始密码" in response.text
    no_department = browser.post("/admin/users", {"username": "x-op", "role": "operator", "department": ""})
    assert "必须属于一个部门" in _flash(browser, no_department)


def test_the_admin_issues_and_revokes_a_key_and_the_api_obeys(sign_in, accounts, client, db_session):
    browser = sign_in(accounts.users["platform_admin"])
    response = browser.post("/admin/keys", {"department": str(accounts.dept_a.id), "name": "执法系统",
                                            "days": "30", "scopes": "api:records:read"})  # fmt: skip
    token = response.text.split('data-testid="secret">')[1].split("<")[0]
    headers = {"Authorization": f"Bearer {token}"}
    write = client.post("/api/v1/records/penalty/batch", json={"rows": [penalty_row()]}, headers=headers)
    assert write.status_code == 403  # read-only key

    prefix = token.split("_")[1]
    browser = sign_in(accounts.users["platform_admin"])
    browser.post(f"/admin/keys/{prefix}/revoke")
    client.cookies.clear()
    revoked = client.get("/api/v1/batches/1", headers=headers)
    assert revoked.status_code == 401
    assert revoked.json()["error"]["message"] == "访问密钥已被吊销"
    actions = db_session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"api-key:{prefix}")).all()
    assert actions == ["api-key.issued", "api-key.revoked"]


def test_keys_cannot_carry_console_permissions(sign_in, accounts):
    browser = sign_in(accounts.users["platform_admin"])
    response = browser.post("/admin/keys", {"department": str(accounts.dept_a.id), "scopes": "admin:users:write"})
    assert "只能授予 api:" in _flash(browser, response)


def test_the_auditor_searches_and_exports_the_trail(sign_in, accounts, db_session):
    browser = sign_in(accounts.users["auditor"])
    page = browser.get("/admin/audit?who=platform&action=user.created")
    assert page.status_code == 200
    export = browser.get("/admin/audit/export.csv?action=user.created")
    assert export.text.count("user.created") == len(accounts.users)
    assert db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first().action == "audit.exported"


# ------------------------------------------------------------------------------------ HTML injection


def test_html_and_script_in_every_text_field_are_escaped(sign_in, accounts, db_session, settings, protector, tmp_path):
    admin = sign_in(accounts.users["platform_admin"])
    admin.post("/admin/departments", {"code": "11330521MB0000000X", "name": SCRIPT})
    admin.post("/admin/users", {"username": "esc-user", "display_name": SCRIPT, "role": "auditor"})
    admin.post("/admin/keys", {"department": str(accounts.dept_a.id), "name": SCRIPT})
    _import(db_session, settings, protector, accounts.dept_a,
            [penalty_row(CF_WSH=SCRIPT, CF_XDR_MC="安吉县<img src=x onerror=alert(1)>有限公司")])
    operator = sign_in(accounts.users["operator"])
    record = db_session.scalars(select(Record).where(Record.department_id == accounts.dept_a.id)).first()
    if record is not None:
        operator.post(f"/admin/records/{record.id}/revoke", {"reason": SCRIPT})

    pages = [operator.get(f"/admin/records?doc_no={SCRIPT}").text, operator.get(f"/admin/subjects?q={SCRIPT}").text,
             operator.get("/admin/batches").text]  # fmt: skip
    admin = sign_in(accounts.users["platform_admin"])
    pages += [admin.get(p).text for p in ("/admin/departments", "/admin/users", "/admin/keys", f"/admin/audit?who={SCRIPT}",
                                           "/admin/records?doc_no=script")]  # fmt: skip
    for text in pages:
        assert "<script>alert" not in text
        assert "<img src=x" not in text
    login = admin.client.get(f"/admin/login?next=/admin/%22%3E{SCRIPT}")
    assert "<script>alert" not in login.text


def test_console_pages_send_security_headers(sign_in, accounts):
    response = sign_in(accounts.users["operator"]).get("/admin")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_xlsx_uploads_work(sign_in, accounts, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [penalty_row()])
    browser = sign_in(accounts.users["operator"])
    response = _upload(browser, "a.xlsx", path.read_bytes())
    assert "已导入 1 行" in _flash(browser, response)


def test_every_console_form_carries_the_session_token(sign_in, accounts, db_session, settings, protector):
    import re

    _import(db_session, settings, protector, accounts.dept_a, [penalty_row(CF_WSH="F-1")])
    browser = sign_in(accounts.users["platform_admin"])
    for url in ("/admin", "/admin/upload", "/admin/records?doc_no=F-1", "/admin/departments", "/admin/users",
                "/admin/keys", "/admin/account/password"):  # fmt: skip
        page = browser.get(url).text
        forms = re.findall(r'<form method="post".*?</form>', page, flags=re.S)
        assert forms, url
        for form in forms:
            assert f'name="csrf_token" value="{browser.csrf}"' in form, (url, form[:200])


def test_console_forms_need_a_declared_length_and_stay_small(sign_in, accounts):  # type: ignore[no-untyped-def]
    browser = sign_in(accounts.users["operator"])

    def chunked():  # type: ignore[no-untyped-def]
        yield f"csrf_token={browser.csrf}&name=x".encode()

    undeclared = browser.client.post("/admin/account/password", content=chunked(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert undeclared.status_code == 411
    assert "请求须注明长度" in undeclared.text
    large = browser.client.post("/admin/account/password", data={"csrf_token": browser.csrf, "x": "a" * 300_000})
    assert large.status_code == 413  # forms without files: 256 KB
    assert "请求内容超过" in large.text
    assert large.headers["x-frame-options"] == "DENY"


def test_paths_outside_the_console_pass_the_console_guard_untouched(client):  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers
