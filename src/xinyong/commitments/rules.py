"""Pure rules of 信用承诺: the configuration (commitments.toml), the 承诺编码, the fulfilment rules, the
publication period decided by 公开类型, and the row rules the ingestion pipeline calls on every row of the
type (declared in its catalogue file as `row_rules`)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from xinyong.catalog import Catalog, RecordType
from xinyong.codes import is_region_code
from xinyong.errors import DomainError, NotFound
from xinyong.records.rules import add_months
from xinyong.records.validation import CleanRow, Problem

DEFAULT_FILE = Path(__file__).parent / "commitments.toml"

# 承诺履行状态
IN_PROGRESS, FULFILLED, PARTLY, NOT_FULFILLED = "履行中", "全部履行", "部分履行", "全部未履行"
BROKEN = (PARTLY, NOT_FULFILLED)
# 公开类型
PUBLIC, LIMITED, PRIVATE = "可向社会公开", "特定范围内公开", "不予公开"
OPENNESS = (PUBLIC, LIMITED, PRIVATE)
CODE_LENGTH = 20
REPAIR_KIND = "信用修复型"
# The role the commitment type is recognised by (a record type of the catalogue declaring it).
STATUS_ROLE = "pledge_status"


class CommitmentConfigError(DomainError):
    code = "commitments-config-invalid"
    status_code = 500
    message_template = "信用承诺配置有误（{where}）：{reason}"


@dataclass(frozen=True)
class Matter:
    key: str
    name: str
    verify_workdays: int


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    matter: str
    kind: str  # 承诺类型
    reason: str  # 承诺事由
    text: str  # 承诺内容: shown in full and agreed
    liability: str  # 违诺责任
    valid_months: int
    openness: str  # 公开类型
    basis: str


@dataclass(frozen=True)
class RepairCommitments:
    """How the repair workflow's 信用修复承诺 becomes a 信用修复型 commitment."""

    openness: str
    valid_months: int
    reason: str  # with {number}: the application's number
    liability: str
    basis: str


@dataclass(frozen=True)
class CommitmentConfig:
    broken_months: int
    publicity_basis: str
    verify_kinds: tuple[str, ...]
    default_workdays: int
    verify_basis: str
    actions: tuple[str, ...]
    refuse_matters: tuple[str, ...]
    serious_tiers: tuple[str, ...]
    consequences_basis: str
    repair_route: str
    matters: dict[str, Matter]
    templates: dict[str, Template]
    repair: RepairCommitments | None = None

    def template(self, key: str) -> Template:
        try:
            return self.templates[key]
        except KeyError:
            raise NotFound(what=f"承诺书模板“{key[:40]}”") from None

    def workdays_for(self, matter_name: str | None) -> int:
        for matter in self.matters.values():
            if matter.name == matter_name or matter.key == matter_name:
                return matter.verify_workdays
        return self.default_workdays


def _int(raw: dict[str, Any], name: str, default: int, where: str) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CommitmentConfigError(where=f"{where}.{name}", reason="须为正整数")
    return value


def _text(raw: dict[str, Any], name: str, where: str) -> str:
    value = str(raw.get(name, "")).strip()
    if not value:
        raise CommitmentConfigError(where=f"{where}.{name}", reason="不能为空")
    return value


