"""Reading an evaluation model file and checking it against the catalogue and the list types.

A model file (TOML) declares a tree of dimensions and indicators with weights in points (分值), grades with
thresholds, overrides and a default grade. Every problem found is reported with a stable code, where it is
and a Chinese message; a model with any problem is refused as a whole.
"""

from __future__ import annotations

import hashlib
import itertools
import tomllib
from decimal import Decimal, InvalidOperation
from typing import Any

from xinyong.catalog import Catalog, RecordType
from xinyong.evaluation.spec import (
    DIRECTIONS,
    MAX_POINTS,
    MEASURES,
    REPAIRED,
    ROLE_COLUMNS,
    SUBJECT_KINDS,
    WHILE,
    Band,
    BandScoring,
    Filter,
    Grade,
    Indicator,
    KindScoring,
    ListSource,
    Model,
    ModelInvalid,
    Node,
    Override,
    Problem,
    RecordSource,
    Target,
)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, code: str, where: str, message: str) -> None:
        self.problems.append(Problem(code, where, message))


_TOP_KEYS = {"key", "version", "name", "basis", "subject_kinds", "scale", "weights_add_up", "default_grade",
             "grades", "overrides", "dimensions", "indicators"}  # fmt: skip
_NODE_KEYS = {"key", "name", "parent", "weight", "basis"}
_INDICATOR_KEYS = _NODE_KEYS | {"direction", "records", "lists", "kinds", "bands"}
_RECORD_KEYS = {"types", "while", "min_age_months", "max_age_months", "repaired", "latest", "where"}


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_model(text: str, catalog: Catalog, list_types: set[str]) -> Model:
    """The model in `text`, checked against the catalogue and the known list types; ModelInvalid with every
    problem found otherwise."""
    out = _Collector()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelInvalid([Problem("toml-syntax", "", f"TOML 格式错误：{exc}")]) from None
    model = _Parser(raw, catalog, list_types, out, digest_of(text)).model()
    if out.problems or model is None:
        raise ModelInvalid(out.problems or [Problem("model-invalid", "", "模型无法读取")])
    return model


