"""Pure rules of credit reports: report numbers and their check character, the span of a special report,
the sections and their order, and the canonical form whose digest a report is registered under."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from xinyong.errors import DomainError, InvalidInput, NotFound
from xinyong.records.rules import add_months

# ----------------------------------------------------------------------------------------------- numbers

# The alphabet of the unified social credit code (no I, O, S, V, Z): nothing that reads as another character.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {c: i for i, c in enumerate(ALPHABET)}
PREFIX = "XY"
RANDOM_CHARS = 9  # 31**9: about 44 bits, beside the day
NUMBER_LENGTH = len(PREFIX) + 8 + RANDOM_CHARS + 1


class MalformedNumber(InvalidInput):
    code = "report-number-malformed"
    status_code = 400
    message_template = "报告编号格式不正确：应为 {length} 位，以 XY 和 8 位日期开头，由数字和大写字母组成"


class AlteredNumber(NotFound):
    code = "report-number-altered"
    message_template = "报告编号校验不通过：该编号被改动过或输入有误，不是本平台出具的报告编号"


class UnknownNumber(NotFound):
    code = "report-number-unknown"
    message_template = "未找到编号为 {number} 的报告：本平台没有出具过该编号的报告"


def check_character(body: str) -> str:
    """Weighted sum modulo 31 (the prime size of the alphabet), weights 3**i mod 31, never 0 and never equal for
    neighbours: any one changed character and any swap of two neighbouring ones changes the check."""
    total = sum(_VALUES[c] * pow(3, i, 31) for i, c in enumerate(body))
    return ALPHABET[(31 - total % 31) % 31]


def new_number(day: date) -> str:
    body = PREFIX + day.strftime("%Y%m%d") + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return body + check_character(body)


def parse_number(text: str | None) -> str:
    """The number in normal form (upper case, no spaces or hyphens). MalformedNumber when it cannot be one,
    AlteredNumber when its check character does not agree."""
    number = "".join((text or "").split()).replace("-", "").upper()[:64]
    if (len(number) != NUMBER_LENGTH or not number.startswith(PREFIX) or not number[2:10].isdigit()
            or any(c not in _VALUES for c in number)):  # fmt: skip
        raise MalformedNumber(length=NUMBER_LENGTH)
    if check_character(number[:-1]) != number[-1]:
        raise AlteredNumber()
    return number


# -------------------------------------------------------------------------------------------------- span

MAX_SPAN_YEARS = 5  # 发改财金〔2025〕565号: the special report covers a chosen span of at most five years
DEFAULT_SPAN_YEARS = 3


class SpanRefused(InvalidInput):
    code = "report-span-invalid"


@dataclass(frozen=True)
class Span:
    start: date
    end: date

    @property
    def text(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"


def parse_day(text: str | None, *, title: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10]) if len(text) == 10 else date.fromisoformat(text)
    except ValueError:
        raise SpanRefused(reason=f"{title}“{text[:20]}”不是有效日期（应为 YYYY-MM-DD）") from None


def special_span(start: date | None, end: date | None, *, today: date) -> Span:
    """The span of a special report: both ends inclusive, never in the future, never reversed, at most five
    years; without ends, the last three years to today."""
    end = end or today
    if end > today:
        raise SpanRefused(reason=f"截止日期 {end.isoformat()} 晚于今天，报告只能反映已经发生的情况")
    start = start or add_months(end, -12 * DEFAULT_SPAN_YEARS) + timedelta(days=1)
    if start > end:
        raise SpanRefused(reason=f"起始日期 {start.isoformat()} 晚于截止日期 {end.isoformat()}")
    earliest = add_months(end, -12 * MAX_SPAN_YEARS) + timedelta(days=1)
    if start < earliest:
        raise SpanRefused(reason=f"查询期最长 {MAX_SPAN_YEARS} 年：截止 {end.isoformat()} 的报告最早从 "
                                 f"{earliest.isoformat()} 起")  # fmt: skip
    return Span(start, end)


# ---------------------------------------------------------------------------------------------- sections

EMPTY_TEXT = "查询期内无相关信息"
NOTHING_FOUND = "未发现违法违规记录"

# The public credit report's sections, after the 信用中国 report (v2.x), in their printed order.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("basic", "基础信息"),
    ("administration", "行政管理"),
    ("honesty", "诚实守信"),
    ("dishonesty", "严重失信主体名单"),
    ("watch", "重点关注名单"),
    ("commitments", "信用承诺"),
    ("evaluation", "信用评价"),
    ("judicial", "司法判决"),
    ("other", "其他"),
    ("advice", "信用状况提升建议"),
)
SECTION_TITLES = dict(SECTIONS)
# Sections other domains fill through `reports.sections.register`.
PLUGGABLE = frozenset({"honesty", "commitments", "evaluation", "judicial", "other"})
# What a special report must cover by 发改财金〔2025〕565号, by the catalogue names of record types; a name the
# catalogue does not hold is said so on the report, never silently passed over.
SPECIAL_REQUIRED_TYPES = ("行政处罚", "行政强制")

# Marks on records and list entries
MARK_OBJECTION = "异议处理中"
MARK_REPAIR_OPEN = "修复申请中"
MARK_REPAIRED = "已修复"


class SubjectRefused(DomainError):
    code = "report-person-only"
    status_code = 403
    message_template = "自然人的信用报告只能由本人登录信用主体账户后申请"


class KindRefused(InvalidInput):
    code = "report-kind-invalid"
    message_template = "报告类型有误：{reason}"


def parse_kind(text: str | None, allowed: tuple[str, ...]) -> str:
    value = (text or "").strip().lower()
    if value not in allowed:
        raise KindRefused(reason=f"“{value[:20]}”不是可申请的报告类型（可选：{'、'.join(allowed)}）")
    return value


# ---------------------------------------------------------------------------------------- canonical form


def canonical_json(value: Any) -> bytes:
    """The bytes a report's digest and signature are computed over: UTF-8, keys sorted, no insignificant space."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
