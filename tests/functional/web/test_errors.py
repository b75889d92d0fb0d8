"""Every refusal answers with its own status and page, never a 500 or a dropped connection — for the
anonymous, for a signed-in user without the right, on the API and on the portal."""

from __future__ import annotations

import re

import pytest
from fastapi import HTTPException
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from tests.factories.records import ON_TIME, company_code, penalty_row

from xinyong.actors import API_PERMISSIONS, Actor
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.departments import service as departments_service
from xinyong.finance import service as finance_service
from xinyong.records import service as records_service
from xinyong.web.deps import SESSION_COOKIE
from xinyong.web.uow import router as make_router

HUGE = str(2**63)  # past what any integer column holds
PAST_INT = str(2**31)  # one past the largest id PostgreSQL's INTEGER holds
DEPARTMENT_STEPS = frozenset({"/admin/repairs/{application_id}/approve", "/admin/objections/{objection_id}/decide",
                              "/admin/commitments/verifications/{task_id}", "/admin/commitments/{record_id}/fulfilment"})
KEEPER_STEPS = frozenset({"/admin/civil-servants/{record_id}/view"})  # 公务员诚信档案: its keeper alone


def _session_for(path: str) -> str:
    if path.startswith("/admin/bank/"):  # a bank's workbench: its officers only
        return "officer"
    return "reviewer" if path in DEPARTMENT_STEPS else "integrity_keeper" if path in KEEPER_STEPS else "platform_admin"


def _viewer_shown(page: str) -> bool:
    return 'data-testid="current-user"' in page


def test_a_signed_in_users_refusals_render_with_their_status(client, sign_in, accounts, db_session, settings,
                                                             protector):  # fmt: skip
    other = records_service.import_rows(db_session, [penalty_row(CF_SJLYDM=accounts.dept_b.code,
                                                                 CF_CFJGDM=accounts.dept_b.code)],
                                        settings=settings, protector=protector, record_type="penalty",
                                        department=accounts.dept_b, actor="test", today=ON_TIME)  # fmt: skip
    browser = sign_in(accounts.users["operator"])

    wrong_role = browser.get("/admin/users")
    assert wrong_role.status_code == 403
    assert "无权执行此操作" in wrong_role.text
    assert _viewer_shown(wrong_role.text)

    foreign = browser.get(f"/admin/batches/{other.batch_id}")  # another department's batch does not exist here
    assert foreign.status_code == 404
    assert "未找到导入批次" in foreign.text
    assert _viewer_shown(foreign.text)

    for missing in ("/admin/batches/999999", f"/admin/batches/{HUGE}", f"/admin/batches/{PAST_INT}",
                    "/admin/batches/abc", "/admin/nowhere"):
        page = browser.get(missing)
        assert page.status_code == 404, missing
        assert "<h1>404</h1>" in page.text, missing

    forged = browser.client.post("/admin/records/1/revoke", data={"csrf_token": "forged", "reason": "测试撤销"})
    assert forged.status_code == 403
    assert "页面已过期" in forged.text
    assert _viewer_shown(forged.text)

    bad = browser.post("/admin/records/1/revoke", data={"reason": "x" * 451})  # over the form field's limit
    assert bad.status_code == 422
    assert "请求格式不正确" in bad.text
    assert _viewer_shown(bad.text)

    short = browser.post("/admin/records/999999/revoke", data={"reason": "撤"})
    assert short.status_code == 303  # back to the records page, the reason shown there
    shown = browser.get(short.headers["location"])
    assert "未找到该记录" in shown.text


