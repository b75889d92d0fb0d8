"""Hostile text in the 信用办's own fields of 信易贷 and 信易+: an ID number typed into a name is masked before it
is kept; a subject name that reads as a formula stays text in the whitelist CSV, full-width signs included."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from tests.factories.records import company_code
from tests.fixtures.incentives import SYSTEM

from xinyong.codes import make_id_number
from xinyong.finance import service
from xinyong.finance.models import Institution, WhitelistFeed
from xinyong.scenarios.models import Scenario

ID_NUMBER = make_id_number("330521", date(1980, 5, 17), "123")


def test_an_id_number_in_an_institution_or_scenario_name_is_masked(db_session, scenario) -> None:  # type: ignore[no-untyped-def]
    service.register_institution(db_session, code=company_code(90101), name=f"某银行<script>{ID_NUMBER}</script>",
                                 purposes=["流动资金"], min_amount="1", max_amount="100", actor=SYSTEM)  # fmt: skip
    scenario("xinyi-zu", name=f"信易租{ID_NUMBER}", provider=f"某局{ID_NUMBER}")
    db_session.commit()
    institution = db_session.scalar(select(Institution).where(Institution.code == company_code(90101)))
    kept = db_session.scalar(select(Scenario).where(Scenario.key == "xinyi-zu"))
    for text in (institution.name, kept.name, kept.provider):
        assert ID_NUMBER not in text
        assert ID_NUMBER[:4] in text  # masked, not dropped: the rest of the name stays
    assert "<script>" in institution.name  # kept as text; pages escape it (the templates autoescape)


def test_the_whitelist_csv_never_holds_a_formula() -> None:
    names = ["=HYPERLINK(\"http://x\",\"y\")", "+SUM(1,1)", "-2+3", "@cmd", "＝1+1", "＋1", "正常名称有限公司"]
    feed = WhitelistFeed(version=1, as_of=date(2025, 10, 20), rule={"grades": ["A"]},
                         entries=[{"code": company_code(90200 + n), "name": name, "grade": "A"}
                                  for n, name in enumerate(names)])  # fmt: skip
    lines = service.feed_csv(feed).lstrip("\ufeff").splitlines()[1:]
    cells = [line.split(",", 3)[3] for line in lines]
    assert all(cell.lstrip('"').startswith("'") for cell in cells[:-1]), cells
    assert cells[-1].startswith("正常名称有限公司")
