"""Pure rules of objections: the transition table and outcomes."""

from __future__ import annotations

from xinyong.errors import InvalidTransition
from xinyong.objections.models import ObjectionStatus

St = ObjectionStatus

TRANSITIONS: dict[tuple[ObjectionStatus, str], ObjectionStatus] = {
    (St.OPEN, "correct"): St.CORRECTED,  # the department re-reported a corrected version
    (St.OPEN, "revoke"): St.REVOKED,  # the department revoked the record (records.service.revoke_record)
    (St.OPEN, "uphold"): St.UPHELD,  # the record stands, with reasons
    (St.OPEN, "withdraw"): St.WITHDRAWN,  # the subject withdraws
}
ACTION_LABELS = {"correct": "更正", "revoke": "撤销记录", "uphold": "维持", "withdraw": "撤回"}
OUTCOMES = ("correct", "revoke", "uphold")


def next_status(status: ObjectionStatus, action: str) -> ObjectionStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(state=status.label, action=ACTION_LABELS.get(action, action)) from None
