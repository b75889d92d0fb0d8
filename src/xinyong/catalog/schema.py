"""Loading and checking the catalogue files."""

from __future__ import annotations

import re
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
    # 信用承诺 (the commitments domain reads its type's fields by these)
    "pledge_kind", "pledge_reason", "pledge_text", "pledge_liability", "pledge_status", "pledge_unfulfilled",
    "pledge_pursued", "pledge_determined_on", "pledge_determined_by", "pledge_determined_by_code", "pledge_openness",
}  # fmt: skip
REQUIRED_ROLES = {"subject_name", "subject_kind", "doc_no", "decision_date", "source_code"}

# Publication classes (共享/公开属性) of a record type, and the surfaces each class allows. Every surface asks the
# type (`RecordType.shows_on`) rather than its class, so this table is the one place the rule is written:
# - portal: the public portal (profile tabs, record pages, listings, CSV), the public API and the public report;
# - own: the subject's own account page and its own report (主体查询版), which it may hand to whom it authorises;
# - checks: credit checks, a department's look-up of another department's records (政务共享);
# - console: the console's record tables, where a department sees its own records and the 信用办 every record.
PUBLIC, AUTHORISED, SHARED, UNSHARED = "社会公开", "授权查询", "政务共享", "不予共享"
PUBLICATION_CLASSES = (PUBLIC, AUTHORISED, SHARED, UNSHARED)
PORTAL, OWN, CHECKS, CONSOLE = "portal", "own", "checks", "console"
SURFACES = (PORTAL, OWN, CHECKS, CONSOLE)
CLASS_SURFACES: dict[str, frozenset[str]] = {
    PUBLIC: frozenset({PORTAL, OWN, CHECKS, CONSOLE}),
    AUTHORISED: frozenset({OWN, CHECKS, CONSOLE}),
    SHARED: frozenset({OWN, CHECKS, CONSOLE}),
    UNSHARED: frozenset({OWN, CONSOLE}),
}
NEGATIVE, POSITIVE, NEUTRAL = "negative", "positive", "neutral"
# How often departments report a type unless the 信用办 sets otherwise in a department's catalogue (部门目录清单):
# 7wd — within 7 working days of each decision (双公示); the others once a period.
REPORTING_FREQUENCIES = ("7wd", "monthly", "quarterly", "yearly")
DEFAULT_REPORTING = "monthly"
PORTAL_KEYS = {"tab", "order", "listing", "summary", "export", "filter"}
FILTER_KINDS = {"text", "enum", "multi_enum"}
DEFAULT_ORDER = 100
# A type's key names it in URLs (/disclosure/<key>), the public API and export file names: plain ASCII.
KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# `row_rules`: a function the ingestion pipeline calls on each validated row of the type, named as
# "package.module:function" (checks across fields that TOML cannot declare, e.g. the parts of a 承诺编码).
ROW_RULES_RE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*:[a-z_][a-z0-9_]*$")
SUMMARY_DEFAULT_SIZE = 2


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
    public: bool = True  # declared `public = false`: kept and shown to departments, never to the public
    expected: bool = False  # declared `expected = true`: optional, but departments are assessed on filling it (完整率)

    @property
    def is_public(self) -> bool:
        """Shown on the portal and the public API: everything not protected, unless declared not public."""
        return self.public and not self.protected


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
class Presentation:
    """How the portal shows a type (the `[portal]` table of its file). Every entry has a default derived from
    the type's roles, so a type declared without it still shows everywhere."""

    tab: str  # short label: profile tabs, listings, navigation, counts
    order: int = DEFAULT_ORDER  # tabs and listings are ordered by it, then by file
    listing: bool = True  # has a public listing (/disclosure/<key>)
    summary: tuple[str, ...] = ()  # field codes shown in listings and cards, in order
    export: tuple[str, ...] = ()  # field codes of the listing's CSV export, after the common columns
    filter: str | None = None  # field code the listing's category filter searches


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
    portal: Presentation
    is_negative: bool = False
    is_positive: bool = False
    publication: str = PUBLIC
    reporting: str = DEFAULT_REPORTING  # the default frequency of a department's catalogue line (REPORTING_FREQUENCIES)
    row_rules: str | None = None  # "module:function" called on each validated row (see records.validation)

    @property
    def effect(self) -> str:
        """negative (失信), positive (守信, e.g. licences and honours) or neutral."""
        return NEGATIVE if self.is_negative else POSITIVE if self.is_positive else NEUTRAL

    @property
    def is_public(self) -> bool:
        return self.publication == PUBLIC

    @property
    def surfaces(self) -> frozenset[str]:
        """Where records of this type may be shown, by its publication class (see CLASS_SURFACES)."""
        return CLASS_SURFACES[self.publication]

    def shows_on(self, surface: str) -> bool:
        return surface in self.surfaces

    @property
    def is_listable(self) -> bool:
        return self.is_public and self.portal.listing

    @cached_property
    def by_code(self) -> dict[str, FieldSpec]:
        return {f.code: f for f in self.fields}

    @cached_property
    def public_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.is_public)

    @cached_property
    def summary_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(self.by_code[code] for code in self.portal.summary)

    @cached_property
    def export_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(self.by_code[code] for code in self.portal.export)

    @cached_property
    def filter_field(self) -> FieldSpec | None:
        code = self.portal.filter
        return self.by_code[code] if code else None

    @cached_property
    def expected_fields(self) -> tuple[FieldSpec, ...]:
        """Optional fields departments are expected to fill: what the completeness KPI (完整率) counts."""
        return tuple(f for f in self.fields if f.expected)

    @cached_property
    def role_fields(self) -> dict[str, FieldSpec]:
        return {f.role: f for f in self.fields if f.role}

    def role_title(self, role: str, default: str) -> str:
        spec = self.role_fields.get(role)
        return spec.title if spec else default

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
    """The loaded catalogue; immutable for the life of the process (`load_catalog` hands out one object per
    set of folders), so what the surfaces derive from it is worked out once, here."""

    types: dict[str, RecordType]

    def get(self, key: str) -> RecordType:
        try:
            return self.types[key]
        except KeyError:
            raise NotFound(what=f"信息类别“{key}”（可用：{'、'.join(self.types)}）") from None

    @cached_property
    def public_types(self) -> tuple[RecordType, ...]:
        """The types the public sees (社会公开), in portal order: profile tabs, counts, the public API."""
        ordered = sorted(enumerate(self.types.values()), key=lambda p: (p[1].portal.order, p[0]))
        return tuple(t for _, t in ordered if t.is_public)

    @cached_property
    def public_keys(self) -> frozenset[str]:
        return frozenset(t.key for t in self.public_types)

    @cached_property
    def listable_types(self) -> tuple[RecordType, ...]:
        return tuple(t for t in self.public_types if t.is_listable)

    def keys_on(self, surface: str) -> frozenset[str]:
        """The types whose class allows them on a surface (portal, own, checks, console)."""
        return frozenset(k for k, t in self.types.items() if t.shows_on(surface))

    @cached_property
    def negative_keys(self) -> tuple[str, ...]:
        return tuple(sorted(k for k, t in self.types.items() if t.is_negative))

    @cached_property
    def positive_keys(self) -> tuple[str, ...]:
        return tuple(sorted(k for k, t in self.types.items() if t.is_positive))

    @cached_property
    def default_public_key(self) -> str | None:
        """The type a profile or the public API shows when none is asked for: the first negative public
        type (what a credit look-up is for), else the first public type."""
        candidates = [t.key for t in self.public_types if t.is_negative] or [t.key for t in self.public_types]
        return candidates[0] if candidates else None


