"""Loading and checking the catalogue files."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from xinyong.codes import LEGACY_KINDS
from xinyong.errors import DomainError, NotFound

TYPES_DIR = Path(__file__).parent / "types"

FIELD_KINDS = {"text", "enum", "multi_enum", "date", "decimal", "uscc", "id_number"} | {
    f"legacy:{kind}" for kind in LEGACY_KINDS
}
# Roles the ingestion pipeline understands; every other column is carried in the payload as it is.
ROLES = {
    "subject_name", "subject_kind", "uscc", "registration_number", "org_code", "tax_number",
    "institution_cert", "social_org_cert", "legal_representative", "id_type", "id_number", "doc_no",
    "decision_date", "valid_from", "valid_until", "authority_name", "authority_code", "source_name",
    "source_code", "categories", "fine_amount", "publicity_until", "matter", "result",
}  # fmt: skip
REQUIRED_ROLES = {"subject_name", "subject_kind", "doc_no", "decision_date", "source_code"}


class CatalogError(DomainError):
    code = "catalog-invalid"
    status_code = 500
    message_template = "信用信息目录配置有误（{where}）：{reason}"


@dataclass(frozen=True)
class Condition:
    """``required_if``: the field is required when another field has one of some values."""

    field: str
    values_in: tuple[str, ...] = ()
    contains: str | None = None

    def holds(self, other: Any) -> bool:
        if other is None:
            return False
        if self.contains is not None:
            return self.contains in other if isinstance(other, (list, tuple)) else self.contains == other
        return other in self.values_in


@dataclass(frozen=True)
class FieldSpec:
    code: str
    title: str
    kind: str
    aliases: tuple[str, ...] = ()
    role: str | None = None
    required: bool = False
    required_if: Condition | None = None
    max_length: int | None = None
    values: tuple[str, ...] = ()
    value_aliases: dict[str, str] = field(default_factory=dict)
    legacy_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    on_unknown: str = "error"
    future_allowed: bool = False
    protected: bool = False
    type_field: str | None = None


@dataclass(frozen=True)
class TierRule:
    tier: str
    categories_any: tuple[str, ...] = ()
    categories_only: tuple[str, ...] = ()
    fine_at_least: float | None = None


@dataclass(frozen=True)
class PublicityRule:
    mode: str  # "permanent" | "tiered"
    default_tier: str | None = None
    tiers: tuple[TierRule, ...] = ()
    min_months: dict[str, int] = field(default_factory=dict)
    max_months: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordType:
    key: str
    name: str
    prefix: str
    legal_basis: str
    sensitivity: str
    description: str
    publicity: PublicityRule
    fields: tuple[FieldSpec, ...]
    is_negative: bool = False

    @cached_property
    def role_fields(self) -> dict[str, FieldSpec]:
        return {f.role: f for f in self.fields if f.role}

    def field_by_role(self, role: str) -> FieldSpec | None:
        return self.role_fields.get(role)

    def role_code(self, role: str) -> str | None:
        spec = self.role_fields.get(role)
        return spec.code if spec else None

    def header_index(self) -> dict[str, str]:
        """Every accepted header spelling (code with or without prefix, Chinese title, aliases) → code."""
        index: dict[str, str] = {}
        for spec in self.fields:
            names = [spec.code, spec.code.removeprefix(self.prefix), spec.title, *spec.aliases]
            for name in names:
                index.setdefault(header_key(name), spec.code)
        return index


def header_key(header: str) -> str:
    """Headers are matched ignoring case, spaces and the width of brackets."""
    return (
        "".join(header.split()).upper().replace("（", "(").replace("）", ")").replace("\ufeff", "")
    )


@dataclass(frozen=True)
class Catalog:
    types: dict[str, RecordType]

    def get(self, key: str) -> RecordType:
        try:
            return self.types[key]
        except KeyError:
            raise NotFound(what=f"信息类别“{key}”（可用：{'、'.join(self.types)}）") from None


def _field(raw: dict[str, Any], where: str) -> FieldSpec:
    kind = raw.get("kind", "text")
    if kind not in FIELD_KINDS:
        raise CatalogError(where=where, reason=f"未知的字段类型 {kind}")
    role = raw.get("role")
    if role is not None and role not in ROLES:
        raise CatalogError(where=where, reason=f"未知的字段角色 {role}")
    condition = None
    if "required_if" in raw:
        cond = raw["required_if"]
        condition = Condition(cond["field"], tuple(cond.get("in", ())), cond.get("contains"))
    return FieldSpec(
        code=raw["code"],
        title=raw["title"],
        kind=kind,
        aliases=tuple(raw.get("aliases", ())),
        role=role,
        required=bool(raw.get("required", False)),
        required_if=condition,
        max_length=raw.get("max_length"),
        values=tuple(raw.get("values", ())),
        value_aliases=dict(raw.get("value_aliases", {})),
        legacy_values={k: tuple(v) for k, v in raw.get("legacy_values", {}).items()},
        on_unknown=raw.get("on_unknown", "error"),
        future_allowed=bool(raw.get("future_allowed", False)),
        protected=bool(raw.get("protected", False)),
        type_field=raw.get("type_field"),
    )


def parse_record_type(raw: dict[str, Any], where: str) -> RecordType:
    for key in ("key", "name", "prefix", "fields"):
        if key not in raw:
            raise CatalogError(where=where, reason=f"缺少 {key}")
    if not str(raw.get("legal_basis", "")).strip():
        raise CatalogError(where=where, reason="每一类信用信息都必须写明法律、法规或政策依据（legal_basis）")
    fields = tuple(_field(f, f"{where}:{f.get('code', '?')}") for f in raw["fields"])
    codes = [f.code for f in fields]
    if len(set(codes)) != len(codes):
        raise CatalogError(where=where, reason="字段代码重复")
    roles = [f.role for f in fields if f.role]
    if len(set(roles)) != len(roles):
        raise CatalogError(where=where, reason="同一角色只能由一个字段承担")
    missing = REQUIRED_ROLES - set(roles)
    if missing:
        raise CatalogError(where=where, reason=f"缺少必需的字段角色：{', '.join(sorted(missing))}")
    for spec in fields:
        if spec.required_if and spec.required_if.field not in codes:
            raise CatalogError(where=where, reason=f"{spec.code} 的 required_if 引用了不存在的字段")
    pub = raw.get("publicity", {"mode": "permanent"})
    tiers = tuple(
        TierRule(
            tier=t["tier"],
            categories_any=tuple(t.get("categories_any", ())),
            categories_only=tuple(t.get("categories_only", ())),
            fine_at_least=t.get("fine_at_least"),
        )
        for t in pub.get("tiers", ())
    )
    publicity = PublicityRule(
        mode=pub.get("mode", "permanent"),
        default_tier=pub.get("default_tier"),
        tiers=tiers,
        min_months=dict(pub.get("min_months", {})),
        max_months=dict(pub.get("max_months", {})),
    )
    if publicity.mode not in ("permanent", "tiered"):
        raise CatalogError(where=where, reason=f"未知的公示方式 {publicity.mode}")
    if publicity.mode == "tiered":
        named = {t.tier for t in tiers} | {publicity.default_tier}
        if None in named or not named <= set(publicity.max_months):
            raise CatalogError(where=where, reason="分级公示须为每个等级设置最长公示期（max_months）")
    return RecordType(
        key=raw["key"],
        name=raw["name"],
        prefix=raw["prefix"],
        legal_basis=raw["legal_basis"].strip(),
        sensitivity=raw.get("sensitivity", "public"),
        description=raw.get("description", ""),
        publicity=publicity,
        fields=fields,
        is_negative=bool(raw.get("negative", False)),
    )


def load_catalog(extra_dirs: tuple[Path, ...] = ()) -> Catalog:
    """The built-in types plus any in ``extra_dirs`` (an operator's own catalogue entries)."""
    return _load((TYPES_DIR, *extra_dirs))


@lru_cache(maxsize=4)
def _load(dirs: tuple[Path, ...]) -> Catalog:
    types: dict[str, RecordType] = {}
    for directory in dirs:
        for path in sorted(Path(directory).glob("*.toml")):
            with path.open("rb") as handle:
                try:
                    raw = tomllib.load(handle)
                except tomllib.TOMLDecodeError as exc:
                    raise CatalogError(where=path.name, reason=str(exc)) from exc
            record_type = parse_record_type(raw, path.name)
            types[record_type.key] = record_type
    return Catalog(types)
