from __future__ import annotations

from tests.fixtures.console import PASSWORD, login_form_token


def test_login_and_dashboard(client, accounts):
    token = login_form_token(client)
    response = client.post("/admin/login", data={"username": "operator", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    page = client.get("/admin")
    assert page.status_code == 200, page.text
    assert "安吉县市场监督管理局" in page.text
