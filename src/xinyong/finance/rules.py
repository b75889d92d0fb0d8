"""Pure rules of 信易贷: the sharing list (what a consent may name), the settings file, amounts and periods."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from xinyong.errors import InvalidInput

CONFIG_FILE = Path(__file__).with_name("finance.toml")

# The financing sharing list's fixed items, in the order they are shown; catalogue types (信用承诺, 纳税 …) follow
# as `records:<type>` items from finance.toml.
BUILTIN_SCOPE = {
    "basics": "登记信息",
    "licences": "行政许可等守信信息",  # the catalogue's positive record types
    "penalties": "行政处罚等失信信息（公示期内）",  # its negative record types, inside their publicity period
    "lists": "信用名单",
    "grade": "公共信用综合评价等级",
}
RECORD_SCOPE_PREFIX = "records:"
KEY_PREFIX = "fi"


@dataclass(frozen=True)
class WhitelistRule:
    grades: tuple[str, ...]
    require_lists: tuple[str, ...]
    exclude_negative: bool

    def as_dict(self) -> dict[str, Any]:
        return {"grades": list(self.grades), "require_lists": list(self.require_lists),
                "exclude_negative": self.exclude_negative}  # fmt: skip

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> WhitelistRule:
        return cls(tuple(raw.get("grades", ())), tuple(raw.get("require_lists", ())),
                   bool(raw.get("exclude_negative", True)))  # fmt: skip

    def describe(self) -> str:
        parts = [f"评价等级为 {'、'.join(self.grades)}"]
        if self.require_lists:
            parts.append(f"列入 {'、'.join(self.require_lists)} 名单")
        if self.exclude_negative:
            parts.append("无有效的失信名单、重点关注名单记录和公示期内的行政处罚")
        return "；".join(parts)


@dataclass(frozen=True)
class FinanceConfig:
    record_types: tuple[str, ...]
    max_consent_days: int
    service_level_workdays: int
    purposes: tuple[str, ...]
    max_amount: Decimal
    max_term_months: int
    whitelist: WhitelistRule


def load_config(path: Path = CONFIG_FILE) -> FinanceConfig:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    return FinanceConfig(
        record_types=tuple(raw.get("record_types", ())), max_consent_days=int(raw.get("max_consent_days", 366)),
        service_level_workdays=int(raw.get("service_level_workdays", 5)),
        purposes=tuple(raw.get("purposes", ("其他",))), max_amount=Decimal(str(raw.get("max_amount", 100000))),
        max_term_months=int(raw.get("max_term_months", 360)),
        whitelist=WhitelistRule.from_dict(raw.get("whitelist", {"grades": ["A"]})),
    )  # fmt: skip


def scope_items(config: FinanceConfig, catalogue_names: dict[str, str]) -> dict[str, str]:
    """Every item a consent may name → its label: the fixed items, then the shareable catalogue types."""
    items = dict(BUILTIN_SCOPE)
    for key in config.record_types:
        if key in catalogue_names:
            items[RECORD_SCOPE_PREFIX + key] = catalogue_names[key]
    return items


def clean_scope(requested: list[str], items: dict[str, str]) -> list[str]:
    """The requested items, validated and in the list's order; unknown items are refused, not dropped."""
    asked = [s.strip() for s in requested if s.strip()]
    unknown = [s for s in asked if s not in items]
    if unknown:
        raise InvalidInput(reason=f"授权范围中有未知项目：{'、'.join(s[:40] for s in unknown[:5])}")
    if not asked:
        raise InvalidInput(reason="请至少选择一项授权范围")
    return [key for key in items if key in asked]


def parse_amount(text: str | Decimal | float | int, *, what: str, limit: Decimal) -> Decimal:
    """A positive amount in 万元 with at most two decimals, not above `limit`."""
    raw = str(text).strip().replace(",", "")
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise InvalidInput(reason=f"{what}“{raw[:20]}”不是有效的金额") from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(reason=f"{what}须大于 0")
    if value > limit:
        raise InvalidInput(reason=f"{what}不能超过 {limit} 万元")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput(reason=f"{what}最多保留两位小数")
    return value.quantize(Decimal("0.01"))


def parse_term(text: str | int, *, limit: int) -> int:
    raw = str(text).strip()
    if not raw.isdigit() or not 1 <= int(raw) <= limit:
        raise InvalidInput(reason=f"融资期限须为 1–{limit} 个月的整数")
    return int(raw)
