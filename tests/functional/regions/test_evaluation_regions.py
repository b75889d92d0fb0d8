"""A subject's evaluation explained to a county's console accounts: the grade is the city's (every county's records
count), but the records made in another county are only counted — "其他区县记录 N 条" with their points — never
named by 文书号 or department, neither in the indicators nor in what would change the grade. The city sees all."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.fixtures.regions import Regional

from xinyong.config import Settings
from xinyong.protect import Protector

TODAY = date(2025, 10, 20)
DEQING_DOC, CHANGXING_DOC = "德市监罚〔2025〕71号", "长市监罚〔2024〕72号"


def _fined(db_session: Session, settings: Settings, protector: Protector, regional: Regional) -> tuple[str, str]:
    """One company fined in 德清县 (一般, this year) and in 长兴县 (严重, more than a year ago)."""
    lf.load_types(db_session, regional.accounts.dept_a, regional.dept_c)
    ef.load_builtin_model(db_session, settings)
    company = ef.company(41)
    ef.penalty(db_session, settings, protector, regional.accounts.dept_a, company, tier="一般", decided=date(2025, 6, 2),
               today=TODAY, doc_no=DEQING_DOC)  # fmt: skip
    ef.penalty(db_session, settings, protector, regional.dept_c, company, tier="严重", decided=date(2024, 9, 2),
               today=TODAY, doc_no=CHANGXING_DOC)  # fmt: skip
    db_session.commit()
    return company


def _run(db_session: Session, settings: Settings, company: tuple[str, str]) -> int:
    run = ef.run(db_session, settings, TODAY)
    assert run.status == "completed"
    db_session.commit()
    return ef.subject_id(db_session, company[0])


@pytest.fixture
def evaluated(db_session: Session, console_settings: Settings, protector: Protector, regional: Regional) -> int:
    """The fined company's id, after one evaluation run."""
    return _run(db_session, console_settings, _fined(db_session, console_settings, protector, regional))


def _page(sign_in, user, subject_id: int) -> str:  # type: ignore[no-untyped-def]
    page = sign_in(user).get(f"/admin/evaluation/subjects/{subject_id}")
    assert page.status_code == 200
    return page.text


def test_the_city_sees_every_record_by_name(evaluated, regional, sign_in) -> None:  # type: ignore[no-untyped-def]
    subject_id = evaluated
    text = _page(sign_in, regional.users["platform_admin"], subject_id)
    assert DEQING_DOC in text
    assert CHANGXING_DOC in text
    assert "其他区县记录" not in text


@pytest.mark.parametrize(("viewer", "own", "other"), [
    ("county_admin", DEQING_DOC, CHANGXING_DOC),  # 德清县's 信用办
    ("operator", DEQING_DOC, CHANGXING_DOC),  # a 德清县 department's operator
    ("county_auditor_c", CHANGXING_DOC, DEQING_DOC),  # 长兴县's auditor
])  # fmt: skip
def test_a_county_sees_the_other_countys_records_only_counted(evaluated, regional, sign_in, viewer, own, other) -> None:  # type: ignore[no-untyped-def]
    subject_id = evaluated
    city = _page(sign_in, regional.users["platform_admin"], subject_id)
    text = _page(sign_in, regional.users[viewer], subject_id)
    assert own in text
    assert other not in text
    assert "其他区县记录 1 条（合计 " in text
    assert "其他区县记录 1 条 不再计入" in text  # what would change the grade: counted, not named
    # The same grade and score as the city's: the grade is one for the platform.
    grade = city[city.index('data-testid="grade"'):city.index("</dl>")]
    assert grade in text


def test_the_hidden_records_points_and_prospects_are_counted_not_named(db_session, evaluated, regional,
                                                                        console_settings) -> None:  # type: ignore[no-untyped-def]
    from xinyong.auth.service import actor_for_user
    from xinyong.evaluation import explain
    from xinyong.subjects.models import Subject

    subject_id = evaluated
    subject = db_session.get(Subject, subject_id)
    everything = explain.explain(db_session, subject, settings=console_settings, today=TODAY)
    county = explain.explain_for(db_session, subject, actor=actor_for_user(regional.users["county_admin"]),
                                 settings=console_settings, today=TODAY)  # fmt: skip
    assert everything is not None
    assert county is not None
    assert (county.score, county.grade.symbol) == (everything.score, everything.grade.symbol)
    points = {e.doc_no: e.points for v in everything.indicators for e in v.evidence}
    assert [(v.others, v.others_points) for v in county.indicators if v.others] == [(1, points[CHANGXING_DOC])]
    assert all(e.doc_no != CHANGXING_DOC for v in county.indicators for e in v.evidence)
    told = " ".join(p.reason for p in (*county.repairs, *county.expiries))
    assert CHANGXING_DOC not in told
    assert all(CHANGXING_DOC not in p.doc_nos for p in (*county.repairs, *county.expiries))
    assert any(CHANGXING_DOC in p.doc_nos for p in everything.repairs)  # repairable now: 严重, over a year old
    assert "其他区县记录 1 条完成信用修复（停止公示）" in told




def test_another_countys_list_entry_is_counted_not_named(db_session, console_settings, protector, regional,  # type: ignore[no-untyped-def]
                                                         sign_in) -> None:
    company = _fined(db_session, console_settings, protector, regional)
    entry = lf.listed(db_session, console_settings, protector, regional.dept_c, company[0], today=TODAY,
                      type_key="watch")  # fmt: skip
    subject_id = _run(db_session, console_settings, company)
    city = _page(sign_in, regional.users["platform_admin"], subject_id)
    assert entry.decision_no in city
    county = _page(sign_in, regional.users["county_admin"], subject_id)
    assert entry.decision_no not in county
    assert county.count('data-testid="other-regions"') == 2  # the 长兴县 penalty and the 长兴县 listing
    changxing = _page(sign_in, regional.users["county_auditor_c"], subject_id)
    assert entry.decision_no in changxing
