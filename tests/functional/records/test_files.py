"""A department's file with bad rows: the good rows are stored and the report names every bad cell,
whatever the file's encoding or format and whichever header spelling the department used."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.factories.records import company_code, penalty_row
from tests.functional.records.helpers import batch, errors, record_count, warnings

from xinyong.records.models import Record

BAD_USCC = company_code(1)[:-1] + ("0" if company_code(1)[-1] != "0" else "1")

# (row in the file, column, code) of every bad cell below; the header is row 1.
EXPECTED_ERRORS = [
    (3, "CF_XDR_SHXYM", "uscc-checksum"),
    (5, "CF_JDRQ", "invalid-date"),
    (6, "CF_NR_FK", "amount-unit"),
    (6, "CF_XDR_LB", "invalid-value"),
]


def mixed_rows() -> list[dict[str, str]]:
    return [
        penalty_row(CF_XDR_MC="安吉县甲科技有限公司", CF_WSH="安市监罚〔2025〕A1号"),
        penalty_row(CF_XDR_SHXYM=BAD_USCC, CF_WSH="安市监罚〔2025〕A2号"),
        penalty_row(CF_XDR_MC="安吉县丙科技有限公司", CF_WSH="安市监罚〔2025〕A3号"),
        penalty_row(CF_JDRQ="2025-13-01", CF_WSH="安市监罚〔2025〕A4号"),
        penalty_row(CF_NR_FK="2000元", CF_XDR_LB="公司", CF_WSH="安市监罚〔2025〕A5号"),
        penalty_row(CF_XDR_MC="安吉县丁科技有限公司", CF_WSH="安市监罚〔2025〕A6号"),
    ]


def assert_mixed_result(session, result) -> None:  # type: ignore[no-untyped-def]
    assert result.failure is None
    assert result.status == "completed"
    assert result.counts() == {
        "rows": 6,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 3,
        "late": 0,
    }
    assert sorted(errors(session, result.batch_id)) == EXPECTED_ERRORS
    stored = session.scalars(select(Record.doc_no).where(Record.batch_id == result.batch_id)).all()
    assert sorted(stored) == ["安市监罚〔2025〕A1号", "安市监罚〔2025〕A3号", "安市监罚〔2025〕A6号"]


def test_gbk_csv_with_bad_rows_imports_the_good_rows_and_names_each_bad_cell(db_session, import_csv):
    result = import_csv(mixed_rows(), encoding="gbk")

    assert_mixed_result(db_session, result)
    stored = batch(db_session, result.batch_id)
    assert (stored.file_format, stored.encoding) == ("csv", "gb18030")
    # The bad value and a Chinese message travel with each problem.
    bad = next(p for p in stored_problems(db_session, result.batch_id) if p.code == "uscc-checksum")
    assert bad.value == BAD_USCC
    assert "校验位" in bad.message
    # Text decoded from GBK is stored as the department wrote it.
    names = set(db_session.scalars(select(Record.subject_name).where(Record.batch_id == result.batch_id)))
    assert names == {"安吉县甲科技有限公司", "安吉县丙科技有限公司", "安吉县丁科技有限公司"}


def stored_problems(session, batch_id):  # type: ignore[no-untyped-def]
    from xinyong.records.service import iter_problems

    return list(iter_problems(session, batch_id))


@pytest.mark.parametrize(
    ("encoding", "xlsx", "detected"),
    [("utf-8", False, "utf-8"), ("utf-8-sig", False, "utf-8-sig"), (None, True, None)],
    ids=["utf-8", "utf-8-bom", "xlsx"],
)
def test_other_encodings_and_xlsx_give_the_same_result(db_session, import_csv, encoding, xlsx, detected):
    result = import_csv(mixed_rows(), encoding=encoding or "utf-8", xlsx=xlsx)

    assert_mixed_result(db_session, result)
    stored = batch(db_session, result.batch_id)
    assert stored.file_format == ("xlsx" if xlsx else "csv")
    assert stored.encoding == detected


def _rename(rows: list[dict[str, str]], names: dict[str, str]) -> list[dict[str, str]]:
    return [{names.get(k, k): v for k, v in row.items()} for row in rows]


CHINESE_HEADERS = {
    "CF_XDR_MC": "行政相对人名称",
    "CF_XDR_LB": "行政相对人类别",
    "CF_XDR_SHXYM": "统一社会信用代码",
    "CF_FRDB": "法定代表人",
    "CF_WSH": "行政处罚决定书文号",
    "CF_WFXW": "违法行为类型",
    "CF_SY": "违法事实",
    "CF_YJ": "处罚依据",
    "CF_CFLB": "处罚类别",
    "CF_NR": "处罚内容",
    "CF_NR_FK": "罚款金额（万元）",
    "CF_JDRQ": "处罚决定日期",
    "CF_CFJG": "处罚机关",
    "CF_CFJGDM": "处罚机关统一社会信用代码",
    "CF_SJLY": "数据来源单位",
    "CF_SJLYDM": "数据来源单位统一社会信用代码",
}


def test_chinese_headers_are_accepted_and_problems_use_the_column_code(db_session, import_csv):
    result = import_csv(_rename(mixed_rows(), CHINESE_HEADERS), encoding="gbk")

    assert_mixed_result(db_session, result)
    assert warnings(db_session, result.batch_id) == []
    record = db_session.scalar(select(Record).where(Record.doc_no == "安市监罚〔2025〕A1号"))
    assert record is not None
    assert record.payload["CF_NR_FK"] == "0.2"
    assert record.payload["CF_CFLB"] == "警告;罚款"


def test_headers_without_the_prefix_are_accepted(db_session, import_csv):
    unprefixed = {code: code.removeprefix("CF_") for code in CHINESE_HEADERS}
    assert unprefixed["CF_XDR_MC"] == "XDR_MC"

    result = import_csv(_rename(mixed_rows(), unprefixed))

    assert_mixed_result(db_session, result)
    assert warnings(db_session, result.batch_id) == []


def test_half_width_bracket_in_a_chinese_header_is_the_same_header(db_session, import_csv, dept):
    rows = _rename([penalty_row()], {**CHINESE_HEADERS, "CF_NR_FK": "罚款金额(万元)"})

    result = import_csv(rows)

    assert result.counts()["created"] == 1
    assert warnings(db_session, result.batch_id) == []
    assert record_count(db_session, dept) == 1
