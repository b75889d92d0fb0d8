"""Lists sent down by edition: a court's 失信被执行人 applies its measure in a check, and a new edition without
an entry ends it; old codes are matched by name or held for review; bad files are refused or reported."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.factories import lists as lf
from tests.factories import records as rf
from tests.factories.records import company_code

from xinyong.actors import Actor, Permission
from xinyong.checks import service as checks
from xinyong.codes import make_uscc
from xinyong.exchange import downward
from xinyong.exchange.models import ListReview
from xinyong.lists import imports
from xinyong.lists.models import EntryState, ListEntry
from xinyong.subjects.models import SubjectKind
from xinyong.subjects.service import SubjectRef, SubjectResolver

TODAY = date(2025, 10, 20)
TYPE = "court-dishonest-debtors"
HEADER = "被执行人姓名/名称,统一社会信用代码,案号,列入日期,失信情形,执行法院\n"
ORG_CODE = make_uscc("9", "1", "330521", "47110002")[8:17]  # a valid 组织机构代码 (positions 9–17 of a USCC)


@pytest.fixture
def dept(db_session):  # type: ignore[no-untyped-def]
    department = rf.department(db_session)
    lf.load_types(db_session, department)
    return department


def _line(n: int, *, name: str | None = None, code: str | None = None, case: str | None = None) -> str:
    return (f"{name or f'安吉县被执行{n}号有限公司'},{code or company_code(700 + n)},{case or f'（2025）浙0523执{n}号'},"
            f"2025-09-01,有履行能力而拒不履行生效法律文书确定义务,安吉县人民法院\n")  # fmt: skip


def _file(tmp_path: Path, name: str, *lines: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _apply(db_session, settings, protector, dept, path, edition, source="人民法院"):  # type: ignore[no-untyped-def]
    return downward.apply_edition(db_session, path, type_key=TYPE, department=dept, source=source, edition_on=edition,
                                  actor=lf.SYSTEM, settings=settings, protector=protector, today=TODAY)  # fmt: skip


def _check(db_session, settings, protector, dept, code):  # type: ignore[no-untyped-def]
    actor = Actor(label="api-key:test", kind="api-key", permissions=frozenset({Permission.API_CHECKS_WRITE}),
                  department_id=dept.id, is_department_bound=True)  # fmt: skip
    return checks.run_check(db_session, checks.CheckItem(code=code), matter="政府采购", actor=actor,
                            settings=settings, protector=protector, today=TODAY)  # fmt: skip


def test_an_edition_applies_its_measure_and_the_next_one_ends_what_it_drops(db_session, settings, protector, dept,
                                                                            tmp_path) -> None:  # fmt: skip
    lf.measure(db_session, settings, list_types=(TYPE,), content="限制参加政府采购活动（失信被执行人）")
    first = _apply(db_session, settings, protector, dept, _file(tmp_path, "e1.csv", _line(1), _line(2)),
                   date(2025, 10, 1))  # fmt: skip
    assert (first.status, first.created, first.ended) == ("completed", 2, 0)
    doc = _check(db_session, settings, protector, dept, company_code(701))
    assert [m["list_type"] for m in doc["memberships"]] == [TYPE]
    assert [m["content"] for m in doc["measures"]] == ["限制参加政府采购活动（失信被执行人）"]
    entry = db_session.scalar(select(ListEntry).where(ListEntry.source_ref == "（2025）浙0523执1号"))
    assert (entry.source, entry.valid_from) == ("安吉县人民法院", date(2025, 9, 1))

    second = _apply(db_session, settings, protector, dept, _file(tmp_path, "e2.csv", _line(2), _line(3)),
                    date(2025, 10, 15))  # fmt: skip
    assert (second.created, second.unchanged, second.ended) == (1, 1, 1)
    db_session.refresh(entry)
    assert entry.state is EntryState.REMOVED
    assert entry.exit_reason == "人民法院 2025-10-15 版名单中已不再列出"
    doc = _check(db_session, settings, protector, dept, company_code(701))
    assert doc["measures"] == []
    assert doc["memberships"] == []
    assert _check(db_session, settings, protector, dept, company_code(702))["measures"]


def test_bad_editions(db_session, settings, protector, dept, tmp_path) -> None:
    good = _file(tmp_path, "good.csv", _line(11))
    with pytest.raises(downward.OtherSource, match="与名单“失信被执行人名单”的来源“人民法院”不一致"):
        _apply(db_session, settings, protector, dept, good, date(2025, 10, 1), source="国家税务总局")
    assert db_session.scalar(select(ListEntry).where(ListEntry.source_ref == "（2025）浙0523执11号")) is None
    _apply(db_session, settings, protector, dept, good, date(2025, 10, 10))
    with pytest.raises(downward.OlderEdition, match="已应用 2025-10-10 的版本"):
        _apply(db_session, settings, protector, dept, good, date(2025, 10, 1))
    # duplicates and unknown codes: reported rows, the rest applied, and nothing listed in the file ends
    messy = _file(tmp_path, "messy.csv", _line(11), _line(12, case="（2025）浙0523执11号"),
                  _line(13, code="12345"), _line(14))  # fmt: skip
    outcome = _apply(db_session, settings, protector, dept, messy, date(2025, 10, 12))
    assert (outcome.rows, outcome.created, outcome.unchanged, outcome.rejected, outcome.ended) == (4, 1, 1, 2, 0)
    codes = sorted(p.code for p in imports.problems_of(db_session, outcome.import_id))
    assert codes == ["duplicate-doc-no", "invalid-code"]


def test_old_codes_are_matched_by_name_or_held_for_review(db_session, settings, protector, dept, tmp_path) -> None:
    resolver = SubjectResolver(session=db_session, protector=protector)
    ref = SubjectRef(kind=SubjectKind.ORGANISATION, name="安吉县老代码竹业有限公司", uscc=company_code(799), org_code=ORG_CODE)  # fmt: skip
    subject_id = resolver.resolve([ref])[resolver.key_of(ref)].subject_id
    lines = (_line(21, name="安吉县老代码竹业有限公司", code=ORG_CODE),
             _line(22, name="另一家竹业有限公司", code=ORG_CODE))  # fmt: skip
    outcome = _apply(db_session, settings, protector, dept, _file(tmp_path, "old.csv", *lines), date(2025, 10, 1))
    assert (outcome.created, outcome.in_review) == (1, 1)
    matched = db_session.scalar(select(ListEntry).where(ListEntry.source_ref == "（2025）浙0523执21号"))
    assert matched.subject_id == subject_id
    (review,) = downward.pending_reviews(db_session)
    assert review.reason == "旧代码对应的主体名称与文件中的名称不一致"
    assert review.candidates == [subject_id]
    resolved = downward.resolve_review(db_session, review.id, code=company_code(798), dismiss=False, actor=lf.SYSTEM,
                                       protector=protector, today=TODAY)  # fmt: skip
    assert resolved is not None
    assert resolved.created == 1
    assert db_session.get(ListReview, review.id).state == "applied"



def test_the_command_line(make_platform, tmp_path) -> None:  # type: ignore[no-untyped-def]
    platform = make_platform()
    platform.run("departments", "add", "--code", rf.DEPT_CODE, "--name", "安吉县人民法院")
    platform.run("lists", "load-types")
    platform.run("lists", "set-deciders", TYPE, rf.DEPT_CODE)
    path = _file(tmp_path, "court.csv", _line(31), _line(32))
    base = ("exchange", "lists", "apply", str(path), "--type", TYPE, "--department", rf.DEPT_CODE)
    wrong = platform.run(*base, "--source", "国家税务总局", "--edition", "2025-10-01", ok=False)
    assert wrong.exit_code == 1
    assert "来源“人民法院”不一致" in wrong.output
    bad_day = platform.run(*base, "--source", "人民法院", "--edition", "十月", ok=False)
    assert "版本日期“十月”格式不正确" in bad_day.output
    done = platform.run(*base, "--source", "人民法院", "--edition", "2025-10-01")
    assert "新增 2" in done.stdout
    assert "移出 0" in done.stdout
    again = platform.run(*base, "--source", "人民法院", "--edition", "2025-09-01", ok=False)
    assert "不能再应用更早的 2025-09-01 版本" in again.output
    assert platform.run("exchange", "lists", "reviews").exit_code == 0
