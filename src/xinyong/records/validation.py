"""Row validation, compiled from a catalogue record type.

Every problem is data: ``Problem(row, column, code, value, message, severity)`` with a stable kebab-case
code and a Chinese message that tells the department what to fix. The validator is compiled once per
file (header order known) into a list of small converters, because it runs on every row of
million-row imports.

Every cell that may hold free text (text fields, and enum fields that keep unknown values) is scanned for
ID numbers (codes/idtext.py): a hit is masked in the value the rest of the pipeline uses and publishes,
the clear text joins the row's sealed part, and the department gets an ``id-number-in-text`` warning.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, cast

from xinyong.catalog.schema import CatalogError, FieldSpec, RecordType, header_key
from xinyong.codes import (
    RESIDENT_ID_TYPES,
    CodeError,
    find_id_numbers,
    is_individual_business,
    make_org_code,
    mask_id_number,
    mask_id_numbers,
    normalize_code,
    validate_id_number,
    validate_legacy,
    validate_uscc,
)
from xinyong.codes.idtext import Found, is_plausible_id_number, mask_found, might_hold_id_number
from xinyong.errors import FileRejected
from xinyong.records.prepare import Prepared, prepare

ERROR = "error"
WARNING = "warning"

MAX_AMOUNT = Decimal("999999999999.999999")  # decimal(18,6)
SUSPECT_AMOUNT = Decimal(100000)  # 10 亿元 — far more often a fine written in 元 than a real one
_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])
_MULTI_SPLIT = re.compile(r"[;；,，、/]+")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


@dataclass(slots=True)
class Problem:
    row: int
    column: str | None
    code: str
    value: str | None
    message: str
    severity: str = ERROR

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "value": self.value,
            "message": self.message,
        }


class Invalid(Exception):
    """A converter's rejection of one cell."""

    def __init__(self, code: str, message: str, severity: str = ERROR) -> None:
        self.code = code
        self.message = message
        self.severity = severity


@dataclass(slots=True)
class CleanRow:
    row: int
    values: dict[str, Any]  # code → cleaned value (str, date, Decimal, list[str])
    payload: dict[str, str]  # code → published form (protected values and ID numbers in text masked)
    sealed: dict[str, str]  # code → clear value of protected fields and of text that held ID numbers
    problems: list[Problem] = field(default_factory=list)
    # Set only when one run carries rows reported on different days (loading demo or migrated data).
    reported_on: date | None = None
    # What storing needs that the database does not decide (prepare.py); set by validated_chunks on valid rows.
    prepared: Prepared | None = field(default=None, compare=False, repr=False)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


# ---------------------------------------------------------------------------------------------- values


@lru_cache(maxsize=65536)
def parse_date(value: str) -> date:
    for pattern in _DATE_PATTERNS:
        match = pattern.match(value)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise Invalid("invalid-date", f"“{value}”不是有效日期，请使用 YYYY-MM-DD 格式")


@lru_cache(maxsize=65536)
def parse_amount(value: str) -> Decimal:
    text = value.replace(",", "").replace("，", "").strip()
    if text.endswith("万元"):
        text = text[:-2]
    elif text.endswith("元"):
        raise Invalid("amount-unit", f"金额“{value}”以“元”为单位，应填写以“万元”为单位的数字（如 2000 元填 0.2）")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise Invalid("invalid-amount", f"金额“{value}”不是数字，应填写以万元为单位的数字（如 0.2）") from None
    if not amount.is_finite():
        raise Invalid("invalid-amount", f"金额“{value}”不是数字")
    if amount < 0:
        raise Invalid("negative-amount", f"金额“{value}”不能为负数")
    if amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.000001")):
        raise Invalid("amount-precision", f"金额“{value}”超出范围，整数最多 12 位、小数最多 6 位")
    return amount


def format_amount(amount: Decimal) -> str:
    text = format(amount.normalize(), "f")
    return text


def clean_text(value: str) -> str:
    # Control characters are never meaningful in a record and break exports and terminals.
    return value.translate(_CONTROL) if not value.isprintable() else value