def parse_config(raw: dict[str, Any], kinds: tuple[str, ...] = ()) -> CommitmentConfig:
    publicity, verification = raw.get("publicity", {}), raw.get("verification", {})
    consequences = raw.get("consequences", {})
    matters: dict[str, Matter] = {}
    for item in raw.get("matters", ()):
        key = _text(item, "key", "matters")
        matters[key] = Matter(key, _text(item, "name", f"matters.{key}"), _int(item, "verify_workdays", 20, key))
    templates: dict[str, Template] = {}
    for item in raw.get("templates", ()):
        key = _text(item, "key", "templates")
        where = f"templates.{key}"
        template = Template(
            key=key, name=_text(item, "name", where), matter=_text(item, "matter", where),
            kind=_text(item, "type", where), reason=_text(item, "reason", where), text=_text(item, "text", where),
            liability=_text(item, "liability", where), valid_months=_int(item, "valid_months", 12, where),
            openness=str(item.get("publicity", PUBLIC)), basis=_text(item, "basis", where),
        )  # fmt: skip
        if template.matter not in matters:
            raise CommitmentConfigError(where=where, reason=f"未定义的办理事项 {template.matter}")
        if template.openness not in OPENNESS:
            raise CommitmentConfigError(where=where, reason=f"公开类型须为 {'、'.join(OPENNESS)} 之一")
        if kinds and template.kind not in kinds:
            raise CommitmentConfigError(where=where, reason=f"承诺类型须为 {'、'.join(kinds)} 之一")
        if len(template.text) > 4000:
            raise CommitmentConfigError(where=where, reason="承诺内容不能超过 4000 字")
        templates[key] = template
    repair = None
    if "repair" in raw:
        table = raw["repair"]
        repair = RepairCommitments(
            openness=str(table.get("publicity", LIMITED)), valid_months=_int(table, "valid_months", 36, "repair"),
            reason=_text(table, "reason", "repair"), liability=_text(table, "liability", "repair"),
            basis=_text(table, "basis", "repair"),
        )  # fmt: skip
        if repair.openness not in OPENNESS:
            raise CommitmentConfigError(where="repair.publicity", reason=f"公开类型须为 {'、'.join(OPENNESS)} 之一")
    return CommitmentConfig(
        repair=repair,
        broken_months=_int(publicity, "broken_months", 12, "publicity"),
        publicity_basis=_text(publicity, "basis", "publicity"),
        verify_kinds=tuple(verification.get("types", ())),
        default_workdays=_int(verification, "default_workdays", 20, "verification"),
        verify_basis=_text(verification, "basis", "verification"),
        actions=tuple(str(a) for a in verification.get("actions", ())),
        refuse_matters=tuple(str(m) for m in consequences.get("check_matters", ())),
        serious_tiers=tuple(str(t) for t in consequences.get("serious_tiers", ("严重",))),
        consequences_basis=_text(consequences, "basis", "consequences"),
        repair_route=_text(consequences, "repair_route", "consequences"),
        matters=matters, templates=templates,
    )  # fmt: skip


@lru_cache(maxsize=4)
def load_config(path: Path | None = None) -> CommitmentConfig:
    file = path or DEFAULT_FILE
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CommitmentConfigError(where=file.name, reason=f"无法读取：{exc}") from None
    return parse_config(raw)


# ------------------------------------------------------------------------------------------ the type


@dataclass(frozen=True)
class Fields:
    """The column codes of the commitment type, reached by role."""

    key: str
    code: str  # 承诺编码
    name: str
    kind_of_subject: str
    uscc: str
    id_type: str
    id_number: str
    kind: str  # 承诺类型
    reason: str
    text: str
    liability: str
    made_on: str
    valid_until: str
    status: str
    unfulfilled: str
    pursued: str
    determined_on: str
    determined_by: str
    determined_by_code: str
    authority_name: str
    authority_code: str
    openness: str
    source_name: str
    source_code: str
    publicity_until: str

    @classmethod
    def of(cls, rtype: RecordType) -> Fields:
        """Worked out once per loaded type (catalogue types live as long as the process): it runs on every row."""
        hit = _FIELDS.get(id(rtype))
        if hit is not None and hit[0] is rtype:
            return hit[1]
        fields = cls._of(rtype)
        _FIELDS[id(rtype)] = (rtype, fields)
        return fields

    @classmethod
    def _of(cls, rtype: RecordType) -> Fields:
        def code(role: str) -> str:
            found = rtype.role_code(role)
            if found is None:
                raise CommitmentConfigError(where=rtype.key, reason=f"信用承诺类别缺少角色为 {role} 的字段")
            return found

        return cls(
            key=rtype.key, code=code("doc_no"), name=code("subject_name"), kind_of_subject=code("subject_kind"),
            uscc=code("uscc"), id_type=code("id_type"), id_number=code("id_number"), kind=code("pledge_kind"),
            reason=code("pledge_reason"), text=code("pledge_text"), liability=code("pledge_liability"),
            made_on=code("decision_date"), valid_until=code("valid_until"), status=code(STATUS_ROLE),
            unfulfilled=code("pledge_unfulfilled"), pursued=code("pledge_pursued"),
            determined_on=code("pledge_determined_on"), determined_by=code("pledge_determined_by"),
            determined_by_code=code("pledge_determined_by_code"), authority_name=code("authority_name"),
            authority_code=code("authority_code"), openness=code("pledge_openness"),
            source_name=code("source_name"), source_code=code("source_code"),
            publicity_until=code("publicity_until"),
        )  # fmt: skip


_FIELDS: dict[int, tuple[RecordType, Fields]] = {}


def commitment_type(catalog: Catalog) -> RecordType:
    """The catalogue's commitment type: the one whose fields declare the fulfilment status role."""
    for rtype in catalog.types.values():
        if rtype.role_code(STATUS_ROLE):
            return rtype
    raise NotFound(what="信用承诺信息类别（目录中没有声明履行状态字段的类别）")


def kinds_of(rtype: RecordType) -> tuple[str, ...]:
    spec = rtype.field_by_role("pledge_kind")
    return spec.values if spec else ()


def statuses_of(rtype: RecordType) -> tuple[str, ...]:
    spec = rtype.field_by_role(STATUS_ROLE)
    return spec.values if spec else ()


