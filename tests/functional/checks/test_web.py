"""The check API (key or signed-in user), batch files, feedback and counts, the console check pages, and the
public list pages, through the real app."""

from __future__ import annotations

import csv
import io

import pytest
from tests.factories.checks import TODAY, make_world

from xinyong.actors import Actor
from xinyong.departments import service as departments_service
from xinyong.web.deps import get_today


@pytest.fixture
def web(app, accounts, db_session, console_settings, protector):  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_today] = lambda: TODAY
    world = make_world(db_session, console_settings, protector, accounts.dept_a)
    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="审批系统",
                                                 scopes=["api:checks:write", "api:lists:write"])  # fmt: skip
    db_session.commit()
    return world, {"Authorization": f"Bearer {token}"}


def test_api_check_with_a_key(client, web):  # type: ignore[no-untyped-def]
    world, headers = web
    response = client.post("/api/v1/checks", json={"code": world.listed_code, "matter": "政府采购"}, headers=headers)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["hint"] == "block"
    assert doc["measures"][0]["basis"].startswith("《中华人民共和国政府采购法》")
    again = client.get(f"/api/v1/checks/{doc['number']}", headers=headers).json()
    assert again["measures"] == doc["measures"]
    assert client.post("/api/v1/checks", json={"code": world.listed_code, "matter": "政府采购"}).status_code == 401
    bad = client.post("/api/v1/checks", json={"code": world.listed_code, "matter": "不存在的事项"}, headers=headers)
    assert bad.status_code == 422
    assert "未配置的核查事项" in bad.json()["error"]["message"]
    feedback = client.post(f"/api/v1/checks/{doc['number']}/feedback", headers=headers,
                           json={"measure_code": "M0001", "applied": True, "note": "已否决其投标"})  # fmt: skip
    assert feedback.status_code == 200, feedback.text
    [row] = client.get("/api/v1/checks/stats", headers=headers).json()
    assert (row["checks"], row["hits"], row["applied"]) == (1, 1, 1)


