"""The JSON API of ingestion: a department's key is required, and it only ever reaches its own data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.factories.records import ON_TIME, OTHER_DEPT_CODE, department, penalty_row
from tests.functional.records.test_checks import PERSON_ID, person_row

from xinyong.app import create_app
from xinyong.audit.models import AuditEntry
from xinyong.db import utcnow
from xinyong.departments import service as departments_service
from xinyong.records.models import Batch, Record, RecordStatus
from xinyong.web.deps import get_session, get_today


@pytest.fixture
def client(db_session, settings) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"api_batch_max_rows": 5}))

    def session_for_tests():  # type: ignore[no-untyped-def]
        yield db_session

    app.dependency_overrides[get_session] = session_for_tests
    app.dependency_overrides[get_today] = lambda: ON_TIME  # the day the batches are sent
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


@pytest.fixture
def other_dept(db_session):  # type: ignore[no-untyped-def]
    return department(db_session, code=OTHER_DEPT_CODE, name="安吉县交通运输局")


def _key(session, dept, **kwargs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    _, token = departments_service.issue_api_key(session, department=dept, name="业务系统", **kwargs)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def key_a(db_session, dept) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return _key(db_session, dept)


@pytest.fixture
def key_b(db_session, other_dept) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return _key(db_session, other_dept)


def other_row(**overrides: str) -> dict[str, str]:
    return penalty_row(
        CF_CFJGDM=OTHER_DEPT_CODE, CF_SJLYDM=OTHER_DEPT_CODE, CF_SJLY="安吉县交通运输局", **overrides
    )


def _post(
    client: TestClient, rows: list[dict[str, str]], headers: dict[str, str], record_type: str = "penalty"
):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/records/{record_type}/batch",
        json={"rows": rows, "reported_on": ON_TIME.isoformat()},
        headers=headers,
    )


# ------------------------------------------------------------------------------------------ keys


def test_no_key_is_401_with_a_chinese_message(client):
    response = client.post("/api/v1/records/penalty/batch", json={"rows": [penalty_row()]})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "not-authenticated"
    assert "访问密钥" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "header", ["Bearer xy_000000000000_wrong", "Bearer not-a-key", "Basic dXNlcjpwdw==", "Bearer "]
)
def test_a_wrong_key_is_401(client, header):
    response = client.post(
        "/api/v1/records/penalty/batch", json={"rows": [penalty_row()]}, headers={"Authorization": header}
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not-authenticated"


def test_a_key_with_a_wrong_secret_is_401(client, key_a):
    tampered = {"Authorization": key_a["Authorization"][:-4] + "AAAA"}

    response = _post(client, [penalty_row()], tampered)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "访问密钥无效"


def test_a_revoked_key_is_401(client, db_session, dept):
    key, token = departments_service.issue_api_key(db_session, department=dept, name="旧系统")
    departments_service.revoke_api_key(db_session, prefix=key.prefix)

    response = _post(client, [penalty_row()], {"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "访问密钥已被吊销"


def test_an_expired_key_is_401(client, db_session, dept):
    headers = _key(db_session, dept, expires_at=utcnow() - timedelta(minutes=1))

    response = _post(client, [penalty_row()], headers)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "访问密钥已过期"


def test_a_key_without_the_scope_is_403(client, db_session, dept):
    headers = _key(db_session, dept, scopes=["records:read"])

    response = _post(client, [penalty_row()], headers)

    assert response.status_code == 403


# ------------------------------------------------------------------------------------------ batches


def test_a_batch_reports_counts_and_each_bad_row(client, key_a, db_session):
    rows = [penalty_row(), penalty_row(CF_NR_FK="abc"), person_row(), penalty_row(CF_XDR_LB="公司")]

    response = _post(client, rows, key_a)

    assert response.status_code == 200
    document = response.json()
    assert {k: document[k] for k in ("status", "rows", "created", "updated", "unchanged", "rejected", "late")} == {
        "status": "completed", "rows": 4, "created": 2, "updated": 0, "unchanged": 0, "rejected": 2, "late": 0,
    }  # fmt: skip
    assert [(e["row"], e["column"], e["code"]) for e in document["errors"]] == [
        (2, "CF_NR_FK", "invalid-amount"),
        (4, "CF_XDR_LB", "invalid-value"),
    ]
    assert document["warnings"] == []
    assert PERSON_ID not in response.text
    assert db_session.scalar(select(Record).where(Record.doc_no == rows[0]["CF_WSH"])) is not None

    again = _post(client, rows, key_a)
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 2)


def test_chinese_keys_and_numbers_are_accepted(client, key_a):
    row = penalty_row()
    body_row: dict[str, object] = {("行政处罚决定书文号" if k == "CF_WSH" else k): v for k, v in row.items()}
    body_row["CF_NR_FK"] = 0.2

    response = _post(client, [body_row], key_a)  # type: ignore[list-item]

    assert response.status_code == 200
    assert (response.json()["created"], response.json()["errors"]) == (1, [])


def test_another_departments_data_source_code_is_rejected_per_row(client, key_a, other_dept):
    response = _post(client, [penalty_row(), other_row()], key_a)

    assert response.status_code == 200
    document = response.json()
    assert (document["created"], document["rejected"]) == (1, 1)
    assert [(e["row"], e["column"], e["code"]) for e in document["errors"]] == [
        (2, "CF_SJLYDM", "department-code-mismatch")
    ]


def test_too_many_rows_is_422_and_nothing_is_stored(client, key_a, db_session, dept):
    response = _post(client, [penalty_row() for _ in range(6)], key_a)

    assert response.status_code == 422
    assert "5" in response.json()["error"]["message"]
    assert db_session.scalar(select(Record).where(Record.department_id == dept.id)) is None


def test_empty_rows_and_a_malformed_body_are_422(client, key_a):
    assert client.post("/api/v1/records/penalty/batch", json={"rows": []}, headers=key_a).status_code == 422
    malformed = client.post("/api/v1/records/penalty/batch", json={"rows": "CF_WSH"}, headers=key_a)
    assert malformed.status_code == 422
    assert malformed.json()["error"]["code"] == "invalid-request"


def test_a_missing_column_rejects_the_batch_with_422(client, key_a):
    row = penalty_row()
    del row["CF_WSH"]

    response = _post(client, [row], key_a)

    assert response.status_code == 422
    document = response.json()
    assert document["status"] == "failed"
    assert [(e["row"], e["column"], e["code"]) for e in document["errors"]] == [(0, None, "missing-column")]


def test_an_unknown_record_type_is_404(client, key_a):
    response = _post(client, [penalty_row()], key_a, record_type="fines")

    assert response.status_code == 404


def test_batches_are_read_with_the_departments_own_key_only(client, key_a, key_b):
    batch_b = _post(client, [other_row(), other_row(CF_NR_FK="=1+1")], key_b).json()["batch_id"]

    own = client.get(f"/api/v1/batches/{batch_b}", headers=key_b)
    assert own.status_code == 200
    assert (own.json()["created"], own.json()["rejected"]) == (1, 1)

    assert client.get(f"/api/v1/batches/{batch_b}", headers=key_a).status_code == 404
    assert client.get(f"/api/v1/batches/{batch_b}/problems.csv", headers=key_a).status_code == 404
    assert client.get(f"/api/v1/batches/{batch_b}").status_code == 401
    assert client.get("/api/v1/batches/999999", headers=key_b).status_code == 404


def test_problems_csv_download(client, key_a):
    hostile = '=HYPERLINK("http://example.invalid")'
    batch_id = _post(
        client, [penalty_row(CF_XDR_LB=hostile), penalty_row(CF_JDRQ="2025-13-01")], key_a
    ).json()["batch_id"]

    response = client.get(f"/api/v1/batches/{batch_id}/problems.csv", headers=key_a)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="batch-{batch_id}-problems.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == ["行号", "列", "列名", "级别", "问题代码", "值", "说明"]
    assert [line[:6] for line in lines[1:]] == [
        ["1", "CF_XDR_LB", "行政相对人类别", "错误", "invalid-value", "'" + hostile],
        ["2", "CF_JDRQ", "处罚决定日期", "错误", "invalid-date", "2025-13-01"],
    ]


# ------------------------------------------------------------------------------------------ revoke


def test_revoke_through_the_api(client, key_a, db_session):
    row = penalty_row()
    _post(client, [row], key_a)
    body = {"doc_no": row["CF_WSH"], "reason": "决定已被撤销"}

    response = client.post("/api/v1/records/penalty/revoke", json=body, headers=key_a)

    assert response.status_code == 200
    assert response.json() == {"doc_no": row["CF_WSH"], "status": "revoked", "version": 2}
    again = client.post("/api/v1/records/penalty/revoke", json=body, headers=key_a)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid-transition"


def test_the_api_asks_for_a_revoke_reason_as_the_console_does(client, key_a, db_session):
    row = penalty_row()
    _post(client, [row], key_a)

    response = client.post("/api/v1/records/penalty/revoke", json={"doc_no": row["CF_WSH"], "reason": "撤销"},
                           headers=key_a)  # fmt: skip

    assert response.status_code == 422
    assert "撤销理由至少 4 个字" in response.json()["error"]["message"]


def test_a_department_cannot_revoke_another_departments_record(client, key_a, key_b, db_session):
    row = other_row()
    assert _post(client, [row], key_b).json()["created"] == 1

    response = client.post(
        "/api/v1/records/penalty/revoke", json={"doc_no": row["CF_WSH"], "reason": "越权撤销"}, headers=key_a
    )

    assert response.status_code == 404
    record = db_session.scalar(select(Record).where(Record.doc_no == row["CF_WSH"]))
    assert record is not None
    db_session.refresh(record)
    assert (record.status, record.version) == (RecordStatus.ACTIVE, 1)


def _backdated(client, headers, reported_on, decided="2025-09-29", **extra):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/records/penalty/batch", headers=headers, json={
        "rows": [penalty_row(CF_JDRQ=decided)], "reported_on": reported_on.isoformat(), **extra})  # fmt: skip


@pytest.mark.parametrize("day", [ON_TIME - timedelta(days=20), ON_TIME + timedelta(days=1)])
def test_a_department_key_cannot_choose_its_reporting_day(client, key_a, db_session, day):
    """Timeliness is counted to the day the batch arrives: a department hiding lateness behind an earlier date
    (or sending a later one) is refused before anything is stored."""
    batches = db_session.scalar(select(func.count()).select_from(Batch))

    response = _backdated(client, key_a, day, backdate_reason="补录历史数据")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "backdate-not-allowed"
    assert f"报送日期只能是今天（{ON_TIME.isoformat()}），不能指定为 {day.isoformat()}" in error["message"]
    assert "api:records:backdate" in error["message"]
    assert db_session.scalar(select(func.count()).select_from(Batch)) == batches


def test_todays_date_sent_explicitly_is_accepted(client, key_a):
    response = _backdated(client, key_a, ON_TIME)

    assert response.status_code == 200
    assert (response.json()["reported_on"], response.json()["late"]) == (ON_TIME.isoformat(), 0)


def test_a_key_granted_backdating_reports_history_with_a_reason_audited(client, db_session, dept):
    """Migrating a decision of 2025-09-01 first reported on 2025-09-05: on time then, late if counted to today."""
    headers = _key(db_session, dept, scopes=["api:records:write", "api:records:backdate"])
    original = date(2025, 9, 5)

    without_reason = _backdated(client, headers, original, decided="2025-09-01")
    assert without_reason.status_code == 422
    assert "须说明理由" in without_reason.json()["error"]["message"]

    response = _backdated(client, headers, original, decided="2025-09-01", backdate_reason="迁移原系统2025年9月报送记录")

    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["late"]) == (1, 0)
    assert date.fromisoformat(response.json()["reported_on"]) == original
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "batch.backdated")).one()
    assert entry.target == f"batch:{response.json()['batch_id']}"
    assert entry.reason == "迁移原系统2025年9月报送记录"
    assert entry.details == {"reported_on": "2025-09-05", "today": ON_TIME.isoformat()}
    assert entry.actor.startswith("api-key:")
    today = _backdated(client, _key(db_session, dept), ON_TIME, decided="2025-09-02")
    assert today.json()["late"] == 1  # the same kind of row, counted to the day it arrives


def test_a_backdating_key_still_cannot_report_in_the_future(client, db_session, dept):
    headers = _key(db_session, dept, scopes=["api:records:write", "api:records:backdate"])

    response = _backdated(client, headers, ON_TIME + timedelta(days=1), backdate_reason="迁移原系统记录")

    assert response.status_code == 422
    assert response.json()["failure"] == "文件无法导入：报送日期不能晚于今天"


def test_backdating_is_granted_to_no_key_by_default(db_session, dept):
    key, _ = departments_service.issue_api_key(db_session, department=dept, name="业务系统")
    assert "api:records:backdate" not in key.scopes


def test_the_report_counts_what_it_does_not_list(client, key_a):
    client.app.state.settings = client.app.state.settings.model_copy(update={"problems_max_per_column": 2})
    posted = _post(client, [penalty_row(CF_WSH="") for _ in range(5)], key_a)
    assert posted.status_code == 200

    document = client.get(f"/api/v1/batches/{posted.json()['batch_id']}", headers=key_a).json()

    assert posted.json() == document
    assert (document["rows"], document["rejected"]) == (5, 5)
    assert [(e["row"], e["column"], e["code"]) for e in document["errors"]] == [(1, "CF_WSH", "required"),
                                                                                 (2, "CF_WSH", "required")]  # fmt: skip
    assert document["omitted"] == [{"severity": "error", "code": "required", "column": "CF_WSH", "count": 3,
                                    "message": "另有 3 条同类问题未逐条列出"}]  # fmt: skip
