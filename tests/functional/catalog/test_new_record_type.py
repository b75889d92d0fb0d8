"""A new record type is a catalogue file, not code: declare it, import it like the built-in ones, and every surface
shows it as declared — profile tabs, record pages, listings, the CSV export, the public API, the console, credit
checks and the repair page — with the publicity rule and the public fields of its declaration."""

from __future__ import annotations

import csv
import io
import tomllib
from datetime import date

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from tests.factories import catalog as cf
from tests.factories import records as factories

from xinyong.actors import Actor, Permission
from xinyong.app import create_app
from xinyong.auth import passwords
from xinyong.auth import service as auth_service
from xinyong.auth.rules import Role
from xinyong.catalog import load_catalog
from xinyong.catalog.schema import CatalogError, parse_record_type
from xinyong.checks import service as checks_service
from xinyong.codes import mask_id_number
from xinyong.records import service
from xinyong.records.models import Record
from xinyong.subjects import refs
from xinyong.subjects.models import Subject
from xinyong.web.deps import SESSION_COOKIE


def test_a_declared_type_imports_through_the_same_pipeline(db_session, catalog_settings, protector):
    dept = factories.department(db_session)
    rows = [
        {"主体名称": "安吉县表彰测试有限公司", "主体类别": "法人及非法人组织", "统一社会信用代码": factories.company_code(901),
         "表彰文号": "安政〔2025〕8号", "荣誉名称": "守合同重信用企业", "表彰日期": "2025-09-29",
         "数据来源单位统一社会信用代码": dept.code},
        {"主体名称": "安吉县表彰测试二号有限公司", "主体类别": "法人及非法人组织", "统一社会信用代码": "91330521MA2B00000X",
         "表彰文号": "安政〔2025〕9号", "荣誉名称": "", "表彰日期": "2025-09-29",
         "数据来源单位统一社会信用代码": dept.code},
    ]  # fmt: skip
    result = service.import_rows(
        db_session, rows, settings=catalog_settings, protector=protector, record_type="honour", department=dept,
        actor="test", reported_on=date(2025, 10, 9), today=date(2025, 10, 9),
    )  # fmt: skip
    assert (result.created, result.rejected) == (1, 1)
    codes = {(p.row, p.column, p.code) for p in service.iter_problems(db_session, result.batch_id)}
    assert (2, "BZ_MC", "required") in codes
    record = db_session.query(Record).filter_by(record_type="honour").one()
    assert record.payload["BZ_MC"] == "守合同重信用企业"
    assert record.publish_until is None  # not a negative type: no publication end


def test_the_built_in_types_are_always_there(catalog):
    assert {"license", "penalty", "honour", "enforcement", "arrears"} <= set(catalog.types)


def test_a_type_without_a_presentation_gets_defaults_from_its_roles(catalog):
    honour = catalog.get("honour")
    assert (honour.effect, honour.is_public, honour.is_listable) == ("positive", True, True)
    assert (honour.portal.tab, honour.portal.summary, honour.portal.export, honour.portal.filter) == (
        "表彰奖励", ("BZ_MC",), ("BZ_MC",), None)
    enforcement = catalog.get("enforcement")
    assert enforcement.effect == "negative"
    assert enforcement.portal.summary == ("QZ_SY", "QZ_LB")  # role:categories resolved to its field
    assert enforcement.filter_field.code == "QZ_LB"
    assert "QZ_FZRZJHM" not in {f.code for f in enforcement.public_fields}  # protected
    assert "QZ_CBR" not in {f.code for f in enforcement.public_fields}  # public = false
    arrears = catalog.get("arrears")
    assert (arrears.is_public, arrears.is_listable) == (False, False)
    # Portal order: the declared order, then files; only 社会公开 types; the default is the first negative one.
    declared = {"license", "penalty", "inspection-result", "enforcement", "commitment", "honour"}
    assert [t.key for t in catalog.public_types if t.key in declared] == [
        "license", "penalty", "inspection-result", "enforcement", "commitment", "honour"]
    assert [t.key for t in catalog.listable_types if t.key in declared] == [
        "license", "penalty", "inspection-result", "enforcement", "commitment", "honour"]
    assert "arrears" not in catalog.public_keys
    assert catalog.default_public_key == "penalty"
    assert {"penalty", "enforcement", "arrears"} <= set(catalog.negative_keys)
    assert {"license", "honour"} <= set(catalog.positive_keys)


