"""ID numbers typed into free text: masked in what is published and stored, sealed for the subject, and the
department told (id-number-in-text); a 文书号 that holds one is masked too, without two documents ever
becoming one."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from tests.factories.records import company_code, license_row, penalty_row, write_rows
from tests.functional.records.helpers import errors, warnings

from xinyong.codes import make_id_number
from xinyong.protect import Protector
from xinyong.records import report, service
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

ID = make_id_number("330521", date(1980, 5, 17), "123")
FULL_WIDTH = ID.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
MASKED = ID[:4] + "*" * 10 + ID[-4:]


def _same_mask_as(number: str) -> str:
    """Another valid ID number that masks to the same text: same first 4, same sequence and check digit."""
    for day in range(1, 200):
        other = make_id_number(number[:6], date.fromordinal(date(1966, 1, 1).toordinal() + day), number[14:17])
        if other[-4:] == number[-4:]:
            return other
    raise AssertionError("none found")


def _stored(db_session, doc_no: str) -> Record:  # type: ignore[no-untyped-def]
    return db_session.scalars(select(Record).where(Record.doc_no == doc_no)).one()


def _opened(protector: Protector, record: Record) -> dict[str, str]:
    assert record.sealed
    return json.loads(protector.unseal(record.sealed))


def test_an_id_number_in_free_text_is_masked_sealed_and_reported(db_session, import_csv, protector):  # type: ignore[no-untyped-def]
    fact = f"经查，当事人雇用的张某（身份证号码{ID[:6]}\t{ID[6:]}）未持健康证上岗。"
    row = penalty_row(CF_SY=fact, CF_BZ=f"经办人{FULL_WIDTH}", CF_FRDB="张三")
    result = import_csv([row])
    assert result.rejected == 0
    record = _stored(db_session, row["CF_WSH"])
    assert record.payload["CF_SY"] == f"经查，当事人雇用的张某（身份证号码{MASKED}）未持健康证上岗。"
    assert record.payload["CF_BZ"] == f"经办人{MASKED}"
    assert _opened(protector, record) == {"CF_SY": fact, "CF_BZ": f"经办人{FULL_WIDTH}"}
    assert warnings(db_session, result.batch_id) == [(2, "CF_SY", "id-number-in-text"), (2, "CF_BZ", "id-number-in-text")]
    problem = next(service.iter_problems(db_session, result.batch_id))
    assert problem.value == MASKED
    assert problem.message.startswith(f"违法事实中含有身份证号码（{MASKED}），公示时已遮蔽，原文已加密保存")
    assert result.warnings == 2


def test_the_same_text_reported_again_is_unchanged(db_session, import_csv):  # type: ignore[no-untyped-def]
    row = penalty_row(CF_SY=f"当事人身份证号{ID}")
    import_csv([row])
    again = import_csv([row])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_names_and_legal_representatives_are_masked_in_the_subject_register(db_session, import_csv):  # type: ignore[no-untyped-def]
    row = penalty_row(CF_XDR_MC=f"安吉县{ID}商行", CF_FRDB=f"张三{ID}", CF_XDR_SHXYM=company_code(4401))
    assert import_csv([row]).rejected == 0
    subject = db_session.scalars(select(Subject).where(Subject.uscc == company_code(4401))).one()
    assert (subject.name, subject.legal_representative) == (f"安吉县{MASKED}商行", f"张三{MASKED}")
    assert _stored(db_session, row["CF_WSH"]).subject_name == f"安吉县{MASKED}商行"


def test_a_licence_number_that_is_an_id_number_is_masked(db_session, import_csv, protector):  # type: ignore[no-untyped-def]
    row = license_row(XK_XKBH=ID, XK_ZT=ID)  # 当前状态 keeps unknown values, with a warning
    result = import_csv([row], record_type="license")
    record = _stored(db_session, row["XK_WSH"])
    assert (record.payload["XK_XKBH"], record.payload["XK_ZT"]) == (MASKED, MASKED)
    assert _opened(protector, record) == {"XK_XKBH": ID, "XK_ZT": ID}
    assert warnings(db_session, result.batch_id) == [
        (2, "XK_XKBH", "id-number-in-text"), (2, "XK_ZT", "invalid-value"), (2, "XK_ZT", "id-number-in-text"),
    ]  # fmt: skip


def test_a_doc_no_with_an_id_number_is_stored_masked_and_found_by_its_clear_text(db_session, import_csv, dept):  # type: ignore[no-untyped-def]
    doc_no = f"安市监罚〔2025〕{ID}号"
    import_csv([penalty_row(CF_WSH=doc_no)])
    record = _stored(db_session, f"安市监罚〔2025〕{MASKED}号")
    revoked = service.revoke_record(db_session, department=dept, record_type="penalty", doc_no=doc_no,
                                    reason=f"重复上报（经办人{ID}）", actor="test")  # fmt: skip
    assert revoked.id == record.id
    assert revoked.revoke_reason == f"重复上报（经办人{MASKED}）（test）"


def test_two_doc_nos_that_differ_only_in_hidden_digits_never_overwrite_each_other(db_session, import_csv, protector):  # type: ignore[no-untyped-def]
    other = _same_mask_as(ID)
    assert other != ID
    first = penalty_row(CF_WSH=f"安市监罚〔2025〕{ID}号", CF_SY="第一份决定")
    import_csv([first])
    second = penalty_row(CF_WSH=f"安市监罚〔2025〕{other}号", CF_SY="第二份决定")
    result = import_csv([second])
    assert errors(db_session, result.batch_id) == [(2, "CF_WSH", "doc-no-ambiguous")]
    record = _stored(db_session, f"安市监罚〔2025〕{MASKED}号")
    assert record.payload["CF_SY"] == "第一份决定"
    # The first document itself, corrected, is still an update.
    corrected = dict(first, CF_SY="第一份决定（更正）")
    assert import_csv([corrected]).updated == 1
    assert _opened(protector, _stored(db_session, f"安市监罚〔2025〕{MASKED}号"))["CF_WSH"] == first["CF_WSH"]


def test_in_one_file_the_second_of_two_such_doc_nos_is_rejected(db_session, import_csv):  # type: ignore[no-untyped-def]
    rows = [penalty_row(CF_WSH=f"安市监罚〔2025〕{ID}号"), penalty_row(CF_WSH=f"安市监罚〔2025〕{_same_mask_as(ID)}号")]
    result = import_csv(rows)
    assert errors(db_session, result.batch_id) == [(3, "CF_WSH", "duplicate-doc-no")]
    message = next(service.iter_problems(db_session, result.batch_id, severity="error")).message
    assert message.startswith("决定文书号遮蔽其中的身份证号码后与第 2 行相同")


def test_codes_that_hold_an_id_number_are_dropped(db_session, import_csv):  # type: ignore[no-untyped-def]
    mistyped = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    row = penalty_row(CF_XDR_SHZZ=f"民证字{ID}", CF_XDR_SWDJ=mistyped, CF_XDR_SHXYM=company_code(4402))
    result = import_csv([row])
    assert result.rejected == 0
    assert sorted(warnings(db_session, result.batch_id)) == [(2, "CF_XDR_SHZZ", "id-number-misplaced"),
                                                              (2, "CF_XDR_SWDJ", "id-number-misplaced")]  # fmt: skip
    subject = db_session.scalars(select(Subject).where(Subject.uscc == company_code(4402))).one()
    assert (subject.social_org_cert, subject.tax_number) == (None, None)
    assert {"CF_XDR_SHZZ", "CF_XDR_SWDJ"}.isdisjoint(_stored(db_session, row["CF_WSH"]).payload)


def test_rejected_cells_are_reported_with_their_id_numbers_masked(db_session, import_csv, tmp_path):  # type: ignore[no-untyped-def]
    # The cut to 200 characters falls inside the number: it is masked before the cut, never cut in half.
    long_text = "甲" * 190 + ID
    rows = [penalty_row(CF_JDRQ=f"{ID[:6]} {ID[6:]}"), penalty_row(CF_CFLB=f"罚款;{ID}"),
            license_row(XK_XKBH=long_text)]  # fmt: skip
    result = import_csv(rows[:2])
    license_result = import_csv(rows[2:], record_type="license")
    shown = [(p.code, p.value, p.message) for b in (result, license_result)
             for p in service.iter_problems(db_session, b.batch_id)]  # fmt: skip
    assert [code for code, _, _ in shown] == ["invalid-date", "invalid-value", "too-long"]
    assert shown[0][1] == MASKED
    assert MASKED in shown[0][2]
    assert MASKED in shown[1][2]
    assert shown[2][1] == "甲" * 190 + MASKED[:10]
    for _, value, message in shown:
        assert ID[4:14] not in value + message
    exported = tmp_path / "problems.csv"
    with exported.open("w", encoding="utf-8") as handle:
        report.write_problems_csv(db_session, result.batch_id, handle)
    assert ID[4:14] not in exported.read_text(encoding="utf-8")


def test_a_file_name_and_an_unknown_header_are_masked(db_session, import_csv, tmp_path):  # type: ignore[no-untyped-def]
    path = write_rows(tmp_path / f"{ID}处罚.csv", [penalty_row() | {f"备注{ID}": "x"}])
    result = import_csv([], path=path)
    batch = service.get_batch(db_session, result.batch_id)
    assert batch.filename == f"{MASKED}处罚.csv"
    problem = next(service.iter_problems(db_session, result.batch_id))
    assert (problem.code, problem.column, problem.value) == ("unknown-column", f"备注{MASKED}", f"备注{MASKED}")
    assert ID not in problem.message
