from __future__ import annotations

from datetime import date

import pytest

from xinyong.calendar.rules import WorkdayCalendar
from xinyong.errors import InvalidInput, InvalidTransition
from xinyong.lists import rules
from xinyong.lists.models import EntryState
from xinyong.lists.rules import TRANSITIONS, Action, Facts

S = EntryState


def test_the_table_is_the_procedure():
    assert rules.next_state(None, Action.PROPOSE) is S.PROPOSED
    path = [(S.PROPOSED, Action.NOTIFY), (S.NOTIFIED, Action.OBJECT), (S.OBJECTED, Action.DECIDE),
            (S.DECIDED, Action.PUBLISH), (S.PUBLISHED, Action.EXPIRE)]  # fmt: skip
    for state, action in path:
        rules.next_state(state, action)
    for final in rules.FINAL_STATES:
        assert rules.allowed_actions(final) == []
        with pytest.raises(InvalidTransition, match="已结束"):
            rules.next_state(final, Action.NOTIFY)
    # nothing skips the notice or the decision
    assert (Action.DECIDE, S.PROPOSED) not in TRANSITIONS
    assert (Action.PUBLISH, S.NOTIFIED) not in TRANSITIONS


def test_guards():
    notified = Facts(S.NOTIFIED, date(2025, 10, 27), None, None)
    rules.check_guards(notified, Action.OBJECT, date(2025, 10, 27))
    with pytest.raises(InvalidTransition, match="届满"):
        rules.check_guards(notified, Action.OBJECT, date(2025, 10, 28))
    with pytest.raises(InvalidTransition, match="届满后方可"):
        rules.check_guards(notified, Action.DECIDE, date(2025, 10, 27))
    rules.check_guards(notified, Action.DECIDE, date(2025, 10, 28))
    objected = Facts(S.OBJECTED, date(2025, 10, 27), "不服", None)
    with pytest.raises(InvalidTransition, match="答复"):
        rules.check_guards(objected, Action.DECIDE, date(2025, 10, 28), answer="  ")
    rules.check_guards(objected, Action.DECIDE, date(2025, 10, 28), answer="经核实，不予采纳")


def test_deadlines_follow_the_state_council_calendar():
    calendar = WorkdayCalendar()
    # decided on Mon 2025-09-29: the National Day holiday, then the 调休 Saturday 10-11 counts
    assert rules.publish_deadline(calendar, date(2025, 9, 29)) == date(2025, 10, 15)
    assert rules.objection_deadline(calendar, date(2025, 9, 30), 5) == date(2025, 10, 14)


def test_validity_and_in_force():
    assert rules.validity_end(date(2025, 1, 31), 1) == date(2025, 2, 27)
    assert rules.validity_end(date(2025, 10, 28), 36) == date(2028, 10, 27)
    assert rules.validity_end(date(2025, 10, 28), None) is None
    assert rules.is_in_force(S.PUBLISHED, date(2025, 1, 1), date(2025, 12, 31), date(2025, 12, 31))
    assert not rules.is_in_force(S.PUBLISHED, date(2025, 1, 1), date(2025, 12, 31), date(2026, 1, 1))
    assert not rules.is_in_force(S.DECIDED, date(2025, 1, 1), None, date(2025, 6, 1))


def test_type_spec_needs_a_basis():
    good = {"key": "x", "name": "某名单", "legal_basis": "某法第一条", "nature": "watch", "entry_criteria": "a",
            "exit_conditions": "b", "remedy_route": "c", "duration_months": 12}  # fmt: skip
    rules.check_type_spec(**good)
    with pytest.raises(InvalidInput, match="设立依据"):
        rules.check_type_spec(**{**good, "legal_basis": ""})
    with pytest.raises(InvalidInput, match="救济途径"):
        rules.check_type_spec(**{**good, "remedy_route": " "})


def test_texts_have_their_id_numbers_masked() -> None:
    assert rules.require_text("多次违法（负责人３３０５２１１９８００５１７１２３０）", "列入事由") == (
        "多次违法（负责人3305**********1230）"
    )
    assert rules.optional_text("  ") is None
    assert rules.optional_text("依据 330521198005171230") == "依据 3305**********1230"
