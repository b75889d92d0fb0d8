"""Pure rules of the listing procedure: the transition table, its guards, and the dates it sets.

The table is the whole procedure: an action not allowed from the current state raises InvalidTransition
and nothing changes. Guards add the conditions that depend on dates or on what was written (an objection
window still open, an objection not yet answered).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from xinyong.calendar.rules import WorkdayCalendar
from xinyong.codes import mask_id_numbers
from xinyong.errors import InvalidInput, InvalidTransition
from xinyong.lists.models import EntryState, ListNature
from xinyong.records.rules import add_months

PUBLISH_WORKDAYS = 7  # 国办发〔2020〕49号 practice: publication within 7 working days of the decision


class Action(enum.StrEnum):
    PROPOSE = "propose"
    NOTIFY = "notify"
    OBJECT = "object"
    DECIDE = "decide"
    WITHDRAW = "withdraw"
    PUBLISH = "publish"
    EXPIRE = "expire"
    REMOVE = "remove"
    IMPORT = "import"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.PROPOSE: "提出列入建议",
    Action.NOTIFY: "告知",
    Action.OBJECT: "提出异议",
    Action.DECIDE: "决定列入",
    Action.WITHDRAW: "决定不予列入",
    Action.PUBLISH: "公示",
    Action.EXPIRE: "期满自动移出",
    Action.REMOVE: "提前移出",
    Action.IMPORT: "导入（外部认定）",
}

S = EntryState
# (action, from state) → to state. `None` as the from state: the entry does not exist yet.
TRANSITIONS: dict[tuple[Action, EntryState | None], EntryState] = {
    (Action.PROPOSE, None): S.PROPOSED,
    (Action.IMPORT, None): S.PUBLISHED,
    (Action.NOTIFY, S.PROPOSED): S.NOTIFIED,
    (Action.OBJECT, S.NOTIFIED): S.OBJECTED,
    (Action.DECIDE, S.NOTIFIED): S.DECIDED,  # only once the objection window has closed
    (Action.DECIDE, S.OBJECTED): S.DECIDED,  # only with the objection answered
    (Action.WITHDRAW, S.PROPOSED): S.WITHDRAWN,
    (Action.WITHDRAW, S.NOTIFIED): S.WITHDRAWN,
    (Action.WITHDRAW, S.OBJECTED): S.WITHDRAWN,  # the objection upheld: answered too
    (Action.PUBLISH, S.DECIDED): S.PUBLISHED,
    (Action.EXPIRE, S.PUBLISHED): S.EXPIRED,
    (Action.REMOVE, S.PUBLISHED): S.REMOVED,
    (Action.REMOVE, S.DECIDED): S.REMOVED,  # a decision revoked before publication
}
FINAL_STATES = frozenset({S.EXPIRED, S.REMOVED, S.WITHDRAWN})


def allowed_actions(state: EntryState) -> list[Action]:
    return [action for (action, source) in TRANSITIONS if source == state]


def next_state(state: EntryState | None, action: Action) -> EntryState:
    """The state after `action`, or InvalidTransition saying what the state allows instead."""
    target = TRANSITIONS.get((action, state))
    if target is None:
        label = state.label if state else "（未创建）"
        options = "、".join(a.label for a in allowed_actions(state)) if state else ""
        hint = f"；当前可执行：{options}" if options else "；该名单记录已结束"
        raise InvalidTransition(f"当前状态“{label}”下不能执行“{action.label}”{hint}", state=label,
                                action=action.label)  # fmt: skip
    return target


def refuse(state: EntryState, action: Action, why: str) -> InvalidTransition:
    return InvalidTransition(f"当前不能执行“{action.label}”：{why}", state=state.label, action=action.label)


@dataclass(frozen=True)
class Facts:
    """What the guards need to know about an entry (no session)."""

    state: EntryState
    objection_deadline: date | None
    objection: str | None
    objection_answer: str | None


def check_guards(facts: Facts, action: Action, today: date, *, answer: str | None = None) -> None:
    """The date- and content-dependent conditions of a move allowed by the table."""
    if action is Action.OBJECT and facts.objection_deadline is not None and today > facts.objection_deadline:
        raise refuse(facts.state, action, f"异议期已于 {facts.objection_deadline.isoformat()} 届满")
    window_open = facts.objection_deadline is not None and today <= facts.objection_deadline
    if action is Action.DECIDE and facts.state is S.NOTIFIED and window_open:
        raise refuse(facts.state, action,
                     f"异议期至 {facts.objection_deadline.isoformat()} 止，届满后方可作出决定")  # type: ignore[union-attr]  # fmt: skip
    answered = bool((answer or facts.objection_answer or "").strip())
    if action in (Action.DECIDE, Action.WITHDRAW) and facts.state is S.OBJECTED and not answered:
        raise refuse(facts.state, action, "须先答复当事人的异议（写明采纳或不予采纳的理由）")


def objection_deadline(calendar: WorkdayCalendar, notified_on: date, workdays: int) -> date:
    """The last day to object: the N-th working day after the notice."""
    return calendar.add_workdays(notified_on, workdays)


def publish_deadline(calendar: WorkdayCalendar, decided_on: date, workdays: int = PUBLISH_WORKDAYS) -> date:
    return calendar.add_workdays(decided_on, workdays)


def validity_end(valid_from: date, duration_months: int | None) -> date | None:
    """Last day in force (inclusive): the duration counted from the decision; None when open-ended."""
    if not duration_months:
        return None
    return add_months(valid_from, duration_months) - timedelta(days=1)


def is_in_force(state: EntryState, valid_from: date | None, valid_until: date | None, today: date) -> bool:
    """The pure form of the SQL filter in service.in_force_clause."""
    return (
        state is S.PUBLISHED
        and valid_from is not None
        and valid_from <= today
        and (valid_until is None or valid_until >= today)
    )


MIN_TEXT = 4


def require_text(value: str | None, what: str, *, min_length: int = MIN_TEXT) -> str:
    """Text as typed, stripped, with any ID number in it masked (entries, notices and decisions are shown to
    the public or sent to the subject)."""
    text = mask_id_numbers((value or "").strip())
    if len(text) < min_length:
        raise InvalidInput(reason=f"请填写{what}（至少 {min_length} 个字）")
    return text


def optional_text(value: str | None) -> str | None:
    """As require_text, for a field that may be left empty."""
    return mask_id_numbers((value or "").strip()) or None


def check_type_spec(*, key: str, name: str, legal_basis: str, nature: str, entry_criteria: str,
                    exit_conditions: str, remedy_route: str, duration_months: int | None) -> None:  # fmt: skip
    """A list type must state its basis, criteria, exit conditions and remedy (国办发〔2020〕49号)."""
    if not key or not key.replace("-", "").replace("_", "").isalnum() or not key.isascii() or len(key) > 40:
        raise InvalidInput(reason="名单类型标识须为 1–40 位字母、数字、- 或 _")
    if not name.strip():
        raise InvalidInput(reason="请填写名单名称")
    if not legal_basis.strip():
        raise InvalidInput(reason="名单类型必须写明设立依据（法律、法规或党中央、国务院政策文件），否则不能设立")
    try:
        ListNature(nature)
    except ValueError:
        raise InvalidInput(reason=f"未知的名单性质 {nature}（honor / dishonesty / watch）") from None
    for value, what in ((entry_criteria, "认定标准"), (exit_conditions, "移出条件"), (remedy_route, "救济途径")):
        if not value.strip():
            raise InvalidInput(reason=f"名单类型须写明{what}")
    if duration_months is not None and not 1 <= duration_months <= 600:
        raise InvalidInput(reason="名单有效期应为 1–600 个月")