def _field(raw: dict[str, Any], where: str) -> FieldSpec:
    kind = raw.get("kind", "text")
    if kind not in FIELD_KINDS:
        raise CatalogError(where=where, reason=f"未知的字段类型 {kind}")
    role = raw.get("role")
    if role is not None and role not in ROLES:
        raise CatalogError(where=where, reason=f"未知的字段角色 {role}")
    if raw.get("protected") and raw.get("public") is True:
        raise CatalogError(where=where, reason="受保护字段（protected）不能向社会公开")
    if raw.get("expected") and raw.get("required"):
        raise CatalogError(where=where, reason="必填字段无需标注 expected（应填的选填项才计入完整率）")
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
        public=bool(raw.get("public", True)),
        expected=bool(raw.get("expected", False)),
    )


def parse_record_type(raw: dict[str, Any], where: str) -> RecordType:
    for key in ("key", "name", "prefix", "fields"):
        if key not in raw:
            raise CatalogError(where=where, reason=f"缺少 {key}")
    if not KEY_RE.match(str(raw["key"])):
        raise CatalogError(where=where, reason=f"类别键 {raw['key']} 须为小写英文字母开头的字母、数字、-、_（不超过 32 个）")
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
    is_negative, is_positive = bool(raw.get("negative", False)), bool(raw.get("positive", False))
    if is_negative and is_positive:
        raise CatalogError(where=where, reason="一类信息不能既是失信信息（negative）又是守信信息（positive）")
    if is_negative and publicity.mode != "tiered":
        raise CatalogError(where=where, reason="失信信息（negative）只能在公示期内公示，须使用分级公示（mode = \"tiered\"）")
    row_rules = raw.get("row_rules")
    if row_rules is not None and not (isinstance(row_rules, str) and ROW_RULES_RE.match(row_rules)):
        raise CatalogError(where=where, reason="row_rules 须写作“模块:函数”（如 xinyong.commitments.rules:check_row）")
    publication = raw.get("publication", PUBLIC)
    if publication not in PUBLICATION_CLASSES:
        raise CatalogError(where=where, reason=f"未知的公开属性 {publication}（可用：{'、'.join(PUBLICATION_CLASSES)}）")
    reporting = raw.get("reporting", DEFAULT_REPORTING)
    if reporting not in REPORTING_FREQUENCIES:
        raise CatalogError(where=where, reason=f"未知的报送频次 {reporting}（可用：{'、'.join(REPORTING_FREQUENCIES)}）")
    return RecordType(
        key=raw["key"],
        name=raw["name"],
        prefix=raw["prefix"],
        legal_basis=raw["legal_basis"].strip(),
        sensitivity=raw.get("sensitivity", "public"),
        description=raw.get("description", ""),
        publicity=publicity,
        fields=fields,
        is_negative=is_negative,
        is_positive=is_positive,
        publication=publication,
        reporting=reporting,
        row_rules=row_rules,
        portal=_presentation(raw, fields, publication == PUBLIC, f"{where}:portal"),
    )


