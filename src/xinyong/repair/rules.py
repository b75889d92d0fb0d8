"""Pure rules of credit repair: the transition table, eligibility, numbers, the commitment text."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from xinyong.catalog import Catalog
from xinyong.codes import mask_id_numbers
from xinyong.config import Settings
from xinyong.errors import InvalidInput, InvalidTransition
from xinyong.records.rules import add_months
from xinyong.repair.models import RepairStatus

S = RepairStatus

# (state, action) → next state. Anything not listed is illegal.
TRANSITIONS: dict[tuple[RepairStatus, str], RepairStatus] = {
    (S.SUBMITTED, "accept"): S.ACCEPTED,  # platform: material complete, forwarded to the owning department
    (S.SUBMITTED, "return"): S.RETURNED,  # platform: material missing (says what)
    (S.SUBMITTED, "refuse"): S.REFUSED,  # platform: not acceptable at all (reasons, next steps)
    (S.SUBMITTED, "withdraw"): S.WITHDRAWN,
    (S.RETURNED, "resubmit"): S.SUBMITTED,  # the subject completes the material; history is kept
    (S.RETURNED, "withdraw"): S.WITHDRAWN,
    (S.ACCEPTED, "approve"): S.APPROVED,  # department: publication stops at once
    (S.ACCEPTED, "refuse"): S.REFUSED,  # department: reasons and next steps
    (S.APPROVED, "restore"): S.RESTORED,  # 信用办: commitment broken (违诺), publication restored
}

# Who takes each staff move: the platform (信用办: 受理/初审) or the department that owns the record or listed the
# subject (审核决定). One person never takes both steps of one application (see service._check_separation).
PLATFORM_STEP, DEPARTMENT_STEP = "platform", "department"
STEPS: dict[tuple[RepairStatus, str], str] = {
    (S.SUBMITTED, "accept"): PLATFORM_STEP,
    (S.SUBMITTED, "return"): PLATFORM_STEP,
    (S.SUBMITTED, "refuse"): PLATFORM_STEP,
    (S.ACCEPTED, "approve"): DEPARTMENT_STEP,
    (S.ACCEPTED, "refuse"): DEPARTMENT_STEP,
}
STEP_LABELS = {PLATFORM_STEP: "平台受理（初审）", DEPARTMENT_STEP: "部门审核决定"}


def step_of(status: RepairStatus, action: str) -> str | None:
    """The step a staff move belongs to; None for the subject's own moves and for 违诺."""
    return STEPS.get((status, action))


ACTION_LABELS = {
    "submit": "提交申请", "accept": "受理", "return": "退回补正", "refuse": "不予修复", "withdraw": "撤回",
    "resubmit": "补正后重新提交", "approve": "同意修复", "restore": "违诺恢复公示",
}  # fmt: skip


def next_status(status: RepairStatus, action: str) -> RepairStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(state=status.label, action=ACTION_LABELS.get(action, action)) from None


def allowed_actions(status: RepairStatus) -> set[str]:
    return {action for (state, action) in TRANSITIONS if state == status}


# ------------------------------------------------------------------------------------------ policy


@dataclass(frozen=True)
class RepairPolicy:
    min_months: Mapping[str, Mapping[str, int]]  # record_type → tier → months before repair is possible
    not_repairable_tiers: frozenset[str] = frozenset()
    not_repairable_categories: frozenset[str] = frozenset()
    materials: tuple[str, ...] = ()
    platform_workdays: int = 10
    department_workdays: int = 3
    objection_workdays: int = 10


def policy_from_settings(settings: Settings, catalog: Catalog) -> RepairPolicy:
    """Repair applies to the catalogue's negative types (`negative = true`, always published by tier)."""
    minimums: dict[str, dict[str, int]] = {}
    for key, rtype in catalog.types.items():
        if rtype.is_negative:
            minimums[key] = dict(rtype.publicity.min_months)
    for record_type, tiers in settings.repair_min_months.items():
        if record_type not in minimums:
            raise InvalidInput(reason=f"修复最短期限配置中的 {record_type} 不是失信信息类别")
        for tier, months in tiers.items():
            if tier not in minimums[record_type] or months < 0:
                raise InvalidInput(reason=f"修复最短期限配置有误：{record_type} {tier} {months}")
            minimums[record_type][tier] = months
    return RepairPolicy(
        min_months=minimums, not_repairable_tiers=frozenset(settings.repair_not_repairable_tiers),
        not_repairable_categories=frozenset(settings.repair_not_repairable_categories),
        materials=tuple(settings.repair_required_materials), platform_workdays=settings.repair_platform_workdays,
        department_workdays=settings.repair_department_workdays,
        objection_workdays=settings.objection_verify_workdays,
    )  # fmt: skip