class _Parser:
    def __init__(self, raw: dict[str, Any], catalog: Catalog, list_types: set[str], out: _Collector,
                 digest: str) -> None:  # fmt: skip
        self.raw = raw
        self.catalog = catalog
        self.list_types = list_types
        self.out = out
        self.digest = digest

    # ---- small readers

    def _unknown_keys(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in sorted(set(table) - allowed):
            self.out.add("unknown-key", where, f"未知的配置项 {key}")

    def _text(self, table: dict[str, Any], key: str, where: str, *, required: bool = True, limit: int = 200) -> str:
        value = table.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                code = "missing-basis" if key == "basis" else "missing-key"
                self.out.add(code, where, "须写明依据（basis）" if key == "basis" else f"缺少 {key}")
            return ""
        if not isinstance(value, str) or len(value) > limit:
            self.out.add("invalid-value", where, f"{key} 应为不超过 {limit} 字的文本")
            return ""
        return value.strip()

    def _int(self, table: dict[str, Any], key: str, where: str, *, default: int | None = None,
             low: int = 0, high: int = MAX_POINTS) -> int | None:  # fmt: skip
        value = table.get(key, default)
        if value is None:
            self.out.add("missing-key", where, f"缺少 {key}")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.out.add("invalid-value", where, f"{key} 应为 {low}–{high} 之间的整数")
            return None
        return value

    def _choice(self, table: dict[str, Any], key: str, where: str, choices: tuple[str, ...], default: str) -> str:
        value = table.get(key, default)
        if value not in choices:
            self.out.add("invalid-value", where, f"{key} 应为 {' / '.join(choices)} 之一")
            return default
        return str(value)

    def _strings(self, table: dict[str, Any], key: str, where: str, *, required: bool = True) -> tuple[str, ...]:
        value = table.get(key)
        if value is None:
            if required:
                self.out.add("missing-key", where, f"缺少 {key}")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.out.add("invalid-value", where, f"{key} 应为文本列表")
            return ()
        return tuple(v.strip() for v in value)

    def _tables(self, key: str) -> list[dict[str, Any]]:
        value = self.raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.out.add("invalid-value", key, f"{key} 应为表数组（[[{key}]]）")
            return []
        return value

    # ---- the model

    def model(self) -> Model | None:
        raw = self.raw
        self._unknown_keys(raw, _TOP_KEYS, "")
        key = self._text(raw, "key", "key", limit=40)
        version = self._text(raw, "version", "version", limit=40)
        name = self._text(raw, "name", "name")
        basis = self._text(raw, "basis", "basis", limit=4000)
        kinds = self._strings(raw, "subject_kinds", "subject_kinds", required=False) or SUBJECT_KINDS[:2]
        for kind in kinds:
            if kind not in SUBJECT_KINDS:
                self.out.add("unknown-subject-kind", "subject_kinds", f"未知的主体类别 {kind}（可选：{'、'.join(SUBJECT_KINDS)}）")
        weights_add_up = raw.get("weights_add_up", False)
        if not isinstance(weights_add_up, bool):
            self.out.add("invalid-value", "weights_add_up", "weights_add_up 应为 true 或 false")
            weights_add_up = False
        dimensions = [self._node(t, f"dimensions[{n}]") for n, t in enumerate(self._tables("dimensions"), 1)]
        tables = self._tables("indicators")
        indicators = [self._indicator(t, f"indicators[{n}]") for n, t in enumerate(tables, 1)]
        dims = [d for d in dimensions if d is not None]
        inds = [i for i in indicators if i is not None]
        complete = len(inds) == len(indicators) and len(dims) == len(dimensions)
        if not tables:
            self.out.add("no-indicators", "indicators", "模型至少要有一个评价指标")
        parents = {t.get("parent") for t in (*self._tables("dimensions"), *tables)}
        self._check_tree(dims, inds, parents)
        # The weights as written, also of indicators with other problems: one mistake is reported once.
        written = sum(t["weight"] for t in tables if isinstance(t.get("weight"), int) and not isinstance(t["weight"], bool))
        scale = self._int(raw, "scale", "scale", default=written or 1, low=1)
        if weights_add_up and scale is not None and complete:
            self._check_weights(dims, inds, scale)
        grades = self._grades(scale if scale is not None else written)
        symbols = {g.symbol for g in grades}
        default_grade = self._text(raw, "default_grade", "default_grade", limit=8)
        if default_grade and symbols and default_grade not in symbols:
            self.out.add("unknown-grade", "default_grade", f"默认等级 {default_grade} 不是模型中的等级")
        overrides = self._overrides(symbols, {i.key for i in inds})
        if self.out.problems or scale is None:
            return None
        return Model(
            key=key, version=version, name=name, basis=basis, subject_kinds=tuple(kinds), scale=scale,
            weights_add_up=weights_add_up, dimensions=tuple(dims), indicators=tuple(inds), grades=tuple(grades),
            default_grade=default_grade, overrides=tuple(overrides), digest=self.digest,
        )  # fmt: skip

    def _node(self, table: dict[str, Any], where: str, allowed: set[str] = _NODE_KEYS) -> Node | None:
        self._unknown_keys(table, allowed, where)
        key = self._text(table, "key", where, limit=40)
        where = f"{where}（{key}）" if key else where
        name = self._text(table, "name", where)
        parent = table.get("parent")
        if parent is not None and not isinstance(parent, str):
            self.out.add("invalid-value", where, "parent 应为上级维度的 key")
            parent = None
        weight = self._int(table, "weight", where)
        basis = self._text(table, "basis", where, required=False, limit=2000)
        if not key or weight is None:
            return None
        return Node(key, name, parent, weight, basis)

    def _indicator(self, table: dict[str, Any], where: str) -> Indicator | None:
        node = self._node(table, where, _INDICATOR_KEYS)
        where = f"{where}（{node.key}）" if node else where
        if not str(table.get("basis", "")).strip():
            self.out.add("missing-basis", where, "每个评价指标都必须写明依据（basis）")
        if node is not None and node.parent is None:
            self.out.add("missing-key", where, "评价指标须指明所属维度（parent）")
        direction = self._choice(table, "direction", where, DIRECTIONS, "deduct")
        has_records, has_lists = "records" in table, "lists" in table
        if has_records == has_lists:
            self.out.add("missing-key", where, "评价指标须且只能读取一种信息：records（信用记录）或 lists（信用名单）")
            return None
        source: RecordSource | ListSource | None
        if has_records:
            source = self._record_source(table["records"], f"{where}.records")
        else:
            source = self._list_source(table["lists"], f"{where}.lists")
        has_kinds, has_bands = "kinds" in table, "bands" in table
        if has_kinds == has_bands:
            self.out.add("missing-key", where, "评价指标须且只能选择一种计分方式：kinds（种类分）或 bands（区间分）")
            return None
        if source is None:
            return None
        scoring: KindScoring | BandScoring | None
        if has_kinds:
            scoring = self._kinds(table["kinds"], f"{where}.kinds", source)
        else:
            scoring = self._bands(table["bands"], f"{where}.bands", source)
        if node is None or scoring is None:
            return None
        return Indicator(node.key, node.name, node.parent, node.weight, node.basis, direction, source, scoring)

    def _record_source(self, raw: Any, where: str) -> RecordSource | None:
        if not isinstance(raw, dict):
            self.out.add("invalid-value", where, "records 应为表")
            return None
        self._unknown_keys(raw, _RECORD_KEYS, where)
        types = self._strings(raw, "types", where)
        known = True
        for key in types:
            if key not in self.catalog.types:
                self.out.add("unknown-record-type", where, f"信用信息目录中没有信息类别“{key}”（可用：{'、'.join(sorted(self.catalog.types))}）")
                known = False
        if not types or not known:
            return None
        min_age = self._int(raw, "min_age_months", where, default=0, high=1200)
        max_age = raw.get("max_age_months")
        if max_age is not None:
            max_age = self._int(raw, "max_age_months", where, low=1, high=1200)
            if max_age is not None and min_age is not None and max_age <= min_age:
                self.out.add("invalid-value", where, "max_age_months 应大于 min_age_months")
        latest = raw.get("latest", False)
        if not isinstance(latest, bool):
            self.out.add("invalid-value", where, "latest 应为 true 或 false")
            latest = False
        filters = raw.get("where", [])
        if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
            self.out.add("invalid-value", where, "where 应为条件表的列表")
            filters = []
        parsed = [self._filter(f, f"{where}.where[{n}]", types) for n, f in enumerate(filters, 1)]
        return RecordSource(
            types=types, counts_while=self._choice(raw, "while", where, WHILE, "published"),
            min_age_months=min_age or 0, max_age_months=max_age,
            repaired=self._choice(raw, "repaired", where, REPAIRED, "exclude"), latest=latest,
            where=tuple(f for f in parsed if f is not None),
        )  # fmt: skip

    def _list_source(self, raw: Any, where: str) -> ListSource | None:
        if not isinstance(raw, dict):
            self.out.add("invalid-value", where, "lists 应为表")
            return None
        self._unknown_keys(raw, {"types"}, where)
        types = self._strings(raw, "types", where)
        unknown = [t for t in types if t not in self.list_types]
        for key in unknown:
            self.out.add("unknown-list-type", where, f"没有名单类型“{key}”（请先载入名单类型）")
        return ListSource(types) if types and not unknown else None

    def _record_type(self, key: str) -> RecordType:
        return self.catalog.types[key]

    def _target(self, text: Any, where: str, types: tuple[str, ...]) -> Target | None:
        """A record's tier, or a field named by role or by code, in every one of `types`."""
        if not isinstance(text, str):
            self.out.add("invalid-value", where, "字段应写作 tier、role:<角色> 或 field:<字段代码>")
            return None
        if text == "tier":
            tiers: set[str] = set()
            for key in types:
                publicity = self._record_type(key).publicity
                if publicity.mode != "tiered":
                    self.out.add("unknown-field", where, f"信息类别“{key}”不分失信等级，不能按 tier 计分")
                    return None
                tiers |= set(publicity.max_months)
            return Target(text, column="tier", kind="tier", values=frozenset(tiers))
        how, _, name = text.partition(":")
        if how not in ("role", "field") or not name:
            self.out.add("invalid-value", where, f"无法识别的字段“{text}”：应写作 tier、role:<角色> 或 field:<字段代码>")
            return None
        codes: list[tuple[str, str]] = []
        specs = []
        for key in types:
            rtype = self._record_type(key)
            spec = rtype.field_by_role(name) if how == "role" else next((f for f in rtype.fields if f.code == name), None)
            if spec is None:
                what = f"角色为 {name} 的字段" if how == "role" else f"字段 {name}"
                self.out.add("unknown-field", where, f"信息类别“{key}”（{rtype.name}）没有{what}")
                return None
            if spec.protected:
                self.out.add("unknown-field", where, f"字段 {spec.code} 是受保护的个人信息，不能用于评价")
                return None
            codes.append((key, spec.code))
            specs.append(spec)
        kinds = {s.kind for s in specs}
        if len(kinds) > 1:
            self.out.add("unknown-field", where, f"“{text}”在各信息类别中的字段类型不同（{'、'.join(sorted(kinds))}）")
            return None
        kind = kinds.pop()
        closed = kind in ("enum", "multi_enum")
        values = frozenset(v for s in specs for v in s.values) if closed else None
        if how == "role" and name in ROLE_COLUMNS:
            return Target(text, column=ROLE_COLUMNS[name], is_multi=kind == "multi_enum", kind=kind, values=values)
        return Target(text, codes=tuple(codes), is_multi=kind == "multi_enum", kind=kind, values=values)

    def _check_values(self, target: Target, values: tuple[str, ...], where: str) -> None:
        if target.values is None:
            return
        for value in values:
            if value not in target.values:
                self.out.add("unknown-value", where, f"“{value}”不是 {target.text} 的可选值（可选：{'、'.join(sorted(target.values))}）")

    def _filter(self, raw: dict[str, Any], where: str, types: tuple[str, ...]) -> Filter | None:
        self._unknown_keys(raw, {"field", "in", "any", "contains"}, where)
        target = self._target(raw.get("field"), where, types)
        ops = [op for op in ("in", "any", "contains") if op in raw]
        if len(ops) != 1:
            self.out.add("missing-key", where, "条件须且只能有 in、any、contains 之一")
            return None
        op = ops[0]
        values = self._strings(raw, op, where)
        if target is None or not values:
            return None
        if op == "any" and not target.is_multi:
            self.out.add("invalid-value", where, f"{target.text} 只有一个值：请用 in")
            return None
        if op == "in" and target.is_multi:
            self.out.add("invalid-value", where, f"{target.text} 可有多个值：请用 any")
            return None
        if op == "contains" and target.kind not in ("text",):
            self.out.add("invalid-value", where, "contains（包含文字）只能用于文本字段")
            return None
        if op != "contains":
            self._check_values(target, values, where)
        return Filter(target, op, values)

    def _kinds(self, raw: Any, where: str, source: RecordSource | ListSource) -> KindScoring | None:
        if not isinstance(raw, dict):
            self.out.add("invalid-value", where, "kinds 应为表")
            return None
        self._unknown_keys(raw, {"by", "points", "other"}, where)
        points = raw.get("points")
        if not isinstance(points, dict) or not points:
            self.out.add("missing-key", where, "kinds 须有 points（各种类的分值）")
            return None
        parsed: list[tuple[str, int]] = []
        for value, p in points.items():
            if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= MAX_POINTS:
                self.out.add("invalid-points", where, f"“{value}”的分值应为非负整数（加分或扣分由 direction 决定）")
                continue
            parsed.append((value, p))
        other = self._int(raw, "other", where, default=0)
        by = raw.get("by")
        if isinstance(source, ListSource):
            if by not in (None, "list_type"):
                self.out.add("invalid-value", where, "读取名单的指标只能按名单类型（list_type）计分")
                return None
            target: Target | None = Target("list_type", column="list_type", kind="list_type",
                                           values=frozenset(source.types))
        else:
            target = self._target(by, where, source.types)
        if target is None:
            return None
        self._check_values(target, tuple(v for v, _ in parsed), where)
        ordered = tuple(sorted(parsed, key=lambda item: -item[1]))
        return KindScoring(target, ordered, other or 0)

    def _bands(self, raw: Any, where: str, source: RecordSource | ListSource) -> BandScoring | None:
        if not isinstance(raw, dict):
            self.out.add("invalid-value", where, "bands 应为表")
            return None
        self._unknown_keys(raw, {"measure", "of", "ranges"}, where)
        measure = self._choice(raw, "measure", where, MEASURES, "count")
        target = None
        if measure != "count":
            if isinstance(source, ListSource):
                self.out.add("invalid-value", where, "读取名单的指标只能按条数（count）分区间")
                return None
            target = self._target(raw.get("of"), where, source.types)
            if target is None:
                return None
            if target.kind != "decimal":
                self.out.add("unknown-field", where, f"{target.text} 不是数值字段，不能求和或取最大值")
                return None
        ranges = raw.get("ranges")
        if not isinstance(ranges, list) or not ranges or not all(isinstance(r, dict) for r in ranges):
            self.out.add("missing-key", where, "bands 须有 ranges（区间列表）")
            return None
        bands = []
        for n, item in enumerate(ranges, 1):
            at = f"{where}.ranges[{n}]"
            self._unknown_keys(item, {"from", "below", "points"}, at)
            low, below = _decimal(item.get("from")), _decimal(item.get("below")) if "below" in item else None
            points = item.get("points")
            if low is None or ("below" in item and below is None):
                self.out.add("invalid-value", at, "区间的 from、below 应为数值")
                continue
            if isinstance(points, bool) or not isinstance(points, int) or not 0 <= points <= MAX_POINTS:
                self.out.add("invalid-points", at, "区间的分值应为非负整数（加分或扣分由 direction 决定）")
                continue
            if below is not None and below <= low:
                self.out.add("band-empty", at, f"区间 [{low}, {below}) 为空：below 应大于 from")
                continue
            bands.append(Band(low, below, points))
        bands.sort(key=lambda b: b.low)
        for previous, band in itertools.pairwise(bands):
            if previous.below is None or band.low < previous.below:
                self.out.add("bands-overlap", where, f"区间 {previous.label} 与 {band.label} 重叠")
            elif band.low > previous.below:
                self.out.add("bands-gap", where, f"区间 {previous.label} 与 {band.label} 之间有空缺")
        return BandScoring(measure, target, tuple(bands))

    def _check_tree(self, dims: list[Node], inds: list[Indicator], parents: set[Any]) -> None:
        keys = [n.key for n in (*dims, *inds)]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            self.out.add("duplicate-key", key, f"key “{key}”重复")
        by_key = {d.key: d for d in dims}
        indicator_keys = {i.key for i in inds}
        for node in (*dims, *inds):
            if node.parent is not None and node.parent not in by_key:
                what = "评价指标，不能作为上级" if node.parent in indicator_keys else "不存在的维度"
                self.out.add("unknown-parent", node.key, f"上级“{node.parent}”是{what}")
        reported: set[str] = set()
        for dim in dims:
            seen = [dim.key]
            parent = dim.parent
            while parent is not None and parent in by_key:
                if parent in seen:
                    cycle = [*seen[seen.index(parent):], parent]
                    if not reported & set(cycle):
                        self.out.add("model-cycle", dim.key, f"维度的上下级构成循环：{' → '.join(cycle)}")
                        reported |= set(cycle)
                    break
                seen.append(parent)
                parent = by_key[parent].parent
        for dim in dims:
            if dim.key not in parents:
                self.out.add("empty-dimension", dim.key, "维度下没有评价指标")

    def _check_weights(self, dims: list[Node], inds: list[Indicator], scale: int) -> None:
        top = sum(n.weight for n in (*dims, *inds) if n.parent is None)
        if top != scale:
            self.out.add("weights-do-not-add-up", "scale", f"一级维度的分值合计 {top}，不等于总分 {scale}")
        for dim in dims:
            total = sum(n.weight for n in (*dims, *inds) if n.parent == dim.key)
            if total != dim.weight:
                self.out.add("weights-do-not-add-up", dim.key, f"下级分值合计 {total}，不等于维度分值 {dim.weight}")

    def _grades(self, scale: int) -> list[Grade]:
        grades = []
        for n, table in enumerate(self._tables("grades"), 1):
            where = f"grades[{n}]"
            self._unknown_keys(table, {"symbol", "label", "min", "meaning"}, where)
            symbol = self._text(table, "symbol", where, limit=8)
            label = self._text(table, "label", where, limit=40)
            low = table.get("min")
            if isinstance(low, bool) or not isinstance(low, int):
                self.out.add("missing-key", where, "等级须有整数门槛 min")
                continue
            if not 0 <= low <= scale:
                self.out.add("threshold-out-of-range", where, f"等级 {symbol} 的门槛 {low} 超出得分范围 0–{scale}")
                continue
            if symbol:
                grades.append(Grade(symbol, label, low, str(table.get("meaning", ""))[:200]))
        if not grades and not self.out.problems:
            self.out.add("missing-key", "grades", "模型须至少有一个等级")
        symbols = [g.symbol for g in grades]
        for symbol in sorted({s for s in symbols if symbols.count(s) > 1}):
            self.out.add("duplicate-key", "grades", f"等级 {symbol} 重复")
        grades.sort(key=lambda g: -g.min_score)
        mins = [g.min_score for g in grades]
        if len(set(mins)) != len(mins):
            self.out.add("threshold-out-of-range", "grades", "两个等级的门槛相同")
        if grades and grades[-1].min_score != 0:
            self.out.add("grades-do-not-cover", "grades", f"最低等级的门槛应为 0（得分低于 {grades[-1].min_score} 的主体将没有等级）")
        return grades

    def _overrides(self, symbols: set[str], indicator_keys: set[str]) -> list[Override]:
        found = []
        for n, table in enumerate(self._tables("overrides"), 1):
            where = f"overrides[{n}]"
            self._unknown_keys(table, {"lists", "indicator", "at_most", "basis"}, where)
            grade = self._text(table, "at_most", where, limit=8)
            if grade and symbols and grade not in symbols:
                self.out.add("unknown-grade", where, f"等级 {grade} 不是模型中的等级")
            lists = self._strings(table, "lists", where, required=False)
            indicator = table.get("indicator")
            if bool(lists) == (indicator is not None):
                self.out.add("missing-key", where, "调整规则须且只能指明 lists（名单）或 indicator（指标）之一")
                continue
            for key in lists:
                if key not in self.list_types:
                    self.out.add("unknown-list-type", where, f"没有名单类型“{key}”（请先载入名单类型）")
            if indicator is not None and indicator not in indicator_keys:
                self.out.add("unknown-indicator", where, f"没有评价指标“{indicator}”")
            basis = self._text(table, "basis", where, limit=2000)
            found.append(Override(grade, lists, indicator, basis))
        return found


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