def _presentation(raw: dict[str, Any], fields: tuple[FieldSpec, ...], is_public: bool, where: str) -> Presentation:
    """The `[portal]` table, checked, with defaults derived from roles: the tab is the type's name; the summary is
    the categories field and the first required public fields without a role (what the decision is about);
    the export is the summary; the filter is the categories field."""
    table = raw.get("portal", {})
    if not isinstance(table, dict):
        raise CatalogError(where=where, reason="portal 须为表（[portal]）")
    unknown = set(table) - PORTAL_KEYS
    if unknown:
        raise CatalogError(where=where, reason=f"未知的展示设置 {', '.join(sorted(unknown))}")
    by_code = {f.code: f for f in fields}
    by_role = {f.role: f for f in fields if f.role}

    def resolve(entry: object) -> FieldSpec:
        text = str(entry)
        spec = by_role.get(text.removeprefix("role:")) if text.startswith("role:") else by_code.get(text)
        if spec is None:
            raise CatalogError(where=where, reason=f"引用了不存在的字段或角色 {text}")
        if not spec.is_public:
            raise CatalogError(where=where, reason=f"{spec.code} 不向社会公开，不能在门户展示")
        return spec

    def resolve_all(key: str, default: tuple[FieldSpec, ...]) -> tuple[str, ...]:
        if key not in table:
            return tuple(f.code for f in default)
        entries = table[key]
        if not isinstance(entries, list):
            raise CatalogError(where=where, reason=f"{key} 须为字段列表")
        codes = tuple(resolve(e).code for e in entries)
        if len(set(codes)) != len(codes):
            raise CatalogError(where=where, reason=f"{key} 中字段重复")
        return codes

    categories = by_role.get("categories")
    if categories is not None and not categories.is_public:
        categories = None
    plain = [f for f in fields if f.is_public and f.role is None and f.required]
    chosen = {f.code for f in ([categories] if categories else []) + plain[: SUMMARY_DEFAULT_SIZE - bool(categories)]}
    summary = resolve_all("summary", tuple(f for f in fields if f.code in chosen))
    export = resolve_all("export", tuple(by_code[c] for c in summary))
    if "filter" in table:
        filter_spec = resolve(table["filter"])
        if filter_spec.kind not in FILTER_KINDS:
            raise CatalogError(where=where, reason=f"筛选字段 {filter_spec.code} 须为文本或代码值字段")
        filter_code: str | None = filter_spec.code
    else:
        filter_code = categories.code if categories else None
    listing = table.get("listing", is_public)
    if not isinstance(listing, bool):
        raise CatalogError(where=where, reason="listing 须为 true 或 false")
    if listing and not is_public:
        raise CatalogError(where=where, reason="不向社会公开的信息类别不能设置公示栏目（listing）")
    order = table.get("order", DEFAULT_ORDER)
    if not isinstance(order, int) or isinstance(order, bool):
        raise CatalogError(where=where, reason="order 须为整数")
    tab = str(table.get("tab") or raw["name"]).strip()
    return Presentation(tab=tab, order=order, listing=listing, summary=summary, export=export, filter=filter_code)


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
