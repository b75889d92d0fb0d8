"""Pure rules of the measure list: what a valid measure is, and which measures a check may return."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from xinyong.errors import InvalidInput
from xinyong.measures.models import MeasureEffect, MeasureKind

LEVELS = ("国家", "省级", "市级", "县级")
# Strongest first: the overall hint of a check is the first of these that any returned measure has.
HINT_ORDER = ("block", "warn", "fast_track", "none")
HINT_LABELS = {"block": "拦截", "warn": "提示", "fast_track": "绿色通道", "none": "无"}


@dataclass(frozen=True)
class MeasureDraft:
    matter: str
    content: str
    list_types: tuple[str, ...]
    basis: str
    level: str
    kind: str
    effect: str
    frequency: str | None = None


def validate(draft: MeasureDraft, *, matters: Iterable[str], list_natures: Mapping[str, str]) -> MeasureDraft:
    """A measure must have a basis, a configured matter, known list types of the right nature (过惩相当:
    incentives only for honour lists, sanctions only for dishonesty or watch lists), and an effect that
    fits its kind (an incentive never blocks)."""
    if draft.matter not in set(matters):
        raise InvalidInput(reason=f"未配置的事项“{draft.matter}”")
    if len(draft.content.strip()) < 4:
        raise InvalidInput(reason="请填写措施内容")
    if not draft.basis.strip():
        raise InvalidInput(reason="措施必须写明依据（法律、法规或政策文件），没有依据的措施不能设立")
    if draft.level not in LEVELS:
        raise InvalidInput(reason=f"实施层级应为{'、'.join(LEVELS)}之一")
    try:
        kind, effect = MeasureKind(draft.kind), MeasureEffect(draft.effect)
    except ValueError:
        raise InvalidInput(reason="未知的措施类别或效果") from None
    if not draft.list_types:
        raise InvalidInput(reason="请至少选择一个适用的名单类型")
    for key in draft.list_types:
        nature = list_natures.get(key)
        if nature is None:
            raise InvalidInput(reason=f"未知的名单类型 {key}")
        if (kind is MeasureKind.INCENTIVE) != (nature == "honor"):
            raise InvalidInput(reason=f"{kind.label}措施不能适用于名单类型 {key}（过惩相当：激励措施只适用于守信激励名单，"
                                      "惩戒措施只适用于失信或重点关注名单）")  # fmt: skip
    if kind is MeasureKind.INCENTIVE and effect is not MeasureEffect.FAST_TRACK:
        raise InvalidInput(reason="激励措施的效果只能是“绿色通道”")
    if kind is MeasureKind.SANCTION and effect is MeasureEffect.FAST_TRACK:
        raise InvalidInput(reason="惩戒措施的效果只能是“拦截”或“提示”")
    return MeasureDraft(draft.matter, draft.content.strip(), tuple(sorted(set(draft.list_types))), draft.basis.strip(),
                        draft.level, kind.value, effect.value, (draft.frequency or "").strip() or None)  # fmt: skip


def applies(measure_matter: str, measure_list_types: Iterable[str], matter: str, member_of: set[str]) -> bool:
    """过惩相当: both the matter and a list type must match."""
    return measure_matter == matter and bool(member_of.intersection(measure_list_types))


def overall_hint(effects: Iterable[str], *, has_punitive_membership: bool, has_negative_records: bool) -> str:
    """The strongest effect among the returned measures; without any, a punitive membership or a negative
    record still in publication is a 提示 (the department should look), and nothing at all is 无."""
    present = set(effects)
    for hint in HINT_ORDER[:-1]:
        if hint in present:
            return hint
    if has_punitive_membership or has_negative_records:
        return "warn"
    return "none"