def _code_error(exc: CodeError) -> Invalid:
    return Invalid(exc.code, exc.message)


# ------------------------------------------------------------------------------------------ converters

Converter = Callable[[str, dict[str, Any]], Any]


def _converter(spec: FieldSpec, today: date) -> Converter:
    kind = spec.kind
    if kind == "text":
        limit = spec.max_length

        def text(value: str, _: dict[str, Any]) -> str:
            value = clean_text(value)
            if limit is not None and len(value) > limit:
                raise Invalid("too-long", f"{spec.title}过长（{len(value)} 字），最多 {limit} 字")
            return value

        return text

    if kind == "enum":
        allowed = frozenset(spec.values)
        aliases = spec.value_aliases
        warn = spec.on_unknown == "warning"

        def enum(value: str, _: dict[str, Any]) -> str:
            if warn:  # an unknown value is kept: cleaned as text is
                value = clean_text(value)
            value = aliases.get(value, value)
            if value not in allowed:
                raise Invalid(
                    "invalid-value",
                    f"“{value}”不是有效的{spec.title}，可选值：{'、'.join(spec.values)}",
                    WARNING if warn else ERROR,
                )
            return value

        return enum

    if kind == "multi_enum":
        allowed_set = frozenset(spec.values)
        legacy = spec.legacy_values

        def multi(value: str, _: dict[str, Any]) -> list[str]:
            result: list[str] = []
            for part in _MULTI_SPLIT.split(value):
                part = part.strip()
                if not part:
                    continue
                if part in allowed_set:
                    names: tuple[str, ...] = (part,)
                elif part in legacy:
                    names = legacy[part]
                else:
                    raise Invalid(
                        "invalid-value", f"“{part}”不是有效的{spec.title}，可选值：{'、'.join(spec.values)}"
                    )
                result.extend(n for n in names if n not in result)
            if not result:
                raise Invalid("required", f"{spec.title}不能为空")
            return result

        return multi

    if kind == "date":
        future_ok = spec.future_allowed

        def date_(value: str, _: dict[str, Any]) -> date:
            parsed = parse_date(value)
            if not future_ok and parsed > today:
                raise Invalid("future-date", f"{spec.title}“{parsed.isoformat()}”晚于今天，日期不能在未来")
            return parsed

        return date_

    if kind == "decimal":

        def amount(value: str, _: dict[str, Any]) -> Decimal:
            return parse_amount(value)

        return amount

    if kind == "uscc":

        def uscc(value: str, _: dict[str, Any]) -> str:
            try:
                return validate_uscc(value)
            except CodeError as exc:
                raise _code_error(exc) from None

        return uscc

    if kind.startswith("legacy:"):
        legacy_kind = kind.removeprefix("legacy:")

        def legacy_code(value: str, _: dict[str, Any]) -> str:
            try:
                return validate_legacy(legacy_kind, value)
            except CodeError as exc:
                raise _code_error(exc) from None

        return legacy_code

    if kind == "id_number":
        type_field = spec.type_field

        def id_number(value: str, values: dict[str, Any]) -> str:
            id_type = values.get(type_field, "") if type_field else ""
            if id_type in RESIDENT_ID_TYPES:
                try:
                    return validate_id_number(value, today=today)
                except CodeError as exc:
                    raise _code_error(exc) from None
            number = normalize_code(value)
            if not 4 <= len(number) <= 40:
                raise Invalid("id-format", f"{spec.title}格式不正确（{mask_id_number(number)}）")
            return number

        return id_number

    raise AssertionError(f"unhandled field kind {kind}")  # the catalogue loader rejects unknown kinds


def _published(spec: FieldSpec, value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, list):
        return ";".join(value)
    if spec.protected:
        return mask_id_number(value)
    return value


# ------------------------------------------------------------------------------------------- row rules

# A record type's declared `row_rules` (catalogue): called with the type, each validated row and today's date,
# it may add problems and fill derived fields; the row is then stored (or rejected) as usual.
RowRules = Callable[[RecordType, CleanRow, date], None]


