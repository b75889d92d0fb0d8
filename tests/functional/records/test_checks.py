"""Every check of a row, through the whole pipeline: the exact (row, column, code) a department is told,
what is stored, and what is never stored (a full ID number)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from tests.factories.records import (
    DEPT_CODE,
    OTHER_DEPT_CODE,
    company_code,
    individual_code,
    license_row,
    penalty_row,
)
from tests.functional.records.helpers import batch, errors, problems, record_count, warnings

from xinyong.codes import make_id_number
from xinyong.config import Settings
from xinyong.records import report, service
from xinyong.records.models import Record

PERSON_ID = make_id_number("330521", date(1980, 5, 17), "123")
BAD_ID = PERSON_ID[:-1] + ("0" if PERSON_ID[-1] != "0" else "1")
LEGAL_REP_ID = make_id_number("330521", date(1975, 2, 3), "456")


def person_row(**overrides: str) -> dict[str, str]:
    row = penalty_row(
        CF_XDR_MC="王小明", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_FRDB="", CF_XDR_ZJLX="身份证",
        CF_XDR_ZJHM=PERSON_ID,
    )  # fmt: skip
    row.update(overrides)
    return row


def _wrong_check(code: str) -> str:
    return code[:-1] + ("0" if code[-1] != "0" else "1")


# (row builder, overrides, expected errors as (column, code)); each case is one row, imported alone.
PENALTY_CASES = {
    "required": ({"CF_SY": ""}, [("CF_SY", "required")]),
    "required-doc-no": ({"CF_WSH": ""}, [("CF_WSH", "required")]),
    "person-needs-id-number": (
        {"CF_XDR_LB": "自然人", "CF_XDR_SHXYM": "", "CF_XDR_ZJLX": "", "CF_XDR_ZJHM": ""},
        [("CF_XDR_ZJHM", "required-if"), ("CF_XDR_ZJLX", "required-if")],
    ),
    "legal-person-needs-uscc": ({"CF_XDR_SHXYM": ""}, [("CF_XDR_SHXYM", "required-if")]),
    "fine-needs-amount": ({"CF_NR_FK": ""}, [("CF_NR_FK", "required-if")]),
    "subject-kind-value-set": ({"CF_XDR_LB": "公司"}, [("CF_XDR_LB", "invalid-value")]),
    "category-value-set": ({"CF_CFLB": "警告;罚金"}, [("CF_CFLB", "invalid-value")]),
    "future-decision-date": ({"CF_JDRQ": "2025-10-16"}, [("CF_JDRQ", "future-date")]),
    "impossible-date": ({"CF_JDRQ": "2025-02-30"}, [("CF_JDRQ", "invalid-date")]),
    "amount-in-yuan": ({"CF_NR_FK": "2000元"}, [("CF_NR_FK", "amount-unit")]),
    "amount-not-a-number": ({"CF_NR_FK": "abc"}, [("CF_NR_FK", "invalid-amount")]),
    "amount-negative": ({"CF_NR_FK": "-0.2"}, [("CF_NR_FK", "negative-amount")]),
    "amount-too-many-decimals": ({"CF_NR_FK": "0.1234567"}, [("CF_NR_FK", "amount-precision")]),
    "uscc-check-digit": (
        {"CF_XDR_SHXYM": _wrong_check(company_code(900))},
        [("CF_XDR_SHXYM", "uscc-checksum")],
    ),
    "authority-uscc-check-digit": ({"CF_CFJGDM": _wrong_check(DEPT_CODE)}, [("CF_CFJGDM", "uscc-checksum")]),
    "92-code-is-not-a-legal-person": (
        {"CF_XDR_SHXYM": individual_code(901)},
        [("CF_XDR_SHXYM", "uscc-kind-mismatch")],
    ),
    "individual-business-needs-92": ({"CF_XDR_LB": "个体工商户"}, [("CF_XDR_SHXYM", "uscc-kind-mismatch")]),
    "another-departments-source-code": (
        {"CF_SJLYDM": OTHER_DEPT_CODE},
        [("CF_SJLYDM", "department-code-mismatch")],
    ),
}


@pytest.mark.parametrize(("overrides", "expected"), PENALTY_CASES.values(), ids=PENALTY_CASES.keys())
def test_a_bad_penalty_row_is_rejected_with_its_cell(db_session, import_csv, dept, overrides, expected):
    good = penalty_row()
    bad = penalty_row(**overrides)

    result = import_csv([good, bad])

    assert sorted(errors(db_session, result.batch_id)) == [(3, column, code) for column, code in expected]
    assert (result.created, result.rejected, result.status) == (1, 1, "completed")
    assert record_count(db_session, dept) == 1


def test_id_number_check_digit_is_checked_and_never_shown_in_full(db_session, import_csv):
    result = import_csv([person_row(CF_XDR_ZJHM=BAD_ID)])

    assert errors(db_session, result.batch_id) == [(2, "CF_XDR_ZJHM", "id-checksum")]
    problem = next(service.iter_problems(db_session, result.batch_id))
    assert problem.value == BAD_ID[:4] + "*" * 10 + BAD_ID[-4:]
    assert BAD_ID not in problem.message


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"XK_YXQZ": "2025-09-29", "XK_YXQZI": "2025-09-28"}, [("XK_YXQZI", "date-order")]),
        ({"XK_XKLB": "特别"}, [("XK_XKLB", "invalid-value")]),
        ({"XK_JDRQ": "2026-01-01"}, [("XK_JDRQ", "future-date")]),
        ({"XK_LYDWDM": OTHER_DEPT_CODE}, [("XK_LYDWDM", "department-code-mismatch")]),
        ({"XK_NR": ""}, [("XK_NR", "required")]),
    ],
    ids=["valid-until-before-valid-from", "licence-category", "future", "source-code", "required"],
)
def test_a_bad_licence_row_is_rejected_with_its_cell(db_session, import_csv, overrides, expected):
    result = import_csv([license_row(), license_row(**overrides)], record_type="license")

    assert sorted(errors(db_session, result.batch_id)) == [(3, column, code) for column, code in expected]
    assert (result.created, result.rejected) == (1, 1)


def test_licence_values_accepted_as_written_in_practice(db_session, import_csv):
    rows = [
        license_row(XK_XKLB="普通许可", XK_YXQZ="2025-09-29", XK_YXQZI="2025-09-29"),  # one-day licence
        license_row(XK_YXQZI="2099-12-31", XK_JDRQ="2025年9月29日"),
    ]

    result = import_csv(rows, record_type="license")

    assert errors(db_session, result.batch_id) == []
    assert result.created == 2
    stored = db_session.scalars(
        select(Record).where(Record.batch_id == result.batch_id).order_by(Record.id)
    ).all()
    assert stored[0].payload["XK_XKLB"] == "普通"
    assert (stored[1].decision_date, stored[1].valid_until) == (date(2025, 9, 29), date(2099, 12, 31))


def test_amounts_are_stored_in_wan_yuan_as_exact_decimals(db_session, import_csv):
    rows = [penalty_row(CF_NR_FK="0.2"), penalty_row(CF_NR_FK="1,234.500000"), penalty_row(CF_NR_FK="3万元")]

    result = import_csv(rows)

    assert errors(db_session, result.batch_id) == []
    payloads = db_session.scalars(
        select(Record.payload).where(Record.batch_id == result.batch_id).order_by(Record.id)
    )
    assert [Decimal(p["CF_NR_FK"]) for p in payloads] == [Decimal("0.2"), Decimal("1234.5"), Decimal(3)]


def test_warning_only_penalty_needs_no_fine(db_session, import_csv):
    result = import_csv([penalty_row(CF_CFLB="警告", CF_NR_FK="")])

    assert errors(db_session, result.batch_id) == []
    assert result.created == 1


def test_pre_2021_categories_are_mapped_and_flagged(db_session, import_csv):
    rows = [
        penalty_row(CF_CFLB="罚款;暂扣或者吊销执照"),
        penalty_row(CF_CFLB="没收违法所得和非法财物", CF_NR_FK=""),
        penalty_row(CF_CFLB="警告；罚款"),  # full-width separator, current names: no warning
    ]

    result = import_csv(rows)

    assert errors(db_session, result.batch_id) == []
    assert result.created == 3
    assert warnings(db_session, result.batch_id) == [
        (2, "CF_CFLB", "legacy-value"),
        (3, "CF_CFLB", "legacy-value"),
    ]
    categories = [
        r.payload["CF_CFLB"]
        for r in db_session.scalars(
            select(Record).where(Record.batch_id == result.batch_id).order_by(Record.id)
        )
    ]
    assert categories == ["罚款;暂扣许可证件", "没收违法所得;没收非法财物", "警告;罚款"]
    message = next(p.message for p in service.iter_problems(db_session, result.batch_id, severity="warning"))
    assert "暂扣或者吊销执照" in message
    assert "暂扣许可证件" in message


def test_name_that_disagrees_with_the_register_is_rejected(db_session, import_csv):
    code = company_code(950)
    import_csv([penalty_row(CF_XDR_MC="安吉县登记名称有限公司", CF_XDR_SHXYM=code)])

    result = import_csv(
        [
            penalty_row(CF_XDR_MC="安吉县另一个名称有限公司", CF_XDR_SHXYM=code),
            # Bracket width and spaces are not a disagreement.
            penalty_row(CF_XDR_MC=" 安吉县登记名称有限公司 ", CF_XDR_SHXYM=code),
        ]
    )

    assert errors(db_session, result.batch_id) == [(2, "CF_XDR_MC", "name-code-mismatch")]
    assert (result.created, result.rejected) == (1, 1)
    problem = next(service.iter_problems(db_session, result.batch_id))
    assert problem.value == "安吉县另一个名称有限公司"
    assert "安吉县登记名称有限公司" in problem.message


def test_name_mismatch_can_be_configured_as_a_warning(db_session, import_csv, settings):
    code = company_code(951)
    import_csv([penalty_row(CF_XDR_MC="安吉县登记名称二有限公司", CF_XDR_SHXYM=code)])
    lenient = settings.model_copy(update={"name_mismatch": "warning"})

    result = import_csv(
        [penalty_row(CF_XDR_MC="安吉县另一个名称二有限公司", CF_XDR_SHXYM=code)], settings_=lenient
    )

    assert errors(db_session, result.batch_id) == []
    assert warnings(db_session, result.batch_id) == [(2, "CF_XDR_MC", "name-code-mismatch")]
    assert (result.created, result.rejected) == (1, 0)


def test_name_mismatch_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("XINYONG_NAME_MISMATCH", "warning")
    assert Settings().name_mismatch == "warning"


def test_duplicate_doc_no_inside_one_file(db_session, import_csv):
    first = penalty_row(CF_WSH="安市监罚〔2025〕重复甲号")
    rows = [first, penalty_row(), penalty_row(CF_WSH="安市监罚〔2025〕重复甲号")]

    result = import_csv(rows)

    assert errors(db_session, result.batch_id) == [(4, "CF_WSH", "duplicate-doc-no")]
    assert (result.created, result.rejected) == (2, 1)
    stored = db_session.scalar(select(Record).where(Record.doc_no == "安市监罚〔2025〕重复甲号"))
    assert stored is not None
    assert stored.subject_name == first["CF_XDR_MC"]


def test_duplicate_doc_no_across_chunks(db_session, import_csv, settings):
    rows = [
        penalty_row(CF_WSH="安市监罚〔2025〕重复乙号"),
        penalty_row(),
        penalty_row(),
        penalty_row(CF_WSH="安市监罚〔2025〕重复乙号"),
    ]

    result = import_csv(rows, settings_=settings.model_copy(update={"import_chunk_rows": 2}))

    assert errors(db_session, result.batch_id) == [(5, "CF_WSH", "duplicate-doc-no")]
    assert (result.created, result.rejected) == (3, 1)


def test_unknown_column_is_a_warning_and_not_stored(db_session, import_csv):
    result = import_csv([penalty_row(内部备注="仅供内部"), penalty_row(内部备注="")])

    assert warnings(db_session, result.batch_id) == [(1, "内部备注", "unknown-column")]
    assert errors(db_session, result.batch_id) == []
    assert result.created == 2
    payloads = db_session.scalars(select(Record.payload).where(Record.batch_id == result.batch_id)).all()
    assert all("内部备注" not in p for p in payloads)


def test_a_very_long_unknown_header_is_reported_not_a_crash(db_session, import_csv):
    header = "系统导出附加说明列" * 12  # 108 characters, longer than any column name the report stores

    result = import_csv([{**penalty_row(), header: "x"}])

    assert result.status == "completed"
    assert result.created == 1
    [problem] = service.iter_problems(db_session, result.batch_id)
    assert (problem.row, problem.code) == (1, "unknown-column")
    assert header.startswith(problem.column or "-")
    assert problem.value == header


def test_missing_required_column_rejects_the_whole_file(db_session, import_csv, dept):
    rows = [penalty_row(), penalty_row()]
    for row in rows:
        del row["CF_SY"]

    result = import_csv(rows)

    assert result.failure is not None
    assert result.failure["code"] == "missing-column"
    assert "违法事实（CF_SY）" in result.failure["message"]
    assert problems(db_session, result.batch_id) == [(0, None, "missing-column")]
    stored = batch(db_session, result.batch_id)
    assert (stored.status.value, stored.rows_read, stored.created) == ("failed", 0, 0)
    assert record_count(db_session, dept) == 0


HOSTILE_FORMULA = "=cmd|' /C calc'!A0"
HOSTILE_SCRIPT = "<script>alert('信用')</script>"


def test_hostile_text_is_stored_as_text_and_neutralised_in_the_problems_csv(db_session, import_csv):
    rows = [
        penalty_row(CF_SY=HOSTILE_SCRIPT, CF_BZ=HOSTILE_FORMULA),
        penalty_row(CF_XDR_LB=HOSTILE_FORMULA),
        penalty_row(CF_XDR_LB=HOSTILE_SCRIPT),
    ]

    result = import_csv(rows)

    assert errors(db_session, result.batch_id) == [
        (3, "CF_XDR_LB", "invalid-value"),
        (4, "CF_XDR_LB", "invalid-value"),
    ]
    record = db_session.scalar(select(Record).where(Record.batch_id == result.batch_id))
    assert record is not None
    assert (record.payload["CF_SY"], record.payload["CF_BZ"]) == (HOSTILE_SCRIPT, HOSTILE_FORMULA)

    buffer = io.StringIO()
    assert report.write_problems_csv(db_session, result.batch_id, buffer) == 2
    lines = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert lines[0] == report.CSV_HEADER
    assert lines[1][:6] == ["3", "CF_XDR_LB", "行政相对人类别", "错误", "invalid-value", "'" + HOSTILE_FORMULA]
    assert lines[2][5] == HOSTILE_SCRIPT  # a CSV is not HTML: kept as text, a spreadsheet does not run it
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)


def test_a_person_with_a_long_foreign_document_number(db_session, import_csv):
    number = "HK-PERMIT-2025-000012345678"
    row = person_row(CF_XDR_MC="JOHN SMITH", CF_XDR_ZJLX="港澳居民来往内地通行证", CF_XDR_ZJHM=number)

    result = import_csv([row])

    assert errors(db_session, result.batch_id) == []
    assert result.created == 1
    dump = _dump(db_session, ["records", "subjects", "batch_problems"])
    assert "HKPERMIT2025000012345678" not in dump
    assert number not in dump
    again = import_csv([row])
    assert again.unchanged == 1


def test_an_id_number_in_a_code_column_is_masked_and_not_stored(db_session, import_csv):
    owner_id_15 = PERSON_ID[:6] + PERSON_ID[8:17]  # the first-generation form of the same card
    org_based_tax_number = "330521" + company_code(960)[8:17]
    rows = [
        penalty_row(CF_XDR_LB="个体工商户", CF_XDR_SHXYM=individual_code(960), CF_XDR_SWDJ=PERSON_ID),
        penalty_row(CF_XDR_LB="个体工商户", CF_XDR_SHXYM=individual_code(961), CF_XDR_SWDJ=owner_id_15),
        penalty_row(CF_XDR_SWDJ=org_based_tax_number),
        person_row(CF_XDR_SHXYM=PERSON_ID),
        person_row(CF_XDR_ZZJG=owner_id_15, CF_XDR_ZJHM=LEGAL_REP_ID),
    ]

    result = import_csv(rows)

    assert problems(db_session, result.batch_id) == [
        (2, "CF_XDR_SWDJ", "id-number-misplaced"),
        (3, "CF_XDR_SWDJ", "id-number-misplaced"),
        (5, "CF_XDR_SHXYM", "id-number-misplaced"),
        (6, "CF_XDR_ZZJG", "id-number-misplaced"),
    ]
    assert errors(db_session, result.batch_id) == [
        (5, "CF_XDR_SHXYM", "id-number-misplaced"),
        (6, "CF_XDR_ZZJG", "id-number-misplaced"),
    ]
    assert (result.created, result.rejected) == (3, 2)
    stored = db_session.scalars(
        select(Record).where(Record.batch_id == result.batch_id).order_by(Record.id)
    ).all()
    assert [("CF_XDR_SWDJ" in r.payload) for r in stored] == [False, False, True]
    assert stored[2].payload["CF_XDR_SWDJ"] == org_based_tax_number
    dump = _dump(db_session, ["records", "subjects", "batch_problems"])
    assert PERSON_ID not in dump
    assert owner_id_15 not in dump


def test_a_full_id_number_is_never_stored_in_clear(db_session, import_csv, import_json, engine):
    rows = [
        person_row(),
        person_row(CF_XDR_ZJHM=BAD_ID, CF_WSH="安市监罚〔2025〕坏号"),
        penalty_row(CF_FR_ZJLX="身份证", CF_FR_ZJHM=LEGAL_REP_ID),
        penalty_row(CF_FR_ZJLX="身份证", CF_FR_ZJHM=_wrong_check(LEGAL_REP_ID)),
    ]
    result = import_csv(rows)
    again = import_json([person_row(CF_SY="更正后的违法事实", CF_WSH=rows[0]["CF_WSH"])])

    assert errors(db_session, result.batch_id) == [
        (3, "CF_XDR_ZJHM", "id-checksum"),
        (5, "CF_FR_ZJHM", "id-checksum"),
    ]
    assert (result.created, again.updated) == (2, 1)
    dump = _dump(db_session, ["records", "record_versions", "batch_problems", "subjects", "batches"])
    for clear in (PERSON_ID, BAD_ID, LEGAL_REP_ID, _wrong_check(LEGAL_REP_ID)):
        assert clear not in dump
        assert clear[6:14] + clear[14:] not in dump  # not even the birth date with the sequence
    assert PERSON_ID[:4] + "*" * 10 + PERSON_ID[-4:] in dump  # the masked form is what is shown
    document = report.result_document(db_session, result)
    assert PERSON_ID not in str(document)
    assert BAD_ID not in str(document)


def _dump(session, tables: list[str]) -> str:  # type: ignore[no-untyped-def]
    parts = []
    for table in tables:
        for row in session.execute(text(f"SELECT * FROM {table}")):
            parts.append(repr(tuple(row)))
    return "\n".join(parts)


def test_a_mistyped_id_number_in_a_code_column_is_still_masked(db_session, import_csv):
    result = import_csv([penalty_row(CF_XDR_SHXYM="110105194912310021")])  # ID-shaped, wrong check digit
    values = [p.value for p in service.iter_problems(db_session, result.batch_id)]
    assert values
    assert "110105194912310021" not in values
    assert "1101**********0021" in values
