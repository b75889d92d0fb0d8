"""Commitment files (GBK CSV, Chinese headers) through the one pipeline: the row-level report, a re-import
that marks one broken (versions kept), publication by 公开类型 on the portal and the public API, and the
credit check showing the broken commitment."""

from __future__ import annotations

from sqlalchemy import select
from tests.functional.commitments.conftest import KEY, days_ago, dept_row, record_of

from xinyong.departments import service as departments_service
from xinyong.records.models import BatchProblem, RecordVersion


def test_a_department_file_imports_and_a_reimport_marks_one_broken(client, db_session, accounts, import_file, today):  # type: ignore[no-untyped-def]
    made = days_ago(today, 30)
    public = dept_row(accounts.dept_a, made, 公开类型="可向社会公开")
    private = dept_row(accounts.dept_a, made, 公开类型="不予公开")
    limited = dept_row(accounts.dept_a, made, 公开类型="特定范围内公开", 承诺类型="主动型")
    bad = dept_row(accounts.dept_a, made, 承诺编码="33052120250101000001")
    result = import_file([public, private, limited, bad])
    assert (result.created, result.rejected) == (3, 1), result
    [problem] = db_session.scalars(select(BatchProblem).where(BatchProblem.batch_id == result.batch_id,
                                                              BatchProblem.severity == "error")).all()  # fmt: skip
    assert (problem.row, problem.code) == (5, "commitment-code-date")
    assert "与承诺作出日期" in problem.message

    uscc = public["统一社会信用代码"]
    api = client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": KEY})
    assert api.status_code == 200, api.text
    [item] = api.json()["items"]
    assert item["doc_no"] == public["承诺编码"]
    page = client.get(f"/subjects/{uscc}", params={"tab": KEY})
    assert page.status_code == 200
    assert public["承诺编码"] in page.text
    listing = client.get(f"/disclosure/{KEY}")
    assert listing.status_code == 200
    assert public["承诺编码"] in listing.text
    for hidden in (private, limited):
        assert hidden["承诺编码"] not in listing.text
        code = hidden["统一社会信用代码"]
        assert client.get(f"/api/v1/subjects/{code}/records", params={"record_type": KEY}).json()["items"] == []
        assert hidden["承诺编码"] not in client.get(f"/subjects/{code}", params={"tab": KEY}).text

    broken = {**public, "承诺履行状态": "全部未履行", "未履行的承诺内容": "未按承诺提交经营场所证明",
              "违诺责任追究内容": "撤销许可决定", "履行状态认定日期": days_ago(today, 2).isoformat(),
              "履行状态认定单位": accounts.dept_a.name}  # fmt: skip
    again = import_file([broken, private, limited])
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 1, 2, 0), again
    record = record_of(db_session, public["承诺编码"])
    assert record.version == 2
    assert record.payload["CN_LXZT"] == "全部未履行"
    assert db_session.scalars(select(RecordVersion).where(RecordVersion.record_id == record.id)).one().version == 1
    # Broken and public: published for the 违诺 period, with what was not fulfilled.
    [item] = client.get(f"/api/v1/subjects/{uscc}/records", params={"record_type": KEY}).json()["items"]
    assert item["doc_no"] == public["承诺编码"]

    _, token = departments_service.issue_api_key(db_session, department=accounts.dept_b, name="审批系统",
                                                 scopes=["api:checks:write"])  # fmt: skip
    db_session.commit()
    check = client.post("/api/v1/checks", json={"code": uscc, "matter": "行政审批"},
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert check.status_code == 200, check.text
    [shown] = check.json()["extras"]["commitments"]["broken"]
    assert shown["code"] == public["承诺编码"]
    assert shown["liability"] == public["违诺责任"]
    assert shown["pursued"] == "撤销许可决定"
    refused = client.post("/api/v1/checks", json={"code": uscc, "matter": "告知承诺适用"},
                          headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    verdict = refused["extras"]["commitments"]["notice_commitment"]
    assert verdict["allowed"] is False
    assert "违诺记录" in verdict["reason"]
    assert "信用修复" in verdict["repair_route"]
    clean = client.post("/api/v1/checks", json={"code": limited["统一社会信用代码"], "matter": "告知承诺适用"},
                        headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    assert clean["extras"]["commitments"]["notice_commitment"]["allowed"] is True


def test_the_console_check_shows_the_broken_commitment_and_refuses_notice_commitment(  # type: ignore[no-untyped-def]
    db_session, accounts, import_file, sign_in, today
):
    made = days_ago(today, 30)
    broken = dept_row(accounts.dept_a, made, 承诺履行状态="部分履行", 未履行的承诺内容="未按期整改",
                      履行状态认定日期=days_ago(today, 3).isoformat(), 履行状态认定单位=accounts.dept_a.name,
                      公开类型="特定范围内公开")  # fmt: skip
    hidden = dept_row(accounts.dept_a, made, 承诺履行状态="全部未履行", 未履行的承诺内容="虚假承诺",
                      履行状态认定日期=days_ago(today, 3).isoformat(), 履行状态认定单位=accounts.dept_a.name,
                      公开类型="不予公开")  # fmt: skip
    assert import_file([broken, hidden]).created == 2
    other = sign_in(accounts.users["operator_b"])  # another department checks
    for row, shown in ((broken, True), (hidden, False)):
        response = other.post("/admin/checks", {"matter": "告知承诺适用", "code": row["统一社会信用代码"]})
        assert response.status_code == 303, response.text
        page = other.get(response.headers["location"]).text
        assert "不适用告知承诺" in page
        assert "信用修复" in page
        assert (row["承诺编码"] in page) is shown
        assert (row["违诺责任"] in page) is shown
    own = sign_in(accounts.users["operator"])  # the accepting department sees its 不予公开 one
    response = own.post("/admin/checks", {"matter": "行政审批", "code": hidden["统一社会信用代码"]})
    assert hidden["承诺编码"] in own.get(response.headers["location"]).text