@lru_cache(maxsize=16)
def row_rules_of(name: str) -> RowRules:
    module_name, _, function = name.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError):
        raise CatalogError(where="row_rules", reason=f"找不到 {name}") from None
    return found  # type: ignore[no-any-return]


# -------------------------------------------------------------------------------------------- validator


class RowValidator:
    """Validates rows of one file whose header row has been mapped to catalogue fields."""

    def __init__(
        self,
        record_type: RecordType,
        headers: list[str],
        *,
        department_code: str,
        today: date,
    ) -> None:
        self.record_type = record_type
        self.department_code = department_code
        self.today = today
        self.file_problems: list[Problem] = []
        index = record_type.header_index()
        by_code = {spec.code: spec for spec in record_type.fields}
        self.columns: list[tuple[int, FieldSpec]] = []
        seen: dict[str, str] = {}
        for position, header in enumerate(headers):
            if not header.strip():
                continue
            code = index.get(header_key(header))
            if code is None:
                self.file_problems.append(
                    Problem(
                        1, header, "unknown-column", header,
                        f"未识别的列“{header}”，该列内容不会导入", WARNING,
                    )
                )  # fmt: skip
                continue
            if code in seen:
                raise FileRejected(
                    "duplicate-column", f"列“{header}”与“{seen[code]}”表示同一字段（{code}），请删除其一"
                )
            seen[code] = header
            self.columns.append((position, by_code[code]))
        present = set(seen)
        missing = [spec for spec in record_type.fields if spec.required and spec.code not in present]
        if missing:
            names = "、".join(f"{spec.title}（{spec.code}）" for spec in missing)
            raise FileRejected("missing-column", f"缺少必填列：{names}")
        # Fields whose converter reads another field (the ID number reads its type) come last.
        self.columns.sort(key=lambda item: item[1].type_field is not None)
        self.width = len(headers)
        # Columns whose accepted value needs a second look (old category names, personal tax numbers).
        self._converters = [
            (pos, spec, _converter(spec, today), spec.kind == "legacy:tax_number" or bool(spec.legacy_values),
             _scanned(spec))
            for pos, spec in self.columns
        ]
        self._required = [s for s in record_type.fields if s.required]
        self._conditional = [s for s in record_type.fields if s.required_if is not None]
        roles = {spec.role: spec.code for spec in record_type.fields if spec.role}
        self.roles = roles
        self._titles = {spec.code: spec.title for spec in record_type.fields}
        self._protected = frozenset(spec.code for spec in record_type.fields if spec.protected)
        self._code_columns = frozenset(
            spec.code for spec in record_type.fields if spec.kind == "uscc" or spec.kind.startswith("legacy:")
        )
        self._row_rules = row_rules_of(record_type.row_rules) if record_type.row_rules else None

    def validate(self, row_number: int, cells: list[str]) -> CleanRow:
        values: dict[str, Any] = {}
        payload: dict[str, str] = {}
        sealed: dict[str, str] = {}
        problems: list[Problem] = []
        ncells = len(cells)
        for position, spec, convert, review, scan in self._converters:
            raw = cells[position] if position < ncells else ""
            if not raw:
                continue
            try:
                value = convert(raw, values)
            except Invalid as exc:
                if spec.code in self._code_columns and _is_id_number(raw, self.today):
                    problems.append(_misplaced_id(row_number, spec, raw, ERROR))
                    continue
                shown = mask_id_number(raw) if spec.code in self._protected else _shown(raw, self.today)
                problems.append(Problem(row_number, spec.code, exc.code, shown, mask_id_numbers(exc.message),
                                        exc.severity))  # fmt: skip
                if exc.severity == ERROR:
                    continue
                value = clean_text(raw)  # kept with a warning: cleaned as text is
            if scan and might_hold_id_number(value):
                found = list(find_id_numbers(value, today=self.today))
                if found:
                    if scan == _SCAN_CODE:
                        # A 社会组织登记证号 (the column takes any text) holding one: dropped, as a tax number is.
                        problems.append(_misplaced_id(row_number, spec, found[0].number, WARNING))
                        continue
                    sealed[spec.code] = value
                    value = mask_found(value, found)
                    problems.append(_id_in_text(row_number, spec, found))
            if review:
                if spec.kind == "legacy:tax_number" and _is_personal_tax_number(value, self.today):
                    # Individuals' tax numbers are their ID numbers: never stored in clear, and not needed to
                    # identify a subject, so the value is dropped and the department told why.
                    problems.append(_misplaced_id(row_number, spec, raw, WARNING))
                    continue
                if spec.legacy_values and ";".join(value) != raw:
                    note = _legacy_note(spec, raw)
                    if note:
                        problems.append(Problem(row_number, spec.code, "legacy-value", _shown(raw, self.today),
                                                mask_id_numbers(note), WARNING))  # fmt: skip
            values[spec.code] = value
            if spec.protected:
                sealed[spec.code] = value
                payload[spec.code] = _published(spec, value)
            else:
                payload[spec.code] = value if value.__class__ is str else _published(spec, value)
        extra = ncells > self.width and any(cells[self.width :])
        return self._finish_row(row_number, values, payload, sealed, problems, extra)

    def _finish_row(self, row_number: int, values: dict[str, Any], payload: dict[str, Any], sealed: dict[str, str],
                    problems: list[Problem], extra_cells: bool) -> CleanRow:  # fmt: skip
        """The checks that read several cells of a row, once its cells are judged (both validators end here)."""
        if extra_cells:
            problems.append(
                Problem(row_number, None, "extra-cells", None, "该行的单元格多于表头列数，多出的内容未导入", WARNING)
            )
        for spec in self._required:
            if spec.code not in values and not _has_problem(problems, spec.code):
                problems.append(Problem(row_number, spec.code, "required", "", f"{spec.title}为必填项"))
        for spec in self._conditional:
            condition = spec.required_if
            assert condition is not None
            if (
                spec.code not in values
                and condition.holds(values.get(condition.field))
                and not _has_problem(problems, spec.code)
            ):
                other = self._titles[condition.field]
                problems.append(
                    Problem(
                        row_number, spec.code, "required-if", "",
                        f"{other}为“{_describe(values[condition.field], condition)}”时，{spec.title}为必填项",
                    )
                )  # fmt: skip
        self._cross_checks(row_number, values, problems)
        clean = CleanRow(row_number, values, payload, sealed, problems)
        if self._row_rules is not None:
            self._row_rules(self.record_type, clean, self.today)
        return clean

    def _cross_checks(self, row_number: int, values: dict[str, Any], problems: list[Problem]) -> None:
        roles = self.roles
        kind = values.get(roles.get("subject_kind", ""))
        uscc_code = roles.get("uscc")
        uscc = values.get(uscc_code) if uscc_code else None
        if uscc and kind:
            if is_individual_business(uscc) and kind != "个体工商户":
                problems.append(
                    Problem(
                        row_number, uscc_code, "uscc-kind-mismatch", uscc,
                        f"统一社会信用代码以 92 开头，属于个体工商户，但相对人类别填写为“{kind}”",
                    )
                )  # fmt: skip
            elif kind == "个体工商户" and not is_individual_business(uscc):
                problems.append(
                    Problem(
                        row_number, uscc_code, "uscc-kind-mismatch", uscc,
                        "相对人类别为个体工商户，但统一社会信用代码不是以 92 开头",
                    )
                )  # fmt: skip
        start_code, end_code = roles.get("valid_from"), roles.get("valid_until")
        if start_code and end_code:
            start, end = values.get(start_code), values.get(end_code)
            if start and end and end < start:
                problems.append(
                    Problem(
                        row_number, end_code, "date-order", end.isoformat(),
                        f"{self._titles[end_code]}（{end.isoformat()}）早于{self._titles[start_code]}（{start.isoformat()}）",
                    )
                )  # fmt: skip
        source_code = roles.get("source_code")
        source = values.get(source_code) if source_code else None
        if source and source != self.department_code:
            problems.append(
                Problem(
                    row_number, source_code, "department-code-mismatch", source,
                    f"数据来源单位代码 {source} 与上报部门代码 {self.department_code} 不一致，只能上报本部门的信息",
                )
            )  # fmt: skip
        fine_code = roles.get("fine_amount")
        fine = values.get(fine_code) if fine_code else None
        if fine is not None and fine > SUSPECT_AMOUNT:
            problems.append(
                Problem(
                    row_number, fine_code, "amount-unit-suspect", format_amount(fine),
                    "金额超过 10 亿元，请确认是否把“元”误填为“万元”", WARNING,
                )
            )  # fmt: skip


