"""The issue's bad inputs of the record, each through the batch API: the status code, the problem code and the
Chinese message of the rejected row; and hostile text, which is stored as text and shown escaped."""

from __future__ import annotations

import pytest
from tests.functional.commitments.conftest import KEY, days_ago, dept_row, record_of

from xinyong.departments import service as departments_service


@pytest.fixture
def post(client, db_session, accounts, today):  # type: ignore[no-untyped-def]
    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="承诺系统")
    db_session.commit()

    def run(row: dict[str, str]):  # type: ignore[no-untyped-def]
        return client.post(f"/api/v1/records/{KEY}/batch", json={"rows": [row]},
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip

    return run


def _broken(today, **extra):  # type: ignore[no-untyped-def]
    return {"承诺履行状态": "全部未履行", "未履行的承诺内容": "未按期提交证明", "履行状态认定日期": days_ago(today, 1).isoformat(),
            "履行状态认定单位": "安吉县市场监督管理局", **extra}  # fmt: skip


CASES = [
    ("code too short", lambda t: {"承诺编码": "3305212025"}, "CN_CNBM", "commitment-code-length", "应为 20 位"),
    ("code not digits", lambda t: {"承诺编码": "33052A" + f"{days_ago(t, 3):%Y%m%d}000001"}, "CN_CNBM",
     "commitment-code-format", "只能由数字组成"),
    ("region unknown", lambda t: {"承诺编码": "990000" + f"{days_ago(t, 3):%Y%m%d}000001"}, "CN_CNBM",
     "commitment-code-region", "不是有效的行政区划代码"),
    ("date part differs", lambda t: {"承诺编码": "330521" + f"{days_ago(t, 4):%Y%m%d}000001"}, "CN_CNBM",
     "commitment-code-date", "与承诺作出日期"),
    ("date part not a date", lambda t: {"承诺编码": "33052120251399000001"}, "CN_CNBM", "commitment-code-date",
     "不是有效日期"),
    ("unknown type", lambda t: {"承诺类型": "口头型"}, "CN_CNLX", "invalid-value", "不是有效的承诺类型"),
    ("unknown status", lambda t: {"承诺履行状态": "基本履行"}, "CN_LXZT", "invalid-value", "不是有效的承诺履行状态"),
    ("unknown openness", lambda t: {"公开类型": "内部"}, "CN_GKLX", "invalid-value", "不是有效的公开类型"),
    ("fulfilment before the commitment", lambda t: _broken(t, 履行状态认定日期=days_ago(t, 10).isoformat()),
     "CN_RDRQ", "date-order", "早于承诺作出日期"),
    ("fulfilment in the future", lambda t: _broken(t, 履行状态认定日期=(t.replace(year=t.year + 1)).isoformat()),
     "CN_RDRQ", "future-date", "日期不能在未来"),
    ("broken without 认定单位", lambda t: _broken(t, 履行状态认定单位=""), "CN_RDDW", "required-if",
     "履行状态认定单位为必填项"),
    ("broken without what was not fulfilled", lambda t: _broken(t, 未履行的承诺内容=""), "CN_WLXNR", "required-if",
     "未履行的承诺内容为必填项"),
    ("broken without 认定日期", lambda t: _broken(t, 履行状态认定日期=""), "CN_RDRQ", "required-if",
     "履行状态认定日期为必填项"),
    ("text over the limit", lambda t: {"承诺内容": "诚" * 4001}, "CN_CNNR", "too-long", "最多 4000 字"),
    ("validity before the commitment", lambda t: {"承诺有效期至": days_ago(t, 30).isoformat()}, "CN_YXQZ",
     "date-order", "早于承诺作出日期"),
    ("another department's data", lambda t: {"数据来源单位统一社会信用代码": "11330521000000025N"}, "CN_SJLYDM", None, None),
]


@pytest.mark.parametrize(("label", "change", "column", "code", "text"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_row_is_rejected_with_its_code_and_message(post, accounts, today, label, change, column, code, text):  # type: ignore[no-untyped-def]
    made = days_ago(today, 3)
    row = {**dept_row(accounts.dept_a, made), **change(today)}
    response = post(row)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["created"], doc["rejected"]) == (0, 1), doc
    problems = [p for p in doc["errors"] if p["column"] == column]
    assert problems, doc["errors"]
    if code is not None:
        assert problems[0]["code"] == code
        assert text in problems[0]["message"], problems[0]["message"]



def test_duplicate_code_in_one_batch(client, db_session, accounts, today):  # type: ignore[no-untyped-def]
    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_a, name="承诺系统")
    db_session.commit()
    row = dept_row(accounts.dept_a, days_ago(today, 3))
    response = client.post(f"/api/v1/records/{KEY}/batch", json={"rows": [row, row]},
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert response.status_code == 200
    doc = response.json()
    assert (doc["created"], doc["rejected"]) == (1, 1)
    assert doc["errors"][0]["code"] == "duplicate-doc-no"
    assert "重复" in doc["errors"][0]["message"]
    # The same file again changes nothing: the code is the business key.
    again = client.post(f"/api/v1/records/{KEY}/batch", json={"rows": [row]},
                        headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    assert (again["created"], again["unchanged"]) == (0, 1)


HOSTILE = '<script>alert("x")</script>\' OR 1=1; --{{7*7}}'


def test_hostile_text_in_every_text_field_is_stored_as_text_and_shown_escaped(post, client, db_session, accounts, today):  # type: ignore[no-untyped-def]
    made = days_ago(today, 3)
    fields = ["承诺人名称", "承诺事由", "承诺内容", "违诺责任", "备注"]
    row = {**dept_row(accounts.dept_a, made), **{f: f"{HOSTILE}{f}" for f in fields}}
    doc = post(row).json()
    assert doc["created"] == 1, doc
    record = record_of(db_session, row["承诺编码"])
    assert record.payload["CN_CNSY"] == f"{HOSTILE}承诺事由"
    page = client.get(f"/subjects/{row['统一社会信用代码']}", params={"tab": KEY})
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;" in page.text
