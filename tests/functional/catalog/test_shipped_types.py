"""Every type the platform ships (the national basic catalogue's categories) imports a sample file through the
file pipeline and shows exactly where its 共享/公开 class allows: the portal and the public API for 社会公开 only;
credit checks for every class but 不予共享; the console and the subject's own records for all."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from tests.factories import catalog as cf
from tests.factories.commitments import commitment_row

from xinyong.accounts import service as accounts_service
from xinyong.actors import Actor, Permission
from xinyong.auth import passwords
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.catalog.schema import (
    CHECKS,
    CLASS_SURFACES,
    CONSOLE,
    OWN,
    PORTAL,
    TYPES_DIR,
    CatalogError,
    RecordType,
    load_catalog,
    parse_record_type,
)
from xinyong.checks import service as checks_service
from xinyong.records import service as records_service
from xinyong.records.models import Record
from xinyong.subjects import refs
from xinyong.subjects.models import Subject
from xinyong.web.deps import SESSION_COOKIE

from .conftest import TODAY

SHIPPED = sorted(tomllib.loads(p.read_text(encoding="utf-8"))["key"] for p in TYPES_DIR.glob("*.toml"))
NATIONAL = {
    "registration": "登记注册基本信息", "license": "行政许可", "penalty": "行政处罚", "coercion": "行政强制",
    "confirmation": "行政确认", "reward": "行政奖励", "admin-check": "行政检查结果", "dishonest-debtor": "失信被执行人",
    "consumption-ban": "限制高消费", "abnormal-operation": "经营异常名录", "contract": "合同履行",
    "tax-rating": "纳税信用等级", "customs-rating": "海关信用等级", "risk-class": "企业信用风险分类",
    "integrity-honour": "诚实守信相关荣誉", "tax-arrears": "欠税", "social-insurance": "社会保险缴纳",
    "housing-fund": "住房公积金缴存", "utility-payments": "水电气缴费", "voluntary": "主体自愿提供的信用信息",
}  # fmt: skip


def test_the_national_basic_catalogue_is_shipped_with_every_class():
    catalog = load_catalog()
    assert set(NATIONAL) <= set(SHIPPED)
    for key, name in NATIONAL.items():
        rtype = catalog.get(key)
        assert rtype.name == name
        assert rtype.legal_basis
        assert rtype.effect in ("negative", "positive", "neutral")
        if rtype.is_negative:
            assert rtype.publicity.mode == "tiered"
    assert {catalog.get(k).publication for k in SHIPPED} == set(CLASS_SURFACES)
    assert catalog.get("commitment").row_rules  # 信用承诺: shipped with its own rules (docs/commitments.md)


@pytest.mark.parametrize("key", SHIPPED)
def test_every_shipped_file_says_when_its_fields_are_minimal(key):
    text = (TYPES_DIR / f"{key}.toml").read_text(encoding="utf-8")
    if key not in ("license", "penalty", "inspection-result", "commitment"):  # the national templates and the inspections'
        assert "official field list" in text


@pytest.fixture
def admin_cookie(client, db_session, catalog_settings, monkeypatch):  # type: ignore[no-untyped-def]
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: fast)
    admin = auth_service.create_user(db_session, username="shipped-admin", password="Correct-horse-42",
                                     role=Role.PLATFORM_ADMIN, department=None, display_name="目录",
                                     actor=Actor.system("test"), settings=catalog_settings)  # fmt: skip
    _, token = auth_service.start_session(db_session, admin, settings=catalog_settings, client="testclient")
    db_session.commit()
    client.cookies.set(SESSION_COOKIE, token)


def _sample_row(rtype: RecordType) -> dict[str, str]:
    """A valid row by column code; a commitment's code has parts its row rules check (承诺编码 = region + date)."""
    if rtype.key != "commitment":
        return cf.sample_row(rtype)
    codes = {spec.title: spec.code for spec in rtype.fields}
    return {codes[title]: value for title, value in commitment_row(date(2025, 9, 29)).items()}


