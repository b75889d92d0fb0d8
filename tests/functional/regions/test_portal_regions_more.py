"""A county's portal beyond the records: every link and redirect of the public pages and of the subject's
account keeps the county's prefix, and the 双随机抽查 publication shows only the county's plans. Reports,
grades, 信易贷/信易+ and points stay the city's (documented in docs/regions.md)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.fixtures.regions import CHANGXING, DEQING
from tests.fixtures.subject_accounts import SUBJECT_PASSWORD, anonymous_form, verified_account
from tests.functional.regions.test_portal_regions import TODAY, Loaded, loaded, portal  # noqa: F401  (fixtures)

from xinyong.accounts.models import SubjectAccount
from xinyong.actors import Actor
from xinyong.commitments import service as commitments_service
from xinyong.inspections.models import InspectionPlan, PlanStatus
from xinyong.web.deps import SUBJECT_COOKIE

PREFIX = f"/region/{CHANGXING}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is not None and ((tag in ("a", "link") and name == "href") or (tag == "form" and name == "action")
                                      or (tag == "script" and name == "src")):  # fmt: skip
                self.links.append(value)


def _outside(html: str) -> list[str]:
    """The links of a page (href, form action, script src) that leave the county's prefix on this site."""
    parser = _Links()
    parser.feed(html)
    wrong = []
    for link in parser.links:
        parts = urlsplit(link)
        if link.startswith("#") or parts.scheme in ("mailto", "tel") or (parts.netloc and parts.netloc != "testserver"):
            continue
        if not link.startswith("?") and not (parts.path == PREFIX or parts.path.startswith(PREFIX + "/")):
            wrong.append(link)
    return wrong


def _page(client: TestClient, path: str) -> str:
    response = client.get(PREFIX + path)
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    wrong = _outside(response.text)
    assert not wrong, (path, wrong)
    return response.text


def _account(db_session: Session, settings, protector, subject_id: int) -> SubjectAccount:  # type: ignore[no-untyped-def]
    return verified_account(db_session, subject_id, settings, protector)


def test_public_pages_keep_the_prefix_in_every_link(portal: TestClient, loaded: Loaded) -> None:  # noqa: F811
    search = portal.get(f"{PREFIX}/search", params={"q": loaded.uscc})
    assert search.status_code == 200
    assert not _outside(search.text)
    marker = f"{PREFIX}/subjects/"
    subject_path = "/subjects/" + search.text[search.text.index(marker) + len(marker):].split('"')[0]
    subject = _page(portal, subject_path)  # the report and the grade are the city's: the page says so
    assert "长市监罚〔2025〕802号" in subject
    assert "德市监罚〔2025〕801号" not in subject
    assert 'id="citywide-note"' in subject
    assert "由市级平台依据全市的信用记录作出" in subject
    assert 'id="citywide-note"' not in portal.get(subject_path).text  # the city's own portal needs no such note
    for path in ("/", "/disclosure/penalty", "/lists", "/lists/public", "/repair", "/repair/progress",
                 "/reports/verify", "/inspections", "/commitments/templates", "/scenarios", "/points/model",
                 "/account/login", "/account/signup", f"/records/{loaded.changxing_ref}"):  # fmt: skip
        _page(portal, path)
    # city-wide programmes: the same everywhere, and a county's page says so
    assert "全市通用" in _page(portal, "/scenarios")
    assert "全市通用" not in portal.get("/scenarios").text
    assert "全市统一的守信激励" in _page(portal, "/points/model")