def test_every_id_in_a_path_past_the_databases_range_is_404(app, client, sign_in, accounts, db_session, penalty,
                                                             subject_account, portal_sign_in, console_settings):  # fmt: skip
    """Every route whose path names an id answers 404 for one no database can hold: the console's with a
    session, the subject's pages with a subject's sign-in, the API's with a key that has every scope."""
    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="全部权限",
                                                 scopes=sorted(API_PERMISSIONS))  # fmt: skip
    key = {"Authorization": f"Bearer {token}"}
    bank = finance_service.register_institution(db_session, code=company_code(90009), name="测试银行", purposes=["流动资金"],
                                                min_amount="1", max_amount="100", actor=Actor.system("test"))  # fmt: skip
    _, bank_token = finance_service.issue_key(db_session, bank, name="信贷系统", actor=Actor.system("test"))
    bank_key = {"Authorization": f"Bearer {bank_token}"}  # the financial institutions' API has keys of its own
    officer = auth_service.create_user(db_session, username="errors-officer", password="Correct-horse-42",
                                       role=Role.INSTITUTION_OFFICER, department=None, display_name="信贷员",
                                       actor=Actor.system("test"), settings=console_settings)  # fmt: skip
    finance_service.add_officer(db_session, bank, user_id=officer.id, actor=Actor.system("test"))
    portal = portal_sign_in(subject_account(penalty()))
    # The console with the 信用办's session, the department's steps (which the 信用办 never takes) with its
    # reviewer's, civil servants' files with their keeper's: a route the session may not call answers 403 before
    # it reads the id.
    sessions = {who: auth_service.start_session(db_session, accounts.users[who], settings=console_settings,
                                                client="test") for who in ("platform_admin", "reviewer", "integrity_keeper")}  # fmt: skip
    sessions["officer"] = auth_service.start_session(db_session, officer, settings=console_settings, client="test")
    db_session.commit()
    checked = 0
    for context in iter_route_contexts(app.routes):
        if not context.methods or "{" not in context.path:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: HUGE if m.group(1).endswith("_id") else "x", context.path)
        if HUGE not in path:
            continue
        for method in sorted(context.methods - {"HEAD"}):
            checked += 1
            if path.startswith("/api/"):
                headers = bank_key if path.startswith("/api/v1/finance/") else key
                response = client.request(method, path, json={}, headers=headers)
            elif method == "GET":
                client.cookies.set(SESSION_COOKIE, sessions["platform_admin"][1])
                response = client.get(path)
            else:
                token = portal.csrf
                if path.startswith("/admin"):
                    row, cookie = sessions[_session_for(context.path)]
                    client.cookies.set(SESSION_COOKIE, cookie)
                    token = row.csrf_token
                response = client.post(path, data={"csrf_token": token})
            assert response.status_code == 404, (method, path, response.status_code, response.text[:300])
    assert checked > 20


def test_the_portal_and_the_api_answer_in_their_own_kind(client):
    page = client.get("/records/not-a-reference")
    assert page.status_code == 404
    assert "未找到相关内容" in page.text
    assert "text/html" in page.headers["content-type"]
    api = client.get("/api/v1/subjects/91330521MA00000000")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not-found"
    assert client.get(f"/api/v1/batches/{HUGE}").status_code == 401  # no key: refused before anything is looked up


def test_an_unexpected_error_is_a_page_not_a_dropped_connection(app, db_session):
    router = make_router()

    @router.get("/admin/boom")
    def boom() -> None:
        raise RuntimeError("a defect")

    @router.get("/boom")
    def portal_boom() -> None:
        raise RuntimeError("a defect")

    @router.get("/api/v1/boom")
    def api_boom() -> None:
        raise HTTPException(status_code=418)

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        console = client.get("/admin/boom")
        assert console.status_code == 500
        assert "系统内部错误" in console.text
        assert "a defect" not in console.text
        portal = client.get("/boom")
        assert portal.status_code == 500
        assert "系统内部错误" in portal.text
        api = client.get("/api/v1/boom")
        assert api.status_code == 418
        assert api.json()["error"]["code"] == "http-418"


@pytest.mark.parametrize("path", ["/", "/search?q=测试", "/account/login", "/repair/progress", "/admin/login",
                                  "/api/docs"])  # fmt: skip
def test_every_page_forbids_framing_and_foreign_scripts(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    assert "script-src" not in policy or "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in response.text  # no inline script anywhere: the policy would block it
    assert " onclick=" not in response.text
    assert " style=" not in response.text


def test_the_api_documentation_loads_nothing_from_outside(client):
    page = client.get("/api/docs")
    for url in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert url.startswith("/") or url.startswith("data:"), url
        if url.startswith("/"):
            assert client.get(url).status_code == 200, url
    assert "http://" not in page.text
    assert "https://" not in page.text


def test_a_refused_form_keeps_what_was_typed_and_changes_nothing(client, db_session):
    """A refusal declared by the handler (the form again) is answered after the rollback."""
    page = client.get("/account/signup")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post("/account/signup", data={"csrf_token": token, "code": "91330521MA00000000",
                                                    "name": "某某公司", "contact": "a@example.cn",
                                                    "password": "Long-enough-42"})  # fmt: skip
    assert response.status_code == 422
    assert "某某公司" in response.text
    assert "a@example.cn" in response.text
    assert 'value="91330521MA00000000"' not in response.text  # a code that may be an ID number is not echoed





@pytest.mark.parametrize("path", ["/search?q=安%00", "/api/v1/subjects?q=安%00", "/admin/records?doc_no=%00",
                                  "/admin/subjects?q=安%00"])  # fmt: skip
def test_a_nul_in_a_query_is_refused_before_it_reaches_the_database(client, sign_in, accounts, path):
    browser = sign_in(accounts.users["platform_admin"])
    response = browser.get(path)
    assert response.status_code == 422
    assert "不允许的控制字符" in response.text
