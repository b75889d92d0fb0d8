"""The console's region pages (/admin/regions): the city's 信用办 registers regions, sets portal hosts and moves
departments; a county's 信用办 sees its subtree read-only; every bad input is a Chinese message, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.fixtures.regions import CHANGXING, CITY, DEQING, Regional

from xinyong.departments.models import Department, DepartmentMove
from xinyong.regions.models import Region


def _after(browser, response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/regions"
    return browser.get(response.headers["location"]).text


def test_the_city_admin_sees_the_tree_with_departments_and_hosts(regional: Regional, sign_in) -> None:  # type: ignore[no-untyped-def]
    browser = sign_in(regional.users["platform_admin"])
    page = browser.get("/admin/regions")
    assert page.status_code == 200
    for text in ("湖州市", "德清县", "长兴县", regional.accounts.dept_a.name, regional.dept_c.name,
                 f"/region/{CHANGXING}/", "登记行政区划", "调整部门归属"):  # fmt: skip
        assert text in page.text
    assert 'href="/admin/regions"' in browser.get("/admin/departments").text  # the console's navigation


def test_the_city_admin_adds_a_region_sets_its_host_and_moves_a_department(regional: Regional, sign_in,
                                                                          db_session: Session) -> None:  # type: ignore[no-untyped-def]
    browser = sign_in(regional.users["platform_admin"])
    page = _after(browser, browser.post("/admin/regions", {"code": "330523", "host": "AJ.Credit.Example.cn"}))
    assert "已登记行政区划：安吉县（330523）" in page
    region = db_session.get(Region, "330523")
    assert region is not None
    assert (region.parent_code, region.host) == (CITY, "aj.credit.example.cn")
    page = _after(browser, browser.post(f"/admin/regions/{CHANGXING}", {"name": "长兴县", "host": "cx.credit.example.cn"}))
    assert "cx.credit.example.cn" in page
    page = _after(browser, browser.post("/admin/regions/move", {"department": str(regional.dept_c.id), "region": "330523"}))
    assert f"已将{regional.dept_c.name}调整至湖州市安吉县" in page
    assert db_session.get(Department, regional.dept_c.id).region == "330523"
    assert db_session.scalar(select(DepartmentMove).where(DepartmentMove.department_id == regional.dept_c.id))
    page = _after(browser, browser.post(f"/admin/regions/{CHANGXING}", {"name": "长兴县", "host": ""}))
    assert db_session.get(Region, CHANGXING).host is None


@pytest.mark.parametrize(("path", "form", "message"), [
    ("/admin/regions", {"code": "999999"}, "不在 GB/T 2260 代码表中"),  # an unknown code
    ("/admin/regions", {"code": "abc"}, "应为 6 位数字"),
    ("/admin/regions", {"code": DEQING}, "已存在"),
    ("/admin/regions", {"code": "330523", "parent": DEQING}, "不属于"),  # a county under a county
    ("/admin/regions", {"code": "330523", "parent": "330100"}, "尚未登记"),
    ("/admin/regions/999999", {"name": "某县"}, "未找到行政区划"),
    (f"/admin/regions/{CITY}", {"name": "湖州市", "host": "bad host!"}, "门户域名格式不正确"),
    ("/admin/regions/move", {"department": "999999", "region": DEQING}, "未找到该部门"),
    ("/admin/regions/move", {"department": "x", "region": DEQING}, "未找到该部门"),
])  # fmt: skip
def test_bad_input_is_a_flash_message(regional: Regional, sign_in, path, form, message) -> None:  # type: ignore[no-untyped-def]
    browser = sign_in(regional.users["platform_admin"])
    assert message in _after(browser, browser.post(path, form))


def test_a_cycle_is_refused(regional: Regional, sign_in, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    browser = sign_in(regional.users["platform_admin"])
    page = _after(browser, browser.post("/admin/regions", {"code": "330000", "parent": DEQING}))
    assert "区划树不能成环" in page or "不属于" in page
    assert db_session.get(Region, "330000") is None
    assert db_session.get(Region, CITY).parent_code is None


def test_a_duplicate_host_is_refused(regional: Regional, sign_in, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    browser = sign_in(regional.users["platform_admin"])
    _after(browser, browser.post(f"/admin/regions/{DEQING}", {"name": "德清县", "host": "dq.credit.example.cn"}))
    page = _after(browser, browser.post(f"/admin/regions/{CHANGXING}", {"name": "长兴县", "host": "DQ.credit.example.cn"}))
    assert "门户域名 dq.credit.example.cn（已用于 330521）已存在" in page
    assert db_session.get(Region, CHANGXING).host is None
    page = _after(browser, browser.post("/admin/regions", {"code": "330523", "host": "dq.credit.example.cn"}))
    assert "已用于 330521" in page
    assert db_session.get(Region, "330523") is None


def test_a_hostile_name_is_stored_cleaned_and_shown_escaped(regional: Regional, sign_in, db_session: Session,
                                                            app) -> None:  # type: ignore[no-untyped-def]
    browser = sign_in(regional.users["platform_admin"])
    hostile = "  <script>alert('x')</script>\u200b长兴县\n\t "
    _after(browser, browser.post(f"/admin/regions/{CHANGXING}", {"name": hostile}))
    stored = db_session.get(Region, CHANGXING).name
    assert stored == "<script>alert('x')</script>长兴县"
    page = browser.get("/admin/regions").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(" in page
    portal = browser.get(f"/region/{CHANGXING}/").text  # the county's portal heads its pages with the name
    assert "<script>alert" not in portal
    assert "&lt;script&gt;alert(" in portal


def test_a_county_admin_sees_its_subtree_read_only(regional: Regional, sign_in, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    for who in ("county_admin_c", "county_auditor_c"):
        browser = sign_in(regional.users[who])
        page = browser.get("/admin/regions")
        assert page.status_code == 200
        assert "长兴县" in page.text
        assert regional.dept_c.name in page.text
        assert "德清县" not in page.text
        assert regional.accounts.dept_a.name not in page.text
        assert "登记行政区划" not in page.text
        assert "只读" in page.text
    browser = sign_in(regional.users["county_admin_c"])
    for path, form in (("/admin/regions", {"code": "330523"}),
                       (f"/admin/regions/{CHANGXING}", {"name": "长兴", "host": "cx.example.cn"}),
                       ("/admin/regions/move", {"department": str(regional.accounts.dept_a.id), "region": CHANGXING})):  # fmt: skip
        response = browser.post(path, form)
        assert "只有本平台（市级）信用办可以维护行政区划" in _after(browser, response)
    assert db_session.get(Region, "330523") is None
    assert db_session.get(Region, CHANGXING).host is None
    assert db_session.get(Department, regional.accounts.dept_a.id).region == DEQING
