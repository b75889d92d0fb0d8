import pytest

from xinyong.errors import InvalidTransition
from xinyong.objections import rules
from xinyong.objections.models import ObjectionStatus


def test_only_open_objections_move() -> None:
    for outcome in (*rules.OUTCOMES, "withdraw"):
        assert rules.next_status(ObjectionStatus.OPEN, outcome) != ObjectionStatus.OPEN
        for closed in ObjectionStatus:
            if closed is not ObjectionStatus.OPEN:
                with pytest.raises(InvalidTransition):
                    rules.next_status(closed, outcome)
    with pytest.raises(InvalidTransition):
        rules.next_status(ObjectionStatus.OPEN, "approve")