@dataclass(frozen=True)
class Eligibility:
    code: str  # eligible | not-yet | not-repairable | not-negative | ended | revoked
    message: str
    earliest: date | None = None
    materials: tuple[str, ...] = field(default=())

    @property
    def is_eligible(self) -> bool:
        return self.code == "eligible"


def eligibility(
    policy: RepairPolicy,
    *,
    record_type: str,
    tier: str | None,
    decision_date: date,
    publish_until: date | None,
    categories: Iterable[str],
    is_active: bool,
    today: date,
) -> Eligibility:
    """Whether a record can be repaired today, and if not, why and from when (信用修复管理办法: after the
    minimum publicity period of its tier, unless a law or the configuration rules it out)."""
    if not is_active:
        return Eligibility("revoked", "该记录已撤销，不再公示，无需修复")
    months = policy.min_months.get(record_type, {}).get(tier or "")
    if tier is None or months is None:
        return Eligibility("not-negative", "该信息不属于失信信息，无需修复")
    earliest = add_months(decision_date, months)
    if publish_until is not None and publish_until < today:
        return Eligibility("ended", f"公示期已于 {publish_until.isoformat()} 届满，已自动停止公示，无需申请")
    blocked = policy.not_repairable_categories & set(categories)
    if tier in policy.not_repairable_tiers or blocked or (publish_until is not None and earliest > publish_until):
        until = f"，公示期满（{publish_until.isoformat()}）后自动停止公示" if publish_until else ""
        return Eligibility("not-repairable", f"依照规定，该{tier}失信信息不可提前修复{until}")
    if today < earliest:
        return Eligibility("not-yet", f"最短公示期（{months} 个月）未满，{earliest.isoformat()} 起可申请信用修复",
                           earliest, policy.materials)  # fmt: skip
    return Eligibility("eligible", "已满最短公示期，可申请信用修复", earliest, policy.materials)


@dataclass(frozen=True)
class ListRepairPolicy:
    min_months: Mapping[str, int]  # list type key → months on the list before early removal can be applied for
    not_repairable_types: frozenset[str] = frozenset()


def list_policy_from_settings(settings: Settings) -> ListRepairPolicy:
    if any(months < 0 for months in settings.repair_list_min_months.values()):
        raise InvalidInput(reason="名单修复最短期限配置有误：月数不能为负")
    return ListRepairPolicy(min_months=dict(settings.repair_list_min_months),
                            not_repairable_types=frozenset(settings.repair_list_not_repairable_types))  # fmt: skip


def list_eligibility(
    policy: ListRepairPolicy,
    *,
    type_key: str,
    type_name: str,
    is_imported: bool,
    is_honor: bool,
    source: str | None,
    remedy_route: str,
    is_in_force: bool,
    valid_from: date | None,
    today: date,
    materials: tuple[str, ...] = (),
) -> Eligibility:
    """Whether a list entry can be removed early (移出) by credit repair today. Lists decided elsewhere
    (失信被执行人 …) are removed only by the body that decided them: the subject is sent there."""
    if is_imported:
        body = source or "作出认定的机关"
        return Eligibility("imported", f"“{type_name}”由{body}认定，本平台不受理移出申请，请向{body}申请。{remedy_route}")
    if is_honor:
        return Eligibility("not-negative", "守信激励名单无需信用修复")
    if not is_in_force or valid_from is None:
        return Eligibility("ended", "该名单记录不在有效期内，无需申请移出")
    if type_key in policy.not_repairable_types:
        return Eligibility("not-repairable", f"依照规定，“{type_name}”不可通过信用修复提前移出，有效期届满后自动移出")
    months = policy.min_months.get(type_key, 0)
    earliest = add_months(valid_from, months)
    if today < earliest:
        return Eligibility("not-yet", f"列入未满 {months} 个月，{earliest.isoformat()} 起可申请提前移出", earliest,
                           materials)  # fmt: skip
    return Eligibility("eligible", "可申请信用修复，提前移出名单", earliest, materials)