# How a column's accepted values are scanned for ID numbers: free text is masked and sealed; a 社会组织登记证号
# (any text) that holds one is dropped. Personal tax numbers are caught by _is_personal_tax_number; 工商注册号,
# 组织机构代码 and 事业单位证书号 are not scanned: their formats and check digits tell them apart, and a
# 15-digit 工商注册号 that passes its own check is taken for what the column says.
_SCAN_TEXT = 1
_SCAN_CODE = 2


def _scanned(spec: FieldSpec) -> int:
    if spec.kind == "text" or (spec.kind == "enum" and spec.on_unknown == "warning"):
        return _SCAN_TEXT
    return _SCAN_CODE if spec.kind == "legacy:social_org_cert" else 0


def _id_in_text(row_number: int, spec: FieldSpec, found: list[Found]) -> Problem:
    masked = "、".join(dict.fromkeys(hit.masked for hit in found))
    return Problem(
        row_number, spec.code, "id-number-in-text", masked[:200],
        f"{spec.title}中含有身份证号码（{masked}），公示时已遮蔽，原文已加密保存；"
        "请勿在该字段填写个人证件号码，并更正本部门系统中的数据",
        WARNING,
    )  # fmt: skip


def _shown(raw: str, today: date) -> str:
    """A rejected cell as the report shows it: ID numbers masked before the cut, so none is cut in half."""
    return mask_id_numbers(raw, today=today)[:200]