@pytest.mark.parametrize(
    ("text", "mutation", "reason"),
    [
        (cf.HONOUR, lambda t: t.replace('legal_basis = "《某省社会信用条例》第十五条"', 'legal_basis = ""'), "依据"),
        (cf.HONOUR, lambda t: t.replace('role = "doc_no"\n', ""), "doc_no"),
        (cf.HONOUR, lambda t: t.replace('kind = "date"', 'kind = "datetime"'), "未知的字段类型"),
        (cf.HONOUR, lambda t: t.replace('role = "subject_kind"', 'role = "subject_name"'), "同一角色"),
        (cf.HONOUR, lambda t: t.replace('key = "honour"', 'key = "表彰奖励"'), "类别键"),
        (cf.HONOUR, lambda t: t.replace("positive = true", "positive = true\nnegative = true"), "既是"),
        (cf.HONOUR, lambda t: t.replace("positive = true", "negative = true"), "分级公示"),
        (cf.ENFORCEMENT, lambda t: t.replace('publication = "社会公开"', 'publication = "内部"'), "未知的公开属性"),
        (cf.ENFORCEMENT, lambda t: t.replace('summary = ["QZ_SY"', 'summary = ["QZ_FZRZJHM"'), "不向社会公开"),
        (cf.ENFORCEMENT, lambda t: t.replace('summary = ["QZ_SY"', 'summary = ["QZ_CBR"'), "不向社会公开"),
        (cf.ENFORCEMENT, lambda t: t.replace('summary = ["QZ_SY"', 'summary = ["QZ_NOPE"'), "不存在"),
        (cf.ENFORCEMENT, lambda t: t.replace('summary = ["QZ_SY"', 'summary = ["role:fine_amount"'), "不存在"),
        (cf.ENFORCEMENT, lambda t: t.replace('summary = ["QZ_SY", "role:categories"]', 'summary = "QZ_SY"'), "字段列表"),
        (cf.ENFORCEMENT, lambda t: t.replace('summary = ["QZ_SY"', 'summary = ["QZ_LB"'), "重复"),
        (cf.ENFORCEMENT, lambda t: t.replace('filter = "role:categories"', 'filter = "role:decision_date"'), "筛选字段"),
        (cf.ENFORCEMENT, lambda t: t.replace("order = 30", 'order = "first"'), "整数"),
        (cf.ENFORCEMENT, lambda t: t.replace("order = 30", "tabs = 3"), "未知的展示设置"),
        (cf.ENFORCEMENT, lambda t: t.replace('kind = "id_number"', 'kind = "id_number"\npublic = true'), "受保护字段"),
        (cf.ARREARS, lambda t: t.replace("[publicity]", "[portal]\nlisting = true\n\n[publicity]"), "公示栏目"),
    ],
)
def test_a_type_without_basis_or_with_bad_declarations_is_refused(text, mutation, reason):
    with pytest.raises(CatalogError) as raised:
        parse_record_type(tomllib.loads(mutation(text)), "type.toml")
    assert reason in raised.value.message


