from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import func, select
from tests.factories import records as f

from xinyong.codes import make_id_number
from xinyong.subjects import names as search
from xinyong.subjects import refs
from xinyong.subjects.models import Subject, SubjectGram


def test_name_search_from_two_characters(client, load):
    rows = [
        f.penalty_row(CF_XDR_MC="安吉县恒达竹木制品有限公司", CF_XDR_SHXYM=f.company_code(701)),
        f.penalty_row(CF_XDR_MC="湖州恒达建材有限公司", CF_XDR_SHXYM=f.company_code(702)),
        f.penalty_row(CF_XDR_MC="安吉县绿竹茶业有限公司", CF_XDR_SHXYM=f.company_code(703)),
    ]
    load(rows)
    two = client.get("/api/v1/subjects", params={"q": "恒达"}).json()
    assert two["mode"] == "name"
    assert {i["name"] for i in two["items"]} == {"安吉县恒达竹木制品有限公司", "湖州恒达建材有限公司"}
    three = client.get("/api/v1/subjects", params={"q": "恒达竹"}).json()
    assert [i["name"] for i in three["items"]] == ["安吉县恒达竹木制品有限公司"]
    # every gram present, but not as one substring: verified away
    assert client.get("/api/v1/subjects", params={"q": "竹茶业恒达"}).json()["items"] == []
    # full-width and traditional characters fold like the stored key
    assert client.get("/api/v1/subjects", params={"q": "恆達"}).json()["total"] == 2
    assert client.get("/api/v1/subjects", params={"q": "恒"}).json()["mode"] == "too-short"
    assert "至少输入 2 个字" in client.get("/search", params={"q": "恒"}).text
    assert client.get("/api/v1/subjects", params={"q": "%%"}).json()["items"] == []


def test_code_search_is_exact(client, load):
    row = f.penalty_row(CF_XDR_GSZC="3305230001234")
    load([row])
    uscc = row["CF_XDR_SHXYM"]
    result = client.get("/api/v1/subjects", params={"q": uscc.lower()}).json()
    assert result["mode"] == "code"
    assert result["items"][0]["uscc"] == uscc
    assert client.get("/api/v1/subjects", params={"q": "3305230001234"}).json()["items"][0]["uscc"] == uscc
    assert client.get("/api/v1/subjects", params={"q": uscc[:-2]}).json()["items"] == []
    assert client.get(f"/api/v1/subjects/{uscc}").json()["name"] == row["CF_XDR_MC"]


def test_no_match_says_so_and_suggests(client):
    page = client.get("/search", params={"q": "不存在的名称"})
    assert page.status_code == 200
    assert "未找到" in page.text
    assert "字号" in page.text


def test_profile_record_detail_and_tabs(client, load, protector):
    penalty = f.penalty_row()
    (record,) = load([penalty])
    licence = f.license_row(XK_XDR_MC=penalty["CF_XDR_MC"], XK_XDR_SHXYM=penalty["CF_XDR_SHXYM"])
    load([licence], record_type="license")
    uscc = penalty["CF_XDR_SHXYM"]
    profile = client.get(f"/subjects/{uscc}")
    assert "基础信息" in profile.text
    assert penalty["CF_WSH"] in profile.text
    assert "一般失信" in profile.text
    licences = client.get(f"/subjects/{uscc}", params={"tab": "license"})
    assert licence["XK_WSH"] in licences.text
    assert penalty["CF_WSH"] not in licences.text
    detail = client.get(f"/records/{refs.record_ref(record.id, protector)}")
    for title in ("行政处罚决定书文号", "违法事实", "处罚依据", "处罚类别", "罚款金额（万元）", "处罚机关"):
        assert title in detail.text
    assert penalty["CF_SY"] in detail.text
    assert client.get(f"/records/{record.id}-0000000000000000").status_code == 404
    assert client.get(f"/records/{record.id}").status_code == 404
    missing = client.get("/subjects/91330523MA2XXXXXXX")
    assert missing.status_code == 404
    assert "未找到" in missing.text
    assert "<html" in missing.text