def _is_id_number(value: str, today: date) -> bool:
    code = normalize_code(value)
    if len(code) not in (15, 18) or not code[:15].isdigit():
        return False
    try:
        validate_id_number(code, today=today)
    except CodeError:
        return False
    return True


def _is_personal_tax_number(code: str, today: date) -> bool:
    """A tax number issued to a person: the 18-character ID number, or a 15-digit first-generation one
    (a 15-character number whose last 9 are a valid 组织机构代码 belongs to an organisation), mistyped or not."""
    if len(code) == 15:
        try:
            if make_org_code(code[6:14]) == code[6:]:
                return False
        except CodeError:
            pass
    return is_plausible_id_number(code, today)


def _misplaced_id(row_number: int, spec: FieldSpec, raw: str, severity: str) -> Problem:
    masked = mask_id_number(raw)
    outcome = "该行未导入" if severity == ERROR else "为保护个人信息，该值未导入"
    return Problem(
        row_number, spec.code, "id-number-misplaced", masked,
        f"{spec.title}中填写的是身份证号码（{masked}），{outcome}；个人证件号码请填入证件号码列",
        severity,
    )  # fmt: skip


def _legacy_note(spec: FieldSpec, raw: str) -> str | None:
    """Old names are accepted, but the department is told what they became so its system can catch up."""
    mapped = [
        f"“{part}”按“{'、'.join(spec.legacy_values[part])}”"
        for part in (p.strip() for p in _MULTI_SPLIT.split(raw))
        if part in spec.legacy_values and part not in spec.values
    ]
    if not mapped:
        return None
    return f"{spec.title}使用了 2021 年《行政处罚法》修订前的名称，已将{'，'.join(mapped)}导入，请改用现行名称"


def _has_problem(problems: list[Problem], code: str) -> bool:
    return any(p.column == code for p in problems)


def _describe(value: Any, condition: Any) -> str:
    if condition.contains is not None:
        return f"含{condition.contains}"
    return str(value)



# ------------------------------------------------------------------------------------- column at a time

