"""The 政务诚信 configuration (`integrity.toml`) and the pure rules of the board: who is a government body,
how old a case is, which ageing bucket it falls in."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from xinyong.errors import DomainError

DEFAULT_FILE = Path(__file__).parent / "integrity.toml"


class IntegrityConfigError(DomainError):
    code = "integrity-config-invalid"
    status_code = 500
    message_template = "政务诚信配置有误（{where}）：{reason}"


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class IntegrityConfig:
    government_pairs: tuple[str, ...]
    clear_within_days: int
    ageing_buckets: tuple[int, ...]
    listing_types: tuple[str, ...]
    listing_case_kind: str
    notice_workdays: int
    case_kinds: dict[str, str]  # key → label
    reason_min_length: int
    categories: tuple[Category, ...]

    def is_government(self, uscc: str | None) -> bool:
        return bool(uscc) and uscc[:2] in self.government_pairs  # type: ignore[index]

    def category(self, key: str) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)

    def bucket_labels(self) -> list[str]:
        labels, low = [], 0
        for high in self.ageing_buckets:
            labels.append(f"{low + 1 if low else 0}–{high} 天")
            low = high
        labels.append(f"{low} 天以上")
        return labels

    def bucket(self, age_days: int) -> str:
        labels = self.bucket_labels()
        for index, high in enumerate(self.ageing_buckets):
            if age_days <= high:
                return labels[index]
        return labels[-1]


def age_in_days(listed_on: date, until: date) -> int:
    return max(0, (until - listed_on).days)


def _positive_int(raw: dict[str, Any], name: str, default: int) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise IntegrityConfigError(where=name, reason="须为正整数")
    return value


def parse_config(raw: dict[str, Any]) -> IntegrityConfig:
    pairs = tuple(str(p) for p in raw.get("government_pairs", ()))
    if not pairs or any(len(p) != 2 for p in pairs):
        raise IntegrityConfigError(where="government_pairs", reason="须列出两位的代码前缀，如 \"11\"")
    buckets = tuple(raw.get("ageing_buckets", (30, 90, 180)))
    if not buckets or any(not isinstance(b, int) or b < 1 for b in buckets) or list(buckets) != sorted(set(buckets)):
        raise IntegrityConfigError(where="ageing_buckets", reason="须为递增的正整数天数")
    kinds = {k["key"]: k["label"] for k in raw.get("case_kinds", ()) if k.get("key") and k.get("label")}
    if not kinds:
        raise IntegrityConfigError(where="case_kinds", reason="至少须定义一种失信记录类别")
    case_kind = str(raw.get("listing_case_kind", ""))
    if case_kind not in kinds:
        raise IntegrityConfigError(where="listing_case_kind", reason=f"“{case_kind}”不在 case_kinds 中")
    servants = raw.get("civil_servants", {})
    categories = tuple(Category(c["key"], c["label"], tuple(c.get("items", ()))) for c in servants.get("categories", ()))
    if not categories:
        raise IntegrityConfigError(where="civil_servants.categories", reason="至少须定义一个档案类别")
    return IntegrityConfig(
        government_pairs=pairs, clear_within_days=_positive_int(raw, "clear_within_days", 90), ageing_buckets=buckets,
        listing_types=tuple(raw.get("listing_types", ())), listing_case_kind=case_kind,
        notice_workdays=_positive_int(raw, "notice_workdays", 5), case_kinds=kinds,
        reason_min_length=_positive_int(servants, "reason_min_length", 4), categories=categories,
    )  # fmt: skip


@lru_cache(maxsize=4)
def load_config(path: Path | None = None) -> IntegrityConfig:
    file = path or DEFAULT_FILE
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise IntegrityConfigError(where=file.name, reason=f"无法读取：{exc}") from None
    return parse_config(raw)