def test_a_bad_catalogue_file_stops_the_app_from_starting(settings, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "enforcement.toml").write_text(cf.ENFORCEMENT.replace("order = 30", "tabs = 3"), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        create_app(settings.model_copy(update={"catalog_dirs": (folder,)}))
    assert "enforcement.toml" in raised.value.message


# ------------------------------------------------------------------------------------------ surfaces


@pytest.fixture
def subject_records(load):  # type: ignore[no-untyped-def]
    """One company with a 行政强制 (negative), a 表彰奖励 (positive) and a 政务共享 record (never public)."""
    enforcement = cf.enforcement_row()
    name, code = enforcement["QZ_DSR"], enforcement["QZ_TYDM"]
    honour = cf.honour_row(BZ_XDR_MC=name, BZ_XDR_SHXYM=code)
    arrears = cf.arrears_row(QJ_MC=name, QJ_DM=code)
    (e,) = load([enforcement], "enforcement")
    (h,) = load([honour], "honour")
    (a,) = load([arrears], "arrears")
    return {"uscc": code, "name": name, "rows": (enforcement, honour, arrears), "records": (e, h, a)}


def _never_leaks(text: str, enforcement: dict[str, str]) -> None:
    """The protected field (clear or masked) and the field declared not public never reach a public surface."""
    for value in (enforcement["QZ_FZRZJHM"], mask_id_number(enforcement["QZ_FZRZJHM"]), "负责人证件号码",
                  "QZ_FZRZJHM", enforcement["QZ_CBR"], "承办人", "QZ_CBR"):  # fmt: skip
        assert value not in text


def test_the_profile_shows_one_tab_per_public_type_with_records(client, subject_records):
    uscc = subject_records["uscc"]
    enforcement, honour, arrears = subject_records["rows"]
    page = client.get(f"/subjects/{uscc}")
    assert page.status_code == 200
    tabs = page.text.split('role="tablist"')[1].split("</nav>")[0]
    assert "行政强制" in tabs
    assert "表彰奖励" in tabs
    assert "行政处罚" not in tabs
    assert "行政许可" not in tabs
    assert "欠缴社会保险费" not in page.text
    assert arrears["QJ_WSH"] not in page.text
    # The default tab is the negative type with records, its columns titled by its declaration.
    assert enforcement["QZ_JDSH"] in page.text
    assert "有公示中的行政强制" in page.text
    assert "实施强制措施的理由 / 强制措施类别" in page.text
    assert enforcement["QZ_SY"] in page.text
    assert "一般失信" in page.text
    _never_leaks(page.text, enforcement)
    honours = client.get(f"/subjects/{uscc}", params={"tab": "honour"})
    assert honour["BZ_WSH"] in honours.text
    assert "守合同重信用企业" in honours.text
    assert enforcement["QZ_JDSH"] not in honours.text
    # A type the public may not see, or one that does not exist, opens the default tab.
    for tab in ("arrears", "nothing", "<b>x</b>"):
        other = client.get(f"/subjects/{uscc}", params={"tab": tab})
        assert other.status_code == 200
        assert enforcement["QZ_JDSH"] in other.text
        assert arrears["QJ_WSH"] not in other.text


def test_the_record_page_shows_the_declared_public_fields(client, subject_records, protector):
    enforcement, _, _ = subject_records["rows"]
    record, _, arrears = subject_records["records"]
    page = client.get(f"/records/{refs.record_ref(record.id, protector)}")
    assert page.status_code == 200
    assert "行政强制决定信息" in page.text
    for title in ("当事人名称", "强制措施决定书文号", "实施强制措施的理由", "强制措施类别", "查封扣押财物名称", "负责人证件类型"):
        assert title in page.text
    assert "《中华人民共和国行政强制法》第二十四条" in page.text  # the declared legal basis
    assert 'data-code="QZ_SY"' in page.text
    _never_leaks(page.text, enforcement)
    # Repair of a negative declared type: by its tier's minimum, in its own words.
    assert "已履行行政强制决定规定的义务" in page.text
    assert "2025-12-29 起可申请信用修复" in page.text
    notice = client.get(f"/repair/notice/{refs.record_ref(record.id, protector)}")
    assert notice.status_code == 200
    assert "作出的行政强制决定" in notice.text
    assert "一般失信" in notice.text
    hidden = client.get(f"/records/{refs.record_ref(arrears.id, protector)}")
    assert hidden.status_code == 404
    assert "未找到" in hidden.text


def test_listings_exist_for_listable_types_only(client, subject_records):
    enforcement, honour, arrears = subject_records["rows"]
    listing = client.get("/disclosure/enforcement")
    assert listing.status_code == 200
    assert "行政强制公示" in listing.text
    assert "强制措施类别" in listing.text
    assert "如 限制人身自由" in listing.text
    assert enforcement["QZ_JDSH"] in listing.text
    assert enforcement["QZ_SY"] in listing.text
    _never_leaks(listing.text, enforcement)
    assert enforcement["QZ_JDSH"] in client.get("/disclosure/enforcement", params={"category": "查封"}).text
    assert enforcement["QZ_JDSH"] not in client.get("/disclosure/enforcement", params={"category": "冻结"}).text
    honours = client.get("/disclosure/honour")
    assert honour["BZ_WSH"] in honours.text
    assert "荣誉名称" in honours.text
    assert "荣誉名称" not in honours.text.split("<form")[1].split("</form>")[0]  # no filter field declared
    for path in ("/disclosure/arrears", "/disclosure/arrears.csv", "/disclosure/nothing", "/disclosure/nothing.csv"):
        missing = client.get(path)
        assert missing.status_code == 404, path
        assert "未找到该公示栏目" in missing.text
    assert arrears["QJ_WSH"] not in client.get("/disclosure/penalty").text
    # Navigation and the home page list every listable type, and no other.
    home = client.get("/")
    assert 'href="http://testserver/disclosure/enforcement"' in home.text
    assert 'data-count="enforcement-7"' in home.text
    assert 'data-count="honour-7"' in home.text
    assert "行政强制公示" in home.text
    assert "表彰奖励公示" in home.text
    assert "欠缴社会保险费" not in home.text
    assert "/disclosure/arrears" not in home.text


def test_the_csv_export_has_the_declared_columns(client, subject_records):
    enforcement, _, _ = subject_records["rows"]
    response = client.get("/disclosure/enforcement.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="enforcement.csv"'
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0] == ["当事人名称", "统一社会信用代码", "强制措施决定书文号", "强制措施决定日期", "部门", "强制措施类别",
                       "实施强制措施的理由", "查封扣押财物名称"]  # fmt: skip
    assert rows[1:] == [[enforcement["QZ_DSR"], enforcement["QZ_TYDM"], enforcement["QZ_JDSH"], "2025-09-29",
                         "安吉县市场监督管理局", "查封", enforcement["QZ_SY"], "竹制砧板 300 件"]]  # fmt: skip
    _never_leaks(response.text, enforcement)


def test_the_public_api_validates_types_against_the_catalogue(client, subject_records):
    uscc = subject_records["uscc"]
    enforcement, honour, _ = subject_records["rows"]
    assert client.get(f"/api/v1/subjects/{uscc}").json()["counts"] == {"enforcement": 1, "honour": 1}
    found = client.get("/api/v1/subjects", params={"q": uscc}).json()["items"][0]
    assert found["counts"] == {"enforcement": 1, "honour": 1}
    page = client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": "enforcement"})
    assert page.status_code == 200
    body = page.json()
    assert body["record_type"] == "enforcement"
    (item,) = body["items"]
    assert (item["record_type_label"], item["doc_no"], item["tier"], item["publish_until"]) == (
        "行政强制", enforcement["QZ_JDSH"], "一般", "2026-03-28")
    assert item["fields"]["QZ_SY"] == enforcement["QZ_SY"]
    assert item["fields"]["QZ_LB"] == "查封"
    assert all(code.startswith("QZ_") for code in item["fields"])
    _never_leaks(page.text, enforcement)
    honours = client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": "honour"}).json()
    assert [(i["doc_no"], i["fields"]["BZ_MC"], i["publish_until"]) for i in honours["items"]] == [
        (honour["BZ_WSH"], "守合同重信用企业", None)]
    # Without a type: the catalogue's default (its first negative public type), whatever the subject has.
    assert client.get(f"/api/v1/subjects/{uscc}/records").json()["record_type"] == "penalty"
    for bad, code in (("arrears", "invalid-input"), ("nothing", "invalid-input"), ("license|penalty", "invalid-input"),
                      ("x" * 65, "invalid-request")):  # fmt: skip
        refused = client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": bad})
        assert refused.status_code == 422, bad
        assert refused.json()["error"]["code"] == code, bad
    message = client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": "arrears"}).json()["error"]
    assert "未知的信息类别" in message["message"]
    assert "enforcement" in message["message"]
    assert "arrears" not in message["message"].split("可用")[1].replace("tax-arrears", "")


def test_the_openapi_description_lists_the_catalogue_keys(client):
    operation = client.get("/api/openapi.json").json()["paths"]["/api/v1/subjects/{code}/records"]["get"]
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "record_type"]
    assert parameter["schema"]["enum"] == [t.key for t in load_catalog(client.app.state.settings.catalog_dirs).public_types]
    assert {"license", "penalty", "inspection-result", "enforcement", "commitment", "honour"} <= set(parameter["schema"]["enum"])
    assert "enforcement（行政强制）" in parameter["description"]
    assert "honour（表彰奖励）" in parameter["description"]
    assert "arrears" not in str(parameter).replace("tax-arrears", "")