def test_redirects_keep_the_prefix(portal: TestClient, loaded: Loaded) -> None:  # noqa: F811
    for path in ("/account", "/account/evaluation", "/account/reports", "/account/commitments", "/account/finance",
                 "/account/points"):  # fmt: skip
        response = portal.get(PREFIX + path)
        assert response.status_code == 303, (path, response.status_code)
        assert response.headers["location"] == f"{PREFIX}/account/login", path
    response = portal.get(f"{PREFIX}/reports/verify", params={"number": "RPT-2025-0001"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{PREFIX}/reports/verify/RPT20250001"
    # the city's portal is unchanged
    assert portal.get("/account").headers["location"] == "/account/login"


def test_signed_in_account_pages_stay_in_the_county(portal: TestClient, loaded: Loaded, db_session: Session,  # noqa: F811
                                                     console_settings, protector, regional) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    from sqlalchemy import select

    from xinyong.records.models import Record

    record = db_session.scalar(select(Record).where(Record.doc_no == loaded.changxing["CF_WSH"]))
    assert record is not None
    _account(db_session, console_settings, protector, record.subject_id)
    token = anonymous_form(portal)
    response = portal.post(f"{PREFIX}/account/login", data={"code": loaded.uscc, "password": SUBJECT_PASSWORD,
                                                            "csrf_token": token})  # fmt: skip
    assert response.status_code == 303, response.text[:500]
    assert response.headers["location"] == f"{PREFIX}/account"
    assert portal.cookies.get(SUBJECT_COOKIE)
    home = _page(portal, "/account")
    assert "长市监罚〔2025〕802号" in home
    assert "德市监罚〔2025〕801号" in home
    for path in ("/account/evaluation", "/account/reports", "/account/commitments"):
        _page(portal, path)
    template = _first_template(portal)
    new = _page(portal, f"/account/commitments/new/{template}")  # the county's departments offered
    assert f'value="{regional.dept_c.id}"' in new
    assert f'value="{regional.accounts.dept_a.id}"' not in new
    city_form = portal.get(f"/account/commitments/new/{template}").text  # the city's portal offers them all
    assert f'value="{regional.accounts.dept_a.id}"' in city_form
    assert f'value="{regional.dept_c.id}"' in city_form
    identity = portal.get(f"{PREFIX}/account/identity")  # proven already: back to the account
    assert identity.status_code == 303
    assert identity.headers["location"] == f"{PREFIX}/account"
    for path in ("/account/finance", "/account/points"):  # programmes that may be switched off: never a way out
        response = portal.get(PREFIX + path)
        if response.status_code in (301, 302, 303, 307):
            assert response.headers["location"].startswith(PREFIX + "/"), (path, response.headers["location"])
        else:
            assert not _outside(response.text), path
    response = portal.post(f"{PREFIX}/account/logout", data={"csrf_token": _csrf(home)})
    assert response.status_code == 303
    assert response.headers["location"] == f"{PREFIX}/account/login"


def _first_template(client: TestClient) -> str:
    own = client.get(f"{PREFIX}/account/commitments").text
    marker = f"{PREFIX}/account/commitments/new/"
    return own[own.index(marker) + len(marker):].split('"')[0]


def _csrf(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def _plan(db_session: Session, number: str, department_id: int, matter: str) -> InspectionPlan:
    plan = InspectionPlan(number=number, matter=matter, department_id=department_id, period_start=TODAY,
                          period_end=TODAY + timedelta(days=60), population={"kinds": [], "regions": [], "sector": None},
                          ratios={"A": "2", "B": "5", "C": "10", "D": "100"}, special_domains=[],
                          inspectors_per_subject=2, status=PlanStatus.PUBLISHED.value, created_by="test",
                          published_on=TODAY - timedelta(days=1), publish_until=TODAY + timedelta(days=90))  # fmt: skip
    db_session.add(plan)
    db_session.commit()
    return plan


@pytest.fixture
def plans(regional, db_session: Session) -> tuple[InspectionPlan, InspectionPlan]:  # type: ignore[no-untyped-def]
    return (_plan(db_session, "CC2025DQ0001", regional.accounts.dept_a.id, "德清县食品经营抽查"),
            _plan(db_session, "CC2025CX0001", regional.dept_c.id, "长兴县建材质量抽查"))  # fmt: skip


def test_inspections_show_the_county_plans_only(portal: TestClient, loaded: Loaded, plans) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    county = _page(portal, "/inspections")
    assert "长兴县建材质量抽查" in county
    assert "德清县食品经营抽查" not in county
    _page(portal, "/inspections/CC2025CX0001")
    other = portal.get(f"{PREFIX}/inspections/CC2025DQ0001")
    assert other.status_code == 404
    assert not _outside(other.text)
    city = portal.get("/inspections")
    assert city.status_code == 200
    assert "长兴县建材质量抽查" in city.text
    assert "德清县食品经营抽查" in city.text
    assert portal.get("/inspections/CC2025DQ0001").status_code == 200


def test_the_commitment_templates_page_shows_the_regions_own_choice(  # type: ignore[no-untyped-def]
    portal: TestClient, loaded: Loaded, db_session: Session, console_settings  # noqa: F811
) -> None:
    every = commitments_service.templates(console_settings)
    assert len(every) >= 2
    chosen, other = every[0], every[1]
    commitments_service.set_region_templates(db_session, CHANGXING, [chosen.key], actor=Actor.system("test"),
                                             settings=console_settings)  # fmt: skip
    db_session.commit()
    county = _page(portal, "/commitments/templates")
    assert chosen.name in county
    assert f'data-template="{other.key}"' not in county
    # The city's portal and the other county (inheriting the city's) publish every template.
    for path in ("/commitments/templates", f"/region/{DEQING}/commitments/templates"):
        page = portal.get(path)
        assert page.status_code == 200
        assert all(f'data-template="{t.key}"' in page.text for t in every)
    # The city narrows its own choice: its portal follows, and the county keeps its own.
    commitments_service.set_region_templates(db_session, None, [other.key], actor=Actor.system("test"),
                                             settings=console_settings)  # fmt: skip
    db_session.commit()
    city = portal.get("/commitments/templates").text
    assert f'data-template="{other.key}"' in city
    assert f'data-template="{chosen.key}"' not in city
    assert f'data-template="{chosen.key}"' in _page(portal, "/commitments/templates")