def test_hostile_text_is_escaped_on_every_page(client, load, protector):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    row = f.penalty_row(CF_XDR_MC="安吉县<b>恶意</b>科技有限公司", CF_SY=hostile, CF_WFXW=hostile, CF_NR=hostile)
    (record,) = load([row])
    pages = [
        client.get("/search", params={"q": "恶意"}),
        client.get(f"/subjects/{row['CF_XDR_SHXYM']}"),
        client.get(f"/records/{refs.record_ref(record.id, protector)}"),
        client.get("/disclosure/penalty"),
        client.get("/search", params={"q": hostile}),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "<img src=x" not in page.text
        assert "<b>恶意" not in page.text
    assert "&lt;script&gt;" in pages[2].text


def test_csv_export_is_formula_safe(client, load):
    row = f.penalty_row(CF_WFXW='=HYPERLINK("http://evil","点我")', CF_CFLB="罚款", CF_NR="-2+3")
    load([row])
    response = client.get("/disclosure/penalty.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    # The common columns, then the catalogue's declared export fields, titled as the catalogue titles them.
    assert rows[0] == ["行政相对人名称", "统一社会信用代码", "行政处罚决定书文号", "处罚决定日期", "部门", "违法行为类型",
                       "处罚类别", "处罚内容", "罚款金额（万元）"]
    (line,) = [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[2] == row["CF_WSH"]]
    assert line["违法行为类型"] == "'=HYPERLINK(\"http://evil\",\"点我\")"
    assert line["处罚类别"] == "罚款"
    assert line["处罚内容"] == "'-2+3"
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


def test_rate_limit_gives_a_clear_chinese_429(client, portal_settings):
    from xinyong.web.ratelimit import RateLimiter

    limiter = RateLimiter(3, 60)
    limiter._clock = lambda: 90.0  # mid-window: a slow run must not cross into the next window between requests
    client.app.state.portal_limiter = limiter
    for _ in range(3):
        assert client.get("/search", params={"q": "恒达"}).status_code == 200
    page = client.get("/search", params={"q": "恒达"})
    assert page.status_code == 429
    assert "访问过于频繁" in page.text
    assert int(page.headers["retry-after"]) > 0
    api = client.get("/api/v1/subjects", params={"q": "恒达"})
    assert api.status_code == 429
    assert api.json()["error"]["code"] == "rate-limited"
    assert client.get("/").status_code == 200  # the home page is not limited


def test_openapi_documents_public_api(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/v1/subjects", "/api/v1/subjects/{code}", "/api/v1/subjects/{code}/records"):
        assert "get" in paths[path]
    assert "/search" not in paths


def test_name_index_maintained_on_ingest_and_rebuild(db_session, load):
    person = f.penalty_row(CF_XDR_MC="李四", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJLX="身份证",
                           CF_XDR_ZJHM=make_id_number("330523", date(1980, 1, 1), "123"), CF_FRDB="")  # fmt: skip
    company = f.penalty_row(CF_XDR_MC="安吉县索引测试有限公司")
    load([company])
    subject = db_session.scalar(select(Subject).where(Subject.name == company["CF_XDR_MC"]))
    assert search.grams_of(subject.name_norm) == set(
        db_session.scalars(select(SubjectGram.gram).where(SubjectGram.subject_id == subject.id))
    )
    load([person])
    before = db_session.scalar(select(func.count()).select_from(SubjectGram))
    search.rebuild_index(db_session)
    assert db_session.scalar(select(func.count()).select_from(SubjectGram)) == before
    persons = select(Subject.id).where(Subject.kind == "person")
    assert db_session.scalar(select(func.count()).select_from(SubjectGram).where(SubjectGram.subject_id.in_(persons))) == 0


def test_healthz_stays_json(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/api/v1/nowhere").json()["error"]["code"] == "http-404"
    assert "<html" in client.get("/nowhere").text