def test_search_and_repair_pages_follow_the_catalogue(client, subject_records):
    result = client.get("/search", params={"q": subject_records["name"][:6]})
    assert result.status_code == 200
    assert "行政强制 1 条" in result.text
    assert "表彰奖励 1 条" in result.text
    assert "行政处罚 0 条" in result.text
    assert "欠缴社会保险费" not in result.text
    repair = client.get("/repair")
    assert repair.status_code == 200
    assert "<h2>行政强制</h2>" in repair.text
    assert "<h2>行政处罚</h2>" in repair.text
    assert "最短公示 3 个月，最长公示 6 个月" in repair.text  # 一般, as declared
    assert "最短公示 1 年，最长公示 2 年" in repair.text  # 严重, as declared
    main = repair.text.split("<main")[1].split("</main>")[0]
    assert "欠缴社会保险费" not in main
    assert "表彰奖励" not in main


def test_a_negative_declared_type_leaves_every_surface_after_its_publicity_period(client, load, day, protector):
    general = cf.enforcement_row()  # 一般: at most 6 months, until 2026-03-28
    code, name = general["QZ_TYDM"], general["QZ_DSR"]
    serious = cf.enforcement_row(QZ_DSR=name, QZ_TYDM=code, QZ_LB="冻结")  # 严重: until 2027-09-28
    honour = cf.honour_row(BZ_XDR_MC=name, BZ_XDR_SHXYM=code)
    first, second = load([general, serious], "enforcement")
    load([honour], "honour")
    assert (first.tier, first.publish_until, second.tier, second.publish_until) == (
        "一般", date(2026, 3, 28), "严重", date(2027, 9, 28))

    def shown() -> dict[str, object]:
        api = client.get(f"/api/v1/subjects/{code}/records", params={"record_type": "enforcement"}).json()
        return {
            "profile": client.get(f"/subjects/{code}", params={"tab": "enforcement"}).text,
            "api": {i["doc_no"] for i in api["items"]},
            "counts": client.get(f"/api/v1/subjects/{code}").json()["counts"],
            "listing": client.get("/disclosure/enforcement").text,
            "csv": client.get("/disclosure/enforcement.csv").text,
            "first": client.get(f"/records/{refs.record_ref(first.id, protector)}").status_code,
            "honours": client.get(f"/subjects/{code}", params={"tab": "honour"}).text,
        }

    day["today"] = date(2026, 3, 28)  # the last day of the 一般 record's period
    last = shown()
    assert last["api"] == {general["QZ_JDSH"], serious["QZ_JDSH"]}
    assert last["counts"] == {"enforcement": 2, "honour": 1}
    assert last["first"] == 200
    for surface in ("profile", "listing", "csv"):
        assert general["QZ_JDSH"] in last[surface], surface

    day["today"] = date(2026, 3, 29)
    after = shown()
    assert after["api"] == {serious["QZ_JDSH"]}
    assert after["counts"] == {"enforcement": 1, "honour": 1}
    assert after["first"] == 404
    for surface in ("profile", "listing", "csv"):
        assert general["QZ_JDSH"] not in after[surface], surface
        assert serious["QZ_JDSH"] in after[surface], surface
    assert honour["BZ_WSH"] in after["honours"]

    day["today"] = date(2027, 9, 29)
    gone = shown()
    assert gone["api"] == set()
    assert gone["counts"] == {"honour": 1}
    profile = client.get(f"/subjects/{code}").text  # the default tab is now the only type with records
    assert "有公示中的行政强制" not in profile
    assert "行政强制" not in profile.split('role="tablist"')[1].split("</nav>")[0]
    assert honour["BZ_WSH"] in profile  # permanent: published without end
    assert serious["QZ_JDSH"] not in gone["listing"]


