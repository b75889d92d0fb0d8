"""Imported lists from files: problems as data, idempotent re-import, exits marked in the file, the CLI."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from tests.factories import lists as lf
from tests.factories.records import company_code

from xinyong.lists import imports, service
from xinyong.lists.models import EntryState, ListEntry

TODAY = date(2025, 10, 20)
HEADER = "被执行人姓名/名称,统一社会信用代码,案号,列入日期,失信情形,执行法院,状态\n"


def _write(tmp_path, text, name="list.csv", encoding="utf-8"):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(HEADER + text, encoding=encoding)
    return path


def _import(db_session, settings, protector, dept, path):  # type: ignore[no-untyped-def]
    return imports.import_list_file(db_session, path, type_key="court-dishonest-debtors", department=dept,
                                    actor=lf.SYSTEM, settings=settings, protector=protector, today=TODAY)  # fmt: skip


def test_a_file_with_problems_keeps_its_good_rows(db_session, settings, protector, dept, tmp_path):
    rows = (f"安吉县被执行一号有限公司,{company_code(1)},（2025）浙0523执1号,2025-09-01,拒不履行,安吉县人民法院,\n"
            f"坏代码有限公司,12345,（2025）浙0523执2号,2025-09-01,拒不履行,,\n"
            f"未来日期有限公司,{company_code(3)},（2025）浙0523执3号,2099-01-01,拒不履行,,\n"
            f"重复案号有限公司,{company_code(4)},（2025）浙0523执1号,2025-09-01,拒不履行,,\n")  # fmt: skip
    outcome = _import(db_session, settings, protector, dept, _write(tmp_path, rows, encoding="gb18030"))
    assert (outcome.rows, outcome.created, outcome.rejected) == (4, 1, 3)
    codes = [p.code for p in imports.problems_of(db_session, outcome.import_id)]
    assert codes == ["invalid-code", "future-date", "duplicate-doc-no"]
    entry = db_session.scalar(select(ListEntry).where(ListEntry.import_id == outcome.import_id))
    assert (entry.state, entry.source, entry.valid_until) == (EntryState.PUBLISHED, "安吉县人民法院", None)
    assert service.memberships(db_session, [entry.subject_id], today=TODAY)[entry.subject_id][0].origin == "imported"
    assert "invalid-code" in imports.problems_csv(db_session, outcome.import_id)


def test_reimport_updates_and_exits(db_session, settings, protector, dept, tmp_path):
    line = f"安吉县被执行二号有限公司,{company_code(2)},（2025）浙0523执9号,2025-09-01,拒不履行,安吉县人民法院,"
    first = _import(db_session, settings, protector, dept, _write(tmp_path, line + "\n"))
    again = _import(db_session, settings, protector, dept, _write(tmp_path, line + "\n", name="b.csv"))
    assert (first.created, again.created, again.unchanged) == (1, 0, 1)
    ended = _import(db_session, settings, protector, dept, _write(tmp_path, line + "已移出\n", name="c.csv"))
    assert ended.updated + ended.unchanged == 1
    entry = db_session.scalar(select(ListEntry).where(ListEntry.source_ref == "（2025）浙0523执9号"))
    assert entry.state is EntryState.REMOVED


def test_a_file_without_required_columns_is_refused_and_reported(db_session, settings, protector, dept, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("名称,备注\n某公司,无\n", encoding="utf-8")
    outcome = _import(db_session, settings, protector, dept, path)
    assert outcome.status == "failed"
    assert "缺少必填列" in (outcome.failure or "")
    assert [p.code for p in imports.problems_of(db_session, outcome.import_id)] == ["missing-column"]


def test_local_types_cannot_be_imported(db_session, settings, protector, dept, tmp_path):
    import pytest

    from xinyong.errors import InvalidInput

    with pytest.raises(InvalidInput, match="列入程序"):
        imports.import_list_file(db_session, _write(tmp_path, ""), type_key="serious-dishonesty", department=dept,
                                 actor=lf.SYSTEM, settings=settings, protector=protector, today=TODAY)  # fmt: skip


def test_another_department_cannot_rewrite_or_end_an_imported_entry(db_session, settings, protector, dept, tmp_path):
    from tests.factories.records import OTHER_DEPT_CODE, department

    line = f"安吉县被执行三号有限公司,{company_code(5)},（2025）浙0523执21号,2025-09-01,拒不履行,安吉县人民法院,"
    _import(db_session, settings, protector, dept, _write(tmp_path, line + "\n"))
    other = department(db_session, code=OTHER_DEPT_CODE, name="安吉县另一部门")
    service.set_deciding_departments(db_session, "court-dishonest-debtors", codes=[dept.code, other.code],
                                     actor=lf.SYSTEM)  # two source departments, one case number  # fmt: skip
    hostile = f"改名有限公司,{company_code(6)},（2025）浙0523执21号,2025-09-01,篡改,某机关,已移出\n"
    outcome = _import(db_session, settings, protector, other, _write(tmp_path, hostile, name="hostile.csv"))
    assert (outcome.created, outcome.updated, outcome.rejected) == (0, 0, 1)
    assert [p.code for p in imports.problems_of(db_session, outcome.import_id)] == ["doc-no-of-other-department"]
    entry = db_session.scalar(select(ListEntry).where(ListEntry.source_ref == "（2025）浙0523执21号"))
    assert (entry.state, entry.department_id, entry.subject_name) == (EntryState.PUBLISHED, dept.id, "安吉县被执行三号有限公司")


def test_an_id_number_is_never_listed_as_an_organisation_nor_echoed_in_full(db_session, settings, protector, dept,
                                                                              tmp_path):  # fmt: skip
    header = "主体名称,统一社会信用代码/证件号码,主体类别,案号,列入日期,失信情形\n"
    rows = ("王某某,11010519491231002X,法人及非法人组织,（2025）浙0523执31号,2025-09-01,拒不履行\n"
            "李某某,110105194912310021,自然人,（2025）浙0523执32号,2025-09-01,拒不履行\n")  # fmt: skip
    path = tmp_path / "persons.csv"
    path.write_text(header + rows, encoding="utf-8")
    outcome = _import(db_session, settings, protector, dept, path)
    assert (outcome.created, outcome.rejected) == (0, 2)
    problems = imports.problems_of(db_session, outcome.import_id)
    assert [(p.row, p.code) for p in problems] == [(2, "kind-code-mismatch"), (3, "invalid-code")]
    report = imports.problems_csv(db_session, outcome.import_id)
    assert "110105194912310021" not in report
    assert "1101**********0021" in report


def test_id_numbers_in_free_text_are_masked_and_in_a_case_number_refuse_the_row(db_session, settings, protector, dept,
                                                                                 tmp_path):  # fmt: skip
    from xinyong.codes import make_id_number

    person = make_id_number("330521", date(1970, 1, 2), "318")
    masked = person[:4] + "*" * 10 + person[-4:]
    rows = (f"安吉县{person}商行,{company_code(31)},（2025）浙0523执31号,2025-09-01,拒不履行（经办人{person}）,"
            f"安吉县人民法院,\n"
            f"安吉县另一商行,{company_code(32)},（2025）浙0523执{person}号,2025-09-01,拒不履行,,\n")  # fmt: skip
    outcome = _import(db_session, settings, protector, dept, _write(tmp_path, rows))
    assert (outcome.created, outcome.rejected) == (1, 1)
    found = [(p.row, p.code, p.value) for p in imports.problems_of(db_session, outcome.import_id)]
    assert found == [(2, "id-number-in-text", masked), (2, "id-number-in-text", masked),
                     (3, "id-number-in-doc-no", f"（2025）浙0523执{masked}号")]  # fmt: skip
    entry = db_session.scalar(select(ListEntry).where(ListEntry.import_id == outcome.import_id))
    assert (entry.subject_name, entry.reasons) == (f"安吉县{masked}商行", f"拒不履行（经办人{masked}）")