def is_broken(status: str | None) -> bool:
    return status in BROKEN


# ------------------------------------------------------------------------------------- the 承诺编码


def code_problems(code: str, made_on: date | None) -> list[tuple[str, str]]:
    """(problem code, message) for a 承诺编码: 20 digits = 6-digit 行政区划 + 8-digit 承诺作出日期 + 6-digit serial."""
    if len(code) != CODE_LENGTH:
        return [("commitment-code-length", f"承诺编码应为 20 位（6 位行政区划代码 + 8 位承诺作出日期 + 6 位流水号），实际 {len(code)} 位")]
    if not (code.isascii() and code.isdigit()):
        return [("commitment-code-format", "承诺编码只能由数字组成（6 位行政区划代码 + 8 位日期 + 6 位流水号）")]
    problems: list[tuple[str, str]] = []
    if not is_region_code(code[:6]):
        problems.append(("commitment-code-region", f"承诺编码前 6 位“{code[:6]}”不是有效的行政区划代码"))
    part = code[6:14]
    try:
        day = date(int(part[:4]), int(part[4:6]), int(part[6:]))
    except ValueError:
        problems.append(("commitment-code-date", f"承诺编码第 7–14 位“{part}”不是有效日期（YYYYMMDD）"))
    else:
        if made_on is not None and day != made_on:
            problems.append(("commitment-code-date", f"承诺编码第 7–14 位日期“{part}”与承诺作出日期 {made_on.isoformat()} 不一致"))
    return problems


def make_code(region: str, made_on: date, serial: int) -> str:
    return f"{region}{made_on:%Y%m%d}{serial:06d}"


# --------------------------------------------------------------------------------------- publication


def publicity_until(
    *, openness: str, status: str, made_on: date, valid_until: date | None, determined_on: date | None,
    broken_months: int,
) -> date:  # fmt: skip
    """The last day the public sees the commitment: its validity when 可向社会公开 (open-ended: the type's
    maximum); when broken, the 违诺 publicity period from the day the breach was determined. A commitment
    not open to the public gets a day before it was made, so that no public surface ever shows it."""
    if openness != PUBLIC:
        return made_on - timedelta(days=1)
    if is_broken(status):
        start = determined_on or made_on
        return add_months(start, broken_months) - timedelta(days=1)
    if valid_until is not None:
        return valid_until
    return add_months(made_on, 1200) - timedelta(days=1)


# ------------------------------------------------------------------------------------------ row rules


def check_row(rtype: RecordType, row: CleanRow, today: date) -> None:
    """The cross-field rules of a commitment row (declared in the catalogue as its `row_rules`): the parts of
    the 承诺编码, the order of the dates, and the publication period, filled in 公示截止日期."""
    f = Fields.of(rtype)
    values, number = row.values, row.row

    def problem(column: str | None, code: str, value: Any, message: str) -> None:
        row.problems.append(Problem(number, column, code, None if value is None else str(value)[:200], message))

    made_on = values.get(f.made_on)
    code = values.get(f.code)
    if code:
        for problem_code, message in code_problems(code, made_on):
            problem(f.code, problem_code, code, message)
    valid_until = values.get(f.valid_until)
    if made_on and valid_until and valid_until < made_on:
        problem(f.valid_until, "date-order", valid_until.isoformat(),
                f"承诺有效期至（{valid_until.isoformat()}）早于承诺作出日期（{made_on.isoformat()}）")  # fmt: skip
    determined_on = values.get(f.determined_on)
    if made_on and determined_on and determined_on < made_on:
        problem(f.determined_on, "date-order", determined_on.isoformat(),
                f"履行状态认定日期（{determined_on.isoformat()}）早于承诺作出日期（{made_on.isoformat()}）")  # fmt: skip
    status = values.get(f.status)
    openness = values.get(f.openness)
    if made_on and status and openness:
        until = publicity_until(openness=openness, status=status, made_on=made_on, valid_until=valid_until,
                                determined_on=determined_on, broken_months=load_config().broken_months)  # fmt: skip
        values[f.publicity_until] = until
        row.payload[f.publicity_until] = until.isoformat()


# ------------------------------------------------------------------------------------------ online


def content_hash(*, template_key: str, text: str, liability: str, subject_name: str, made_on: date,
                 valid_until: date) -> str:  # fmt: skip
    """SHA-256 of what the subject agreed to, as printed on its copy."""
    canonical = "\x1e".join([template_key, text, liability, subject_name, made_on.isoformat(), valid_until.isoformat()])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def verification_due(calendar: Any, made_on: date, workdays: int) -> date:
    return calendar.add_workdays(made_on, workdays)  # type: ignore[no-any-return]