# A cell's outcome, computed once per distinct value of a column within a chunk: the value kept (or _ABSENT:
# an empty cell, a refused one, or one dropped with a warning), its published form, its clear form when it is
# sealed (else None), and its problems as (code, value, message, severity) without a row number (else ()).
_ABSENT: Any = object()
_Outcome = tuple[Any, Any, str | None, tuple[tuple[str, str | None, str, str], ...]]
_EMPTY_OUTCOME: _Outcome = (_ABSENT, _ABSENT, None, ())


class ChunkValidator(RowValidator):
    """RowValidator over a whole chunk, column by column: every distinct value of a column is converted,
    scanned and judged once, and the rows are then assembled from those outcomes. Real files repeat most of
    their values (a department, its case types, a handful of dates per day), so most cells cost a dictionary
    look-up instead of a conversion. The outcome is exactly `validate`'s, row for row, problem for problem,
    in the same order (a property test holds the two together); `validate` stays for single rows."""

    def validate_chunk(self, rows: Sequence[tuple[int, list[str]]]) -> list[CleanRow]:
        if not rows:
            return []
        width = self.width
        grid = [cells if len(cells) >= width else [*cells, *([""] * (width - len(cells)))] for _, cells in rows]
        columns = list(zip(*grid, strict=False)) if width else []
        count = len(rows)
        codes: list[str] = []
        value_columns: list[Sequence[Any]] = []
        payload_columns: list[Sequence[Any]] = []
        # Columns where some cell is sealed or has problems: (code, clear values, problems), in column order.
        extras: list[tuple[str, list[str | None] | None, list[tuple[Any, ...]] | None]] = []
        attention: set[int] = set()  # the rows with one of those
        by_code: dict[str, Sequence[Any]] = {}
        for position, spec, convert, review, scan in self._converters:
            column = columns[position]
            memo: dict[Any, _Outcome] = {"": _EMPTY_OUTCOME}
            if spec.type_field is not None:
                # The converter reads the row's accepted value of another field: the outcome depends on both.
                types = by_code.get(spec.type_field)
                keys: Sequence[Any] = list(zip(types, column, strict=True)) if types is not None else column
                outcomes = []
                for key in keys:
                    outcome = memo.get(key)
                    if outcome is None:
                        raw, id_type = (key[1], key[0]) if types is not None else (key, _ABSENT)
                        typed = {} if id_type is _ABSENT else {spec.type_field: id_type}
                        outcome = _EMPTY_OUTCOME if not raw else self._cell(spec, convert, review, scan, raw, typed)
                        memo[key] = outcome
                    outcomes.append(outcome)
            else:
                for raw in set(column):
                    if raw not in memo:
                        memo[raw] = self._cell(spec, convert, review, scan, raw, {})
                outcomes = list(map(memo.__getitem__, column))
            kept = [o[0] for o in outcomes]
            codes.append(spec.code)
            value_columns.append(kept)
            payload_columns.append([o[1] for o in outcomes])
            by_code[spec.code] = kept
            has_sealed = any(o[2] is not None for o in memo.values())
            has_problems = any(o[3] for o in memo.values())
            if has_sealed or has_problems:
                clear = [o[2] for o in outcomes] if has_sealed else None
                found = [o[3] for o in outcomes] if has_problems else None
                extras.append((spec.code, clear, found))
                attention.update(i for i, o in enumerate(outcomes) if o[2] is not None or o[3])

        cleaned: list[CleanRow] = []
        append = cleaned.append
        finish = self._finish_row
        for index, (row_number, cells), row_values, row_payload in zip(
            range(count), rows, zip(*value_columns, strict=True), zip(*payload_columns, strict=True), strict=True
        ):  # fmt: skip
            values = {code: v for code, v in zip(codes, row_values, strict=True) if v is not _ABSENT}
            payload = {code: p for code, p in zip(codes, row_payload, strict=True) if p is not _ABSENT}
            sealed: dict[str, str] = {}
            problems: list[Problem] = []
            if index in attention:  # sealed values and problems in column order, as validate() adds them
                for code, clear, found in extras:
                    if clear is not None and clear[index] is not None:
                        sealed[code] = cast(str, clear[index])
                    if found is not None:
                        for p_code, p_value, message, severity in found[index]:
                            problems.append(Problem(row_number, code, p_code, p_value, message, severity))
            append(finish(row_number, values, payload, sealed, problems, len(cells) > width and any(cells[width:])))
        return cleaned

    def _cell(self, spec: FieldSpec, convert: Converter, review: bool, scan: int, raw: str,
              values: dict[str, Any]) -> _Outcome:  # fmt: skip
        """One non-empty cell, as validate() judges it (row number left out)."""
        problems: list[tuple[str, str | None, str, str]] = []
        sealed: str | None = None
        try:
            value = convert(raw, values)
        except Invalid as exc:
            if spec.code in self._code_columns and _is_id_number(raw, self.today):
                problems.append(_misplaced_id_parts(spec, raw, ERROR))
                return (_ABSENT, _ABSENT, None, tuple(problems))
            shown = mask_id_number(raw) if spec.code in self._protected else _shown(raw, self.today)
            problems.append((exc.code, shown, mask_id_numbers(exc.message), exc.severity))
            if exc.severity == ERROR:
                return (_ABSENT, _ABSENT, None, tuple(problems))
            value = clean_text(raw)  # kept with a warning: cleaned as text is
        if scan and might_hold_id_number(value):
            found = list(find_id_numbers(value, today=self.today))
            if found:
                if scan == _SCAN_CODE:
                    problems.append(_misplaced_id_parts(spec, found[0].number, WARNING))
                    return (_ABSENT, _ABSENT, None, tuple(problems))
                sealed = value
                value = mask_found(value, found)
                p = _id_in_text(0, spec, found)
                problems.append((p.code, p.value, p.message, p.severity))
        if review:
            if spec.kind == "legacy:tax_number" and _is_personal_tax_number(value, self.today):
                problems.append(_misplaced_id_parts(spec, raw, WARNING))
                return (_ABSENT, _ABSENT, None, tuple(problems))
            if spec.legacy_values and ";".join(value) != raw:
                note = _legacy_note(spec, raw)
                if note:
                    problems.append(("legacy-value", _shown(raw, self.today), mask_id_numbers(note), WARNING))
        if spec.protected:
            return (value, _published(spec, value), value, tuple(problems))
        published = value if value.__class__ is str else _published(spec, value)
        return (value, published, sealed, tuple(problems))