@pytest.mark.parametrize("key", SHIPPED)
def test_a_sample_file_of_each_shipped_type_shows_where_its_class_allows(
    key, tmp_path: Path, client, db_session, catalog_settings, catalog, protector, market, admin_cookie,
):  # fmt: skip
    rtype = catalog.get(key)
    row = _sample_row(rtype)
    path = cf.write_sample_csv(tmp_path / f"{key}.csv", [row])
    result = records_service.import_file(db_session, path, settings=catalog_settings, protector=protector,
                                         record_type=key, department=market, actor="test", today=TODAY)  # fmt: skip
    problems = [(p.column, p.code, p.message) for p in records_service.iter_problems(db_session, result.batch_id)]
    assert (result.status, result.created, result.rejected) == ("completed", 1, 0), problems
    doc_no = row[rtype.role_code("doc_no")]
    uscc = row[rtype.role_code("uscc")]
    record = db_session.scalar(select(Record).where(Record.record_type == key))
    assert record is not None
    assert record.doc_no == doc_no
    allowed = rtype.surfaces

    # The portal: the profile's tab, the record page, the listing, the public API and its counts.
    profile = client.get(f"/subjects/{uscc}", params={"tab": key})
    assert profile.status_code == 200
    assert (doc_no in profile.text) is (PORTAL in allowed), "profile"
    page = client.get(f"/records/{refs.record_ref(record.id, protector)}")
    assert page.status_code == (200 if PORTAL in allowed else 404)
    if PORTAL in allowed:
        assert rtype.legal_basis[:20] in page.text
    listing = client.get(f"/disclosure/{key}")
    assert listing.status_code == (200 if rtype.is_listable else 404)
    assert (doc_no in listing.text) is rtype.is_listable
    api = client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": key})
    if PORTAL in allowed:
        assert api.status_code == 200
        assert [i["doc_no"] for i in api.json()["items"]] == [doc_no]
        assert client.get(f"/api/v1/subjects/{uscc}").json()["counts"] == {key: 1}
    else:
        assert api.status_code == 422
        assert api.json()["error"]["code"] == "invalid-input"
        assert doc_no not in api.text
        assert client.get(f"/api/v1/subjects/{uscc}").json()["counts"] == {}
    assert (doc_no in client.get("/").text) is False  # the home page lists types, never records

    # Credit checks: a department reads negative and positive records of every class but 不予共享.
    actor = Actor(label="api-key:test", kind="api-key", permissions=frozenset({Permission.API_CHECKS_WRITE}),
                  department_id=market.id, is_department_bound=True)  # fmt: skip
    doc = checks_service.run_check(db_session, checks_service.CheckItem(code=uscc), matter="政府采购", actor=actor,
                                   settings=catalog_settings, protector=protector, today=TODAY)  # fmt: skip
    checked = {r["doc_no"] for r in doc["negative_records"] + doc["positive_records"]}
    assert (doc_no in checked) is (CHECKS in allowed and rtype.effect != "neutral"), "checks"

    # The console (the 信用办 sees every record) and the subject's own records.
    subject = db_session.scalar(select(Subject).where(Subject.uscc == uscc))
    console = client.get(f"/admin/subjects/{subject.id}")
    assert console.status_code == 200
    assert (doc_no in console.text) is (CONSOLE in allowed), "console"
    assert rtype.name in console.text
    own = accounts_service.subject_records(db_session, subject.id, settings=catalog_settings, protector=protector)
    assert ([o.record.doc_no for o in own] == [doc_no]) is (OWN in allowed), "own"


def test_the_classes_allow_these_surfaces():
    expected = {
        "社会公开": {PORTAL, OWN, CHECKS, CONSOLE},
        "授权查询": {OWN, CHECKS, CONSOLE},
        "政务共享": {OWN, CHECKS, CONSOLE},
        "不予共享": {OWN, CONSOLE},
    }
    assert expected == CLASS_SURFACES


@pytest.mark.parametrize(
    ("mutation", "reason"),
    [
        (lambda t: t.replace('publication = "不予共享"', 'publication = "内部共享"'), "未知的公开属性 内部共享"),
        (lambda t: t.replace('publication = "不予共享"', "publication = 3"), "未知的公开属性 3"),
        (lambda t: t.replace('publication = "不予共享"', 'publication = "不予共享"\nreporting = "daily"'), "未知的报送频次 daily"),
        (lambda t: "\n".join(line for line in t.splitlines() if not line.startswith("legal_basis")), "legal_basis"),
        (lambda t: t.replace("legal_basis = ", 'legal_basis = "  "\n# ', 1), "legal_basis"),
    ],
)
def test_a_shipped_type_with_an_unknown_class_or_without_a_legal_basis_refuses_to_load(mutation, reason, tmp_path):
    text = (TYPES_DIR / "utility-payments.toml").read_text(encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        parse_record_type(tomllib.loads(mutation(text)), "utility-payments.toml")
    assert reason in raised.value.message
    assert "utility-payments.toml" in raised.value.message
    # The same file in an operator's folder stops the catalogue from loading, naming the file.
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "mine.toml").write_text(mutation(text).replace('key = "utility-payments"', 'key = "mine"'), encoding="utf-8")
    with pytest.raises(CatalogError) as loading:
        load_catalog((folder,))
    assert "mine.toml" in loading.value.message