def test_credit_checks_read_the_declared_effect(db_session, catalog_settings, protector, subject_records, market):
    actor = Actor(label="api-key:test", kind="api-key", permissions=frozenset({Permission.API_CHECKS_WRITE}),
                  department_id=market.id, is_department_bound=True)  # fmt: skip
    doc = checks_service.run_check(db_session, checks_service.CheckItem(code=subject_records["uscc"]), matter="政府采购",
                                   actor=actor, settings=catalog_settings, protector=protector, today=date(2025, 10, 20))  # fmt: skip
    # 政务共享 records are read by departments: the check shows them with the public negative ones.
    assert {(r["record_type"], r["record_type_name"]) for r in doc["negative_records"]} == {
        ("enforcement", "行政强制"), ("arrears", "欠缴社会保险费")}
    assert doc["negative_total"] == 2
    assert [(r["record_type"], r["record_type_name"]) for r in doc["positive_records"]] == [("honour", "表彰奖励")]
    assert doc["positive_total"] == 1


def test_the_console_names_declared_types_and_their_summary(client, db_session, catalog_settings, subject_records,
                                                           monkeypatch):  # fmt: skip
    fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", lambda: fast)
    admin = auth_service.create_user(db_session, username="catalog-admin", password="Correct-horse-42",
                                     role=Role.PLATFORM_ADMIN, department=None, display_name="目录测试",
                                     actor=Actor.system("test"), settings=catalog_settings)  # fmt: skip
    _, token = auth_service.start_session(db_session, admin, settings=catalog_settings, client="testclient")
    db_session.commit()
    client.cookies.set(SESSION_COOKIE, token)
    subject = db_session.scalar(select(Subject).where(Subject.uscc == subject_records["uscc"]))
    page = client.get(f"/admin/subjects/{subject.id}")
    assert page.status_code == 200
    for text in ("行政强制", "表彰奖励", "欠缴社会保险费", "一般失信", "涉嫌生产不符合安全标准的产品", "守合同重信用企业"):
        assert text in page.text
    assert ">enforcement<" not in page.text  # the catalogue's name, not the key
    batches = client.get("/admin/batches")
    assert batches.status_code == 200
    assert "行政强制" in batches.text


def test_every_catalogue_type_is_checked_when_the_catalogue_loads(catalog_dir):
    """The built-in types carry their presentation in their files, as an operator's own types do."""
    catalog = load_catalog((catalog_dir,))
    penalty, license_ = catalog.get("penalty"), catalog.get("license")
    assert (penalty.effect, penalty.portal.tab, penalty.filter_field.role) == ("negative", "行政处罚", "categories")
    assert (license_.effect, license_.portal.tab) == ("positive", "行政许可")
