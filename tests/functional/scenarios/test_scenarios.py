"""信易+: the registry refuses rules naming unknown grades, lists or bands; the portal publishes the catalogue;
the eligibility check answers yes or no with the rule, never the record, and counts each use."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.factories import evaluation as ef
from tests.factories import lists as lf

from xinyong.departments import service as departments_service
from xinyong.scenarios.models import ScenarioUse


def _form(**overrides: object) -> dict[str, object]:
    return {"key": "xinyi-pi", "name": "信易批", "provider": "德清县行政审批服务中心", "provider_kind": "department",
            "benefit": "容缺受理", "grades": ["A"], "basis": "《德清县信易批实施办法》", **overrides}  # fmt: skip


def test_rules_naming_unknown_grades_lists_or_bands_are_refused(db_session, accounts, sign_in):  # type: ignore[no-untyped-def]
    lf.load_types(db_session, accounts.dept_a)
    db_session.commit()
    browser = sign_in(accounts.users["platform_admin"])
    for overrides, message in (({"grades": ["S"]}, "未知的评价等级：S"),
                               ({"grades": [], "points_bands": ["platinum"]}, "未知的积分档次：platinum"),
                               ({"grades": [], "list_types": ["serious-dishonesty"]}, "未知的守信名单"),
                               ({"grades": []}, "至少设置一项适用条件"),
                               ({"key": "Bad Key!"}, "场景标识"),
                               ({"provider_kind": "bank"}, "提供方类型"),
                               ({"basis": ""}, "依据"),
                               ({"valid_from": "2026-02-30"}, "不是有效日期"),
                               ({"valid_from": "2026-06-01", "valid_until": "2026-01-01"}, "截止日不能早于起始日")):  # fmt: skip
        response = browser.post("/admin/scenarios", data=_form(**overrides))
        assert response.status_code == 303, overrides
        assert message in browser.get("/admin/scenarios").text, (overrides, message)
    assert browser.post("/admin/scenarios", data=_form(list_types=["honor"])).status_code == 303
    page = browser.get("/admin/scenarios").text
    assert "已保存场景：信易批" in page
    assert sign_in(accounts.users["operator"]).post("/admin/scenarios", data=_form()).status_code == 403


def test_the_check_answers_yes_or_no_with_the_rule_and_counts_each_use(client, db_session, accounts, console_settings,
                                                                       protector, scenario, today):  # fmt: skip
    lf.load_types(db_session, accounts.dept_a)
    ef.load_builtin_model(db_session, console_settings)
    good, bad = ef.company(41), ef.company(42)
    ef.licence(db_session, console_settings, protector, accounts.dept_a, good, decided=today - timedelta(days=30),
               today=today)  # fmt: skip
    ef.penalty(db_session, console_settings, protector, accounts.dept_a, bad, tier="严重", decided=today - timedelta(days=20),
               today=today)  # fmt: skip
    ef.run(db_session, console_settings, today)
    scenario("xinyi-zu", name="信易租", benefit="<b>免押金</b>", grades=["A"], points_bands=[],
             provider="德清县某公共自行车公司", provider_kind="merchant")  # fmt: skip
    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="审批系统",
                                                 scopes=["api:scenarios:check"])  # fmt: skip
    _, plain = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="归集系统")
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    yes = client.post("/api/v1/scenarios/xinyi-zu/check", headers=headers, json={"code": good[0]})
    assert yes.status_code == 200, yes.text
    assert yes.json() == {"scenario": "xinyi-zu", "eligible": True, "rule": "公共信用综合评价等级为 A",
                          "reason": "符合：评价等级条件"}  # fmt: skip
    no = client.post("/api/v1/scenarios/xinyi-zu/check", headers=headers, json={"code": bad[0]})
    assert no.json()["eligible"] is False
    assert "罚" not in no.text  # the answer, never the record behind it
    assert set(no.json()) == {"scenario", "eligible", "rule", "reason"}

    assert client.post("/api/v1/scenarios/xinyi-zu/check", headers={"Authorization": f"Bearer {plain}"},
                       json={"code": good[0]}).status_code == 403  # fmt: skip
    assert client.post("/api/v1/scenarios/xinyi-zu/check", json={"code": good[0]}).status_code == 401
    assert client.post("/api/v1/scenarios/nothing/check", headers=headers, json={"code": good[0]}).status_code == 404
    unknown = client.post("/api/v1/scenarios/xinyi-zu/check", headers=headers, json={"code": "91330521MA00000000"})
    assert unknown.status_code == 404
    assert client.post("/api/v1/scenarios/xinyi-zu/check", headers=headers, json={"code": ""}).status_code == 422
    assert len(db_session.scalars(select(ScenarioUse)).all()) == 2

    catalogue = client.get("/scenarios")
    assert catalogue.status_code == 200
    assert "信易租" in catalogue.text
    assert "&lt;b&gt;免押金&lt;/b&gt;" in catalogue.text
    assert "已服务</dt><dd>2 次" in catalogue.text
    api = client.get("/api/v1/scenarios").json()["scenarios"]
    assert api[0]["uses"] == 2

    scenario("xinyi-zu", name="信易租", benefit="免押金", grades=["A"], points_bands=[], provider="某公司",
             provider_kind="merchant", valid_from=today - timedelta(days=10), valid_until=today - timedelta(days=1))  # fmt: skip
    expired = client.post("/api/v1/scenarios/xinyi-zu/check", headers=headers, json={"code": good[0]})
    assert expired.status_code == 422
    assert "不在有效期内" in expired.json()["error"]["message"]
    assert "信易租" not in client.get("/scenarios").text


def test_a_points_band_counts_only_for_a_person_who_opted_in(client, db_session, accounts, person, person_sign_in,
                                                             scenario):  # fmt: skip
    scenario()  # 信易游: points bands good and excellent
    who = person(5, honour=True)
    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="景区系统",
                                                 scopes=["api:scenarios:check"])  # fmt: skip
    db_session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    before = client.post("/api/v1/scenarios/xinyi-you/check", headers=headers, json={"code": who.id_number})
    assert before.json()["eligible"] is False  # not opted in: no points, for anyone
    portal = person_sign_in(who)
    portal.post("/account/points/opt-in")
    client.cookies.clear()
    after = client.post("/api/v1/scenarios/xinyi-you/check", headers=headers, json={"code": who.id_number})
    assert after.json()["eligible"] is True
    assert after.json()["reason"] == "符合：个人信用积分条件"
    assert "120" not in after.text  # the band's answer, never the score
