"""The county portals (县级门户) of one instance: by path prefix (/region/<code>/…) and by host name, each showing
only the records made in its county, with its name; the city portal showing all."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import records as f
from tests.fixtures.regions import CHANGXING, CITY, DEQING

from xinyong.actors import Actor
from xinyong.records import service as records_service
from xinyong.regions import service as regions_service
from xinyong.subjects import refs
from xinyong.web.deps import get_today

TODAY = date(2025, 10, 20)
DEQING_HOST, CHANGXING_HOST = "dq.credit.example.cn", "cx.credit.example.cn"


@dataclass
class Loaded:
    deqing: dict[str, str]  # the 德清县 department's row
    changxing: dict[str, str]  # the 长兴县 department's row, on the same company
    deqing_ref: str
    changxing_ref: str
    uscc: str


def _import(db_session, settings, protector, department, row):  # type: ignore[no-untyped-def]
    result = records_service.import_rows(db_session, [row], settings=settings, protector=protector,
                                         record_type="penalty", department=department, actor="test", today=TODAY,
                                         reported_on=TODAY)  # fmt: skip
    assert result.rejected == 0, result
    db_session.commit()
    from sqlalchemy import select

    from xinyong.records.models import Record

    return db_session.scalar(select(Record).where(Record.doc_no == row["CF_WSH"]))


@pytest.fixture
def loaded(regional, db_session: Session, console_settings, protector) -> Loaded:  # type: ignore[no-untyped-def]
    uscc = f.company_code(7001)
    system = Actor.system("test")
    regions_service.update_region(db_session, DEQING, host=DEQING_HOST, actor=system)
    regions_service.update_region(db_session, CHANGXING, host=CHANGXING_HOST, actor=system)
    db_session.commit()
    dept_a, dept_c = regional.accounts.dept_a, regional.dept_c
    deqing = f.penalty_row(CF_XDR_MC="湖州两县测试建材有限公司", CF_XDR_SHXYM=uscc, CF_WSH="德市监罚〔2025〕801号",
                           CF_CFJGDM=dept_a.code, CF_SJLYDM=dept_a.code, CF_CFJG=dept_a.name, CF_SJLY=dept_a.name)  # fmt: skip
    changxing = f.penalty_row(CF_XDR_MC="湖州两县测试建材有限公司", CF_XDR_SHXYM=uscc, CF_WSH="长市监罚〔2025〕802号",
                              CF_CFJGDM=dept_c.code, CF_SJLYDM=dept_c.code, CF_CFJG=dept_c.name,
                              CF_SJLY=dept_c.name)  # fmt: skip
    record_a = _import(db_session, console_settings, protector, dept_a, deqing)
    record_c = _import(db_session, console_settings, protector, dept_c, changxing)
    return Loaded(deqing, changxing, refs.record_ref(record_a.id, protector), refs.record_ref(record_c.id, protector),
                  uscc)  # fmt: skip


@pytest.fixture
def portal(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app.dependency_overrides[get_today] = lambda: TODAY
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def _county_pages(portal: TestClient, base: str, headers: dict[str, str], own: dict[str, str], other: dict[str, str],
                  own_ref: str, other_ref: str, uscc: str, title: str) -> None:  # fmt: skip
    home = portal.get(f"{base}/", headers=headers)
    assert home.status_code == 200, home.text
    assert title in home.text
    search = portal.get(f"{base}/search", params={"q": uscc}, headers=headers)
    assert search.status_code == 200
    assert title in search.text
    subject = portal.get(f"{base}/subjects/{uscc}", headers=headers)
    assert subject.status_code == 200
    assert own["CF_WSH"] in subject.text
    assert other["CF_WSH"] not in subject.text
    assert portal.get(f"{base}/records/{own_ref}", headers=headers).status_code == 200
    elsewhere = portal.get(f"{base}/records/{other_ref}", headers=headers)
    assert elsewhere.status_code == 404
    assert other["CF_WSH"] not in elsewhere.text
    listing = portal.get(f"{base}/disclosure/penalty", headers=headers)
    assert listing.status_code == 200
    assert own["CF_WSH"] in listing.text
    assert other["CF_WSH"] not in listing.text
    exported = portal.get(f"{base}/disclosure/penalty.csv", headers=headers)
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    docs = {r[2] for r in rows[1:]}
    assert own["CF_WSH"] in docs
    assert other["CF_WSH"] not in docs
    api = portal.get(f"{base}/api/v1/subjects/{uscc}/records", params={"record_type": "penalty"}, headers=headers)
    assert api.status_code == 200
    assert [item["doc_no"] for item in api.json()["items"]] == [own["CF_WSH"]]
    found = portal.get(f"{base}/api/v1/subjects", params={"q": uscc}, headers=headers).json()
    assert found["items"][0]["counts"] == {"penalty": 1}


def test_county_portal_by_prefix_shows_only_its_records(portal, loaded) -> None:  # type: ignore[no-untyped-def]
    _county_pages(portal, f"/region/{CHANGXING}", {}, loaded.changxing, loaded.deqing, loaded.changxing_ref,
                  loaded.deqing_ref, loaded.uscc, "湖州市长兴县")  # fmt: skip
    _county_pages(portal, f"/region/{DEQING}", {}, loaded.deqing, loaded.changxing, loaded.deqing_ref,
                  loaded.changxing_ref, loaded.uscc, "湖州市德清县")  # fmt: skip
    home = portal.get(f"/region/{CHANGXING}/")
    assert f'/region/{CHANGXING}/search"' in home.text  # the links keep the prefix
    assert f'/region/{CHANGXING}/disclosure/penalty"' in home.text
    assert f'/region/{CHANGXING}/static/portal/site.css"' in home.text
    assert portal.get(f"/region/{CHANGXING}/static/portal/site.css").status_code == 200
    lists = portal.get(f"/region/{CHANGXING}/lists")
    assert f'/region/{CHANGXING}/lists/public"' in lists.text
    assert portal.get(f"/region/{CHANGXING}/lists/public").status_code == 200


def test_county_portal_by_host_shows_only_its_records(portal, loaded) -> None:  # type: ignore[no-untyped-def]
    _county_pages(portal, "", {"host": f"{CHANGXING_HOST}:8443"}, loaded.changxing, loaded.deqing,
                  loaded.changxing_ref, loaded.deqing_ref, loaded.uscc, "湖州市长兴县")  # fmt: skip
    home = portal.get("/", headers={"host": DEQING_HOST.upper()})
    assert "湖州市德清县" in home.text
    assert f'//{DEQING_HOST.upper()}/disclosure/penalty"'.lower() in home.text.lower()  # no prefix under its own host


def test_city_portal_shows_both(portal, loaded) -> None:  # type: ignore[no-untyped-def]
    for base in ("", f"/region/{CITY}"):
        subject = portal.get(f"{base}/subjects/{loaded.uscc}")
        assert subject.status_code == 200
        assert loaded.deqing["CF_WSH"] in subject.text
        assert loaded.changxing["CF_WSH"] in subject.text
        assert "湖州市长兴县" not in subject.text
        for ref in (loaded.deqing_ref, loaded.changxing_ref):
            assert portal.get(f"{base}/records/{ref}").status_code == 200
        listing = portal.get(f"{base}/disclosure/penalty")
        assert loaded.deqing["CF_WSH"] in listing.text
        assert loaded.changxing["CF_WSH"] in listing.text
    api = portal.get(f"/api/v1/subjects/{loaded.uscc}").json()
    assert api["counts"] == {"penalty": 2}


def test_unknown_host_is_the_city_portal(portal, loaded) -> None:  # type: ignore[no-untyped-def]
    for host in ("10.1.2.3:8000", "xinyong.intranet", "[::1]:8000"):
        subject = portal.get(f"/subjects/{loaded.uscc}", headers={"host": host})
        assert subject.status_code == 200
        assert loaded.deqing["CF_WSH"] in subject.text
        assert loaded.changxing["CF_WSH"] in subject.text


def test_unknown_host_with_strict_hosts_is_404(app, portal, loaded, console_settings) -> None:  # type: ignore[no-untyped-def]
    app.state.settings = console_settings.model_copy(update={"portal_strict_hosts": True,
                                                             "reports_public_url": "https://credit.huzhou.example.cn"})  # fmt: skip
    refused = portal.get("/", headers={"host": "10.1.2.3"})
    assert refused.status_code == 404
    assert "本站未配置该域名" in refused.text
    assert portal.get(f"/subjects/{loaded.uscc}", headers={"host": "other.example.cn"}).status_code == 404
    assert portal.get("/", headers={"host": CHANGXING_HOST}).status_code == 200
    assert portal.get("/", headers={"host": "credit.huzhou.example.cn"}).status_code == 200
    assert portal.get(f"/region/{CHANGXING}/", headers={"host": "credit.huzhou.example.cn"}).status_code == 200
    assert portal.get("/admin/login", headers={"host": "10.1.2.3"}).status_code == 200  # the console: any host


@pytest.mark.parametrize("code", ["330523", "123456", "999999", "330500x"])
def test_unknown_region_code_is_404(portal, loaded, code) -> None:  # type: ignore[no-untyped-def]
    page = portal.get(f"/region/{code}/")
    assert page.status_code == 404
    assert "未找到" in page.text or "不存在" in page.text
    assert portal.get(f"/region/{code}/api/v1/subjects/{loaded.uscc}").status_code == 404


def test_console_is_not_served_under_a_prefix(portal, regional) -> None:  # type: ignore[no-untyped-def]
    assert portal.get(f"/region/{CHANGXING}/admin/login").status_code == 404
    assert portal.get("/admin/login", headers={"host": CHANGXING_HOST}).status_code == 200


def test_a_moved_department_leaves_its_records_where_they_were_made(portal, loaded, regional,
                                                                    db_session: Session) -> None:  # type: ignore[no-untyped-def]
    from xinyong.departments import service as departments_service

    departments_service.move_department(db_session, regional.dept_c.id, region=DEQING, actor=Actor.system("test"))
    db_session.commit()
    changxing = portal.get(f"/region/{CHANGXING}/subjects/{loaded.uscc}")
    assert loaded.changxing["CF_WSH"] in changxing.text  # made in 长兴县 before the move
    assert portal.get(f"/region/{CHANGXING}/records/{loaded.changxing_ref}").status_code == 200
    deqing = portal.get(f"/region/{DEQING}/subjects/{loaded.uscc}")
    assert loaded.changxing["CF_WSH"] not in deqing.text
    assert portal.get(f"/region/{DEQING}/records/{loaded.changxing_ref}").status_code == 404
    listing = portal.get(f"/region/{DEQING}/disclosure/penalty")
    assert regional.dept_c.name in listing.text  # its department filter offers the department now in 德清县


def test_the_prefix_without_a_trailing_slash(portal, loaded) -> None:  # type: ignore[no-untyped-def]
    page = portal.get(f"/region/{CHANGXING}", follow_redirects=True)
    assert page.status_code == 200
    assert "湖州市长兴县" in page.text