def _misplaced_id_parts(spec: FieldSpec, raw: str, severity: str) -> tuple[str, str | None, str, str]:
    p = _misplaced_id(0, spec, raw, severity)
    return (p.code, p.value, p.message, p.severity)


def prepare_chunk(validator: RowValidator, chunk: list[CleanRow]) -> None:
    """Sets `prepared` on the chunk's valid rows (see prepare.py): here, in the validating process."""
    name_code = validator.record_type.role_fields["subject_name"].code
    for row in chunk:
        if not row.has_errors:
            row.prepared = prepare(row.values[name_code], row.payload, row.sealed)


def validated_chunks(validator: ChunkValidator, rows: Iterable[Any], size: int) -> Iterator[list[CleanRow]]:
    """Chunks of `size` rows, each validated column by column. Items are (row number, cells) or (row number,
    cells, reporting day). A file that breaks midway (a bad byte: FileRejected from the reader) yields the rows
    before the break first, then raises, so that they are stored and the batch reports where it stopped."""
    iterator = iter(rows)
    while True:
        items: list[Any] = []
        broken: FileRejected | None = None
        try:
            for item in iterator:
                items.append(item)
                if len(items) >= size:
                    break
        except FileRejected as exc:
            broken = exc
        if items:
            chunk = validator.validate_chunk([(item[0], item[1]) for item in items])
            if len(items[0]) > 2:
                for clean, item in zip(chunk, items, strict=True):
                    clean.reported_on = item[2]
            prepare_chunk(validator, chunk)
            yield chunk
        if broken is not None:
            raise broken
        if len(items) < size:
            return