@dataclass(frozen=True)
class PublicityPeriods:
    type_name: str
    tiers: tuple[tuple[str, str], ...]  # (tier, what its period is, in words)


def months_text(months: int) -> str:
    return f"{months // 12} 年" if months and months % 12 == 0 else f"{months} 个月"


def publicity_periods(catalog: Catalog) -> list[PublicityPeriods]:
    """The publicity periods of the catalogue's public negative types, tier by tier, as the repair page states them
    (信用修复管理办法: 轻微 may go unpublished; a tier's minimum is when repair may be applied for)."""
    result = []
    for rtype in catalog.public_types:
        if not rtype.is_negative:
            continue
        rule = rtype.publicity
        tiers = []
        for tier, most in rule.max_months.items():
            least = rule.min_months.get(tier, 0)
            text = (f"可不予公示，或最长公示 {months_text(most)}" if least == 0
                    else f"最短公示 {months_text(least)}，最长公示 {months_text(most)}")  # fmt: skip
            tiers.append((tier, text))
        result.append(PublicityPeriods(rtype.name, tuple(tiers)))
    return result


# ------------------------------------------------------------------------------------------ inputs

_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{5,18}[0-9]$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$")


def new_number(prefix: str, today: date) -> str:
    """An application number: prefix, date, 6 random characters (not guessable in sequence)."""
    return f"{prefix}{today:%Y%m%d}{''.join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))}"


def clean_text(value: object, *, title: str, min_length: int = 0, max_length: int) -> str:
    """Free text as typed, minus control characters (line breaks kept) and with any ID number in it masked
    (statements, reasons and names are shown to staff and sent in notices); escaping is the templates' job."""
    text = unicodedata.normalize("NFC", str(value or ""))
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C").strip()
    text = mask_id_numbers(text)
    if len(text) < min_length:
        raise InvalidInput(reason=f"{title}至少 {min_length} 个字" if min_length > 1 else f"请填写{title}")
    if len(text) > max_length:
        raise InvalidInput(reason=f"{title}不能超过 {max_length} 个字")
    return text


def clean_phone(value: object) -> str:
    text = str(value or "").strip()
    if not PHONE_RE.match(text):
        raise InvalidInput(reason="联系电话格式不正确")
    return text


def clean_email(value: object, *, required: bool = False) -> str | None:
    text = str(value or "").strip()
    if not text and not required:
        return None
    if len(text) > 200 or not EMAIL_RE.match(text):
        raise InvalidInput(reason="电子邮箱格式不正确")
    return text


def commitment_text(*, subject_name: str, type_name: str, doc_no: str, department: str, signed_on: date) -> str:
    """The 信用修复承诺书 the subject signs; stored verbatim with its hash. `type_name` is the record type's
    name in the catalogue (行政处罚 …)."""
    return (
        "信用修复承诺书\n"
        f"本主体（{subject_name}）就{department}作出的{type_name}决定（{doc_no}）申请信用修复，郑重承诺：\n"
        f"一、已经全面履行{type_name}决定规定的义务，纠正了失信行为；\n"
        "二、所提交的材料真实、准确、完整，无虚假内容；\n"
        "三、今后严格遵守法律法规，诚信经营，不再发生同类违法失信行为；\n"
        "四、如违反本承诺，自愿接受恢复公示、撤销修复结果等处理，并依法承担相应责任。\n"
        f"承诺日期：{signed_on.isoformat()}"
    )


def list_commitment_text(*, subject_name: str, list_name: str, decision_no: str, department: str,
                         signed_on: date) -> str:  # fmt: skip
    """The 信用修复承诺书 for early removal from a list; stored verbatim with its hash."""
    return (
        "信用修复承诺书\n"
        f"本主体（{subject_name}）就{department}列入“{list_name}”的决定（{decision_no}）申请信用修复、提前移出，"
        "郑重承诺：\n"
        "一、已经履行相关法定义务，纠正了失信行为，消除了不良影响；\n"
        "二、所提交的材料真实、准确、完整，无虚假内容；\n"
        "三、今后严格遵守法律法规，诚信经营，不再发生同类违法失信行为；\n"
        "四、如违反本承诺，自愿接受重新认定列入等处理，并依法承担相应责任。\n"
        f"承诺日期：{signed_on.isoformat()}"
    )