def test_a_key_without_the_check_permission_is_refused(client, web, accounts, db_session):  # type: ignore[no-untyped-def]
    world, _ = web
    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="归集")
    db_session.commit()
    response = client.post("/api/v1/checks", json={"code": world.listed_code, "matter": "政府采购"},
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert response.status_code == 403


def test_api_check_as_a_signed_in_user_needs_the_csrf_header(client, web, accounts, sign_in):  # type: ignore[no-untyped-def]
    world, _ = web
    browser = sign_in(accounts.users["operator"])
    body = {"code": world.listed_code, "matter": "政府采购"}
    assert client.post("/api/v1/checks", json=body).status_code == 403
    response = client.post("/api/v1/checks", json=body, headers={"X-CSRF-Token": browser.csrf})
    assert response.status_code == 200
    assert response.json()["hint"] == "block"
    auditor = sign_in(accounts.users["auditor"])
    assert client.post("/api/v1/checks", json=body, headers={"X-CSRF-Token": auditor.csrf}).status_code == 403


def test_batch_json_csv_and_file(client, web):  # type: ignore[no-untyped-def]
    world, headers = web
    body = {"matter": "政府采购", "items": [{"code": world.listed_code, "ref": "1号投标人"}, {"code": world.clean_code},
                                       {"name": "安吉县失信测试有限公司"}]}  # fmt: skip
    response = client.post("/api/v1/checks/batch", json=body, headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["hint"] for r in results] == ["block", "none", None]
    as_csv = client.post("/api/v1/checks/batch?format=csv", json=body, headers=headers)
    rows = list(csv.reader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert rows[0][0] == "序号"
    assert rows[1][0] == "1号投标人"
    assert rows[1][6] == "拦截"
    assert "M0001@1" in rows[1][10]
    upload = f"序号,统一社会信用代码,名称\n1,{world.listed_code},\n2,,安吉县失信测试有限公司\n".encode()
    response = client.post("/api/v1/checks/batch/file?format=csv", headers=headers, data={"matter": "政府采购"},
                           files={"file": ("bidders.csv", upload, "text/csv")})  # fmt: skip
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r[5] for r in rows[1:]] == ["已核查", "需确认主体"]


def test_console_check_page_and_print(client, web, accounts, sign_in):  # type: ignore[no-untyped-def]
    world, _ = web
    browser = sign_in(accounts.users["operator"])
    response = browser.post("/admin/checks", {"matter": "政府采购", "code": world.listed_code})
    assert response.status_code == 303
    page = browser.get(response.headers["location"])
    assert page.status_code == 200
    assert "依法限制参加政府采购活动" in page.text
    assert "拦截" in page.text
    number = response.headers["location"].rsplit("/", 1)[1]
    printed = browser.get(f"/admin/checks/{number}/print")
    assert printed.status_code == 200
    assert number in printed.text
    assert "《中华人民共和国政府采购法》第二十二条" in printed.text
    done = browser.post(f"/admin/checks/{number}/feedback", {"measure_code": "M0001", "applied": "0", "note": ""})
    assert "理由" in browser.get(done.headers["location"]).text
    other = sign_in(accounts.users["operator_b"])
    assert other.get(f"/admin/checks/{number}").status_code == 404  # another department's check


def test_console_procedure_refuses_an_illegal_step(client, web, accounts, sign_in, db_session, protector):  # type: ignore[no-untyped-def]
    from tests.factories import lists as lf

    lf.subject(db_session, protector, 321)
    db_session.commit()
    from tests.factories.records import company_code

    browser = sign_in(accounts.users["operator"])
    response = browser.post("/admin/lists", {"type_key": "serious-dishonesty", "subject_code": company_code(90321),
                                             "reasons": "严重违法失信情形成立"})  # fmt: skip
    location = response.headers["location"]
    assert location.startswith("/admin/lists/"), browser.get(location).text
    refused = browser.post(f"{location}/publish")
    page = browser.get(refused.headers["location"]).text
    assert "不能执行“公示”" in page
    assert "拟列入" in page
    browser.post(f"{location}/notify", {"rights": ""})
    assert "已告知（异议期）" in browser.get(location).text


def test_portal_lists_and_profile(client, web, app):  # type: ignore[no-untyped-def]
    from datetime import date

    world, _ = web
    index = client.get("/lists/public")
    assert index.status_code == 200
    assert "严重失信主体名单" in index.text
    page = client.get("/lists/public/serious-dishonesty")
    assert "安吉县失信测试有限公司" in page.text
    profile = client.get(f"/subjects/{world.listed_code}")
    assert profile.status_code == 200
    assert "信用名单" in profile.text
    assert "严重失信主体名单" in profile.text
    assert client.get("/lists/public/watch").status_code == 404  # not a public list
    app.dependency_overrides[get_today] = lambda: date(2040, 1, 1)  # long after the listing expired
    assert "安吉县失信测试有限公司" not in client.get("/lists/public/serious-dishonesty").text
    assert "严重失信主体名单" not in client.get(f"/subjects/{world.listed_code}").text


def test_imported_list_by_api_with_a_problem_report(client, web):  # type: ignore[no-untyped-def]
    world, headers = web
    rows = [{"主体名称": "安吉县失信测试有限公司", "统一社会信用代码": world.clean_code, "案号": "（2025）浙0523执1号",
             "列入日期": "2025-09-01", "列入事由": "有履行能力而拒不履行生效法律文书确定义务"},
            {"主体名称": "坏行", "统一社会信用代码": "12345", "案号": "（2025）浙0523执2号", "列入日期": "2025-09-01",
             "列入事由": "拒不履行"}]  # fmt: skip
    response = client.post("/api/v1/lists/court-dishonest-debtors/entries", json={"rows": rows}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["rejected"]) == (1, 1)
    assert body["problems"][0]["code"] == "invalid-code"
    problems = client.get(f"/api/v1/lists/imports/{body['import_id']}/problems.csv", headers=headers)
    assert "invalid-code" in problems.text
    doc = client.post("/api/v1/checks", json={"code": world.clean_code, "matter": "招标投标"}, headers=headers).json()
    assert [m["list_type"] for m in doc["memberships"]] == ["court-dishonest-debtors"]
    assert [m["content"] for m in doc["measures"]] == ["限制参与招标投标活动"]
    again = client.post("/api/v1/lists/court-dishonest-debtors/entries", json={"rows": rows[:1]}, headers=headers).json()
    assert (again["created"], again["unchanged"]) == (0, 1)


def test_check_answer_matches_its_documented_schema_and_records_the_keys_use(client, web, db_session):  # type: ignore[no-untyped-def]
    from xinyong.checks.schemas import CheckRead
    from xinyong.departments.models import ApiKey

    world, headers = web
    key = db_session.query(ApiKey).filter(ApiKey.name == "审批系统").one()
    assert key.last_used_at is None
    for code in (world.listed_code, world.clean_code, "91330521MA00000000"):
        doc = client.post("/api/v1/checks", json={"code": code, "matter": "政府采购"}, headers=headers).json()
        # The handler returns its own JSON (no re-validation): it must stay what OpenAPI documents.
        assert doc == CheckRead.model_validate(doc).model_dump()
    db_session.refresh(key)
    first_use = key.last_used_at
    assert first_use is not None  # recorded with the check's own write
    client.post("/api/v1/checks", json={"code": world.clean_code, "matter": "政府采购"}, headers=headers)
    db_session.refresh(key)
    assert key.last_used_at == first_use  # at most once a minute


def test_a_read_with_a_key_records_its_use_too(client, web, db_session):  # type: ignore[no-untyped-def]
    from xinyong.departments.models import ApiKey

    _, headers = web
    assert client.get("/api/v1/checks/stats", headers=headers).status_code == 200
    key = db_session.query(ApiKey).filter(ApiKey.name == "审批系统").one()
    db_session.refresh(key)
    assert key.last_used_at is not None


def test_a_department_cannot_publish_entries_on_lists_it_does_not_own(client, web, accounts, db_session):  # type: ignore[no-untyped-def]
    """The attack: the market regulator's key put entries on the tax list and the court list."""
    from sqlalchemy import func, select

    from xinyong.lists import service as lists_service
    from xinyong.lists.models import ListEntry

    world, market_key = web
    lists_service.set_deciding_departments(db_session, "major-tax-dishonesty", codes=[accounts.dept_b.code],
                                           actor=Actor.system("test"))  # fmt: skip
    lists_service.set_deciding_departments(db_session, "court-dishonest-debtors", codes=[accounts.dept_b.code],
                                           actor=Actor.system("test"))  # fmt: skip
    db_session.commit()
    entries = db_session.scalar(select(func.count()).select_from(ListEntry))
    rows = [{"主体名称": "安吉县失信测试有限公司", "统一社会信用代码": world.clean_code, "文书号": "安税稽罚〔2025〕1号",
             "列入日期": "2025-09-01", "列入事由": "虚开增值税专用发票"}]  # fmt: skip

    tax = client.post("/api/v1/lists/major-tax-dishonesty/entries", json={"rows": rows}, headers=market_key)
    court = client.post("/api/v1/lists/court-dishonest-debtors/entries", json={"rows": rows}, headers=market_key)

    assert (tax.status_code, court.status_code) == (403, 403)
    assert tax.json()["error"]["message"] == ("“重大税收违法失信主体”只接受其声明来源（税务机关）的名单；"
                                              "安吉县市场监督管理局不是该名单的来源部门，不能导入")  # fmt: skip
    assert "只接受其声明来源（人民法院）" in court.json()["error"]["message"]
    assert db_session.scalar(select(func.count()).select_from(ListEntry)) == entries


def test_the_platform_lists_only_in_the_name_of_a_deciding_department(client, web, accounts, sign_in, db_session,
                                                                      protector):  # type: ignore[no-untyped-def]
    from tests.factories import lists as lf
    from tests.factories.records import company_code

    lf.subject(db_session, protector, 322)
    db_session.commit()
    admin = sign_in(accounts.users["platform_admin"])
    types = admin.get("/admin/lists/types").text
    assert '<td class="deciders">安吉县市场监督管理局</td>' in types
    form = {"type_key": "serious-dishonesty", "subject_code": company_code(90322), "reasons": "严重违法失信情形成立"}

    refused = admin.post("/admin/lists", {**form, "department": str(accounts.dept_b.id)})
    assert refused.headers["location"] == "/admin/lists"
    assert "安吉县交通运输局不是“严重失信主体名单”的认定部门，不能列入（谁认定、谁列入）" in admin.get("/admin/lists").text

    entered = admin.post("/admin/lists", {**form, "department": str(accounts.dept_a.id)})
    assert entered.headers["location"].startswith("/admin/lists/")
    assert "user:platform-admin" in admin.get(entered.headers["location"]).text  # who entered it, in its history
