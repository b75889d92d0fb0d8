"""居民身份证号码 inside free text: finding and masking them.

An ID number typed into 违法事实, 备注, 许可编号, a repair statement or a log line is personal data whether
it was typed cleanly or not, so the scanner reads it in the disguises people and programs give it:
full-width digits (０-９, Ｘ), and up to three separators between any two characters — spaces (U+3000 and
tabs included), dashes of every kind, dots, plus signs and the invisible characters pasted text carries.

A candidate is 15 or 18 such characters (only the 18th may be X) with no digit right before or after it, so
longer numbers (bank cards, 19-digit case numbers) are never cut into pieces. A letter next to it does not
protect it (ID330…, NO330…): codes that mix letters and digits (USCCs such as 91330521MA2B…, licence numbers
such as JY13305…) never hold fifteen digits in a row. A candidate counts as an ID number when it starts with
a province code and carries a real birth date between 1900 and today — whether or not the check digit
holds, because a mistyped ID number is still personal data. Three rules keep other numbers out; each errs
on the side of masking:

- Phone numbers, amounts, dates, 文书号: too few digits in a row (11 for a mobile, 8 for a date, a few for
  an amount in 万元 or a 文书号's serial), broken by characters that are not separators (年, 〔, 号, a comma,
  a colon), or, for a landline, starting with 0, which no province code does.
- An all-digit USCC whose ID check digit fails while its own checks (department and category pair, the
  embedded 组织机构代码, the mod-31 check) hold is a USCC.
- Registration numbers built from a region code and a recent date (the 18-digit 施工许可证编号 is region +
  yyyymmdd + 4 digits) look exactly like ID numbers. When the ID check digit fails, a number is taken for a
  mistyped ID number only if its holder would be at least 16 (the age at which an ID card must be held);
  when it holds, any birth date counts, so a child's correct ID number is still found. About one such
  registration number in eleven passes the check digit by chance and is masked: the department is told.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from xinyong.codes import CodeError
from xinyong.codes.idnumber import _CHINA_TZ, _PROVINCES, _check_char, mask_id_number
from xinyong.codes.uscc import validate_uscc

ADULT_AGE = 16
_CHECK_CHARS = frozenset("0123456789X")
_DIGIT = "0-9\uff10-\uff19"
_LAST = _DIGIT + "Xx\uff38\uff58"
# \s covers ASCII whitespace (tabs, line breaks), U+00A0, U+2000–U+200A, U+3000; then zero-width characters
# and the BOM, hyphens and dashes (U+2010–U+2015, minus, small and full-width hyphen-minus), dots (full stop,
# middle dots, full-width full stop) and '+', which a URL puts for a space.
_SEPARATOR = (
    r"[\s\u200b\u200c\u200d\u2060\ufeff"
    r"\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
    r".\u00b7\u2027\u30fb\uff0e+]{0,3}"
)
_D = f"[{_DIGIT}]"
_FIFTEEN = f"{_D}(?:{_SEPARATOR}{_D}){{14}}"
_EIGHTEEN_TAIL = f"(?:{_SEPARATOR}{_D}){{2}}{_SEPARATOR}[{_LAST}]"
_END = f"(?![{_DIGIT}])"
_CANDIDATE = re.compile(f"(?<!{_D}){_FIFTEEN}(?:{_EIGHTEEN_TAIL})?{_END}")
_CANDIDATE_15 = re.compile(f"{_FIFTEEN}{_END}")
_NORMAL_MAP: dict[int | str, str] = {**{0xFF10 + i: str(i) for i in range(10)}, "\uff38": "X", "\uff58": "X", "x": "X"}
_NORMAL = str.maketrans(_NORMAL_MAP)
_NON_CODE = re.compile(f"[^{_LAST}]")
# A text with fewer digit-like characters than this holds no ID number: most cells stop at this count.
_DIGIT_CHAR = re.compile(_D)
MIN_DIGITS = 15


@dataclass(frozen=True, slots=True)
class Found:
    start: int
    end: int
    number: str  # normal form: 15 or 18 ASCII characters, X upper case

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)


def _normal(span: str) -> str:
    return _NON_CODE.sub("", span).translate(_NORMAL)


def _birth(code: str) -> date | None:
    text = code[6:14] if len(code) == 18 else "19" + code[6:12]
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def is_plausible_id_number(code: str, today: date | None = None) -> bool:
    """Whether a 15- or 18-character number in normal form is taken for an ID number (see the module's rules)."""
    n = len(code)
    body = code[:17] if n == 18 else code
    if n not in (15, 18) or not (body.isascii() and body.isdigit()) or code[:2] not in _PROVINCES:
        return False
    if n == 18 and code[17] not in _CHECK_CHARS:
        return False
    birth = _birth(code)
    if birth is None or birth.year < 1900:
        return False
    today = today or datetime.now(_CHINA_TZ).date()
    if birth > today:
        return False
    if n == 18 and code[17] == _check_char(code[:17]):
        return True
    if n == 18:
        try:
            validate_uscc(code)
        except CodeError:
            pass
        else:
            return False
    return (today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))) >= ADULT_AGE


def might_hold_id_number(text: str) -> bool:
    """The quick test run before the scan: enough digit-like characters for an ID number."""
    return len(text) >= MIN_DIGITS and len(_DIGIT_CHAR.findall(text)) >= MIN_DIGITS


def find_id_numbers(text: str, *, today: date | None = None, shape_only: bool = False) -> Iterator[Found]:
    """The ID numbers in `text`, left to right. `shape_only` takes every 15- or 18-character candidate
    (for log lines, where masking a number that is not an ID number costs nothing)."""
    if not might_hold_id_number(text):
        return
    position = 0
    while True:
        match = _CANDIDATE.search(text, position)
        if match is None:
            return
        found = None
        start = match.start()
        number = _normal(match.group())
        if shape_only or is_plausible_id_number(number, today):
            found = Found(start, match.end(), number)
        elif len(number) == 18:
            # The first fifteen may be a first-generation number followed by other digits after a separator.
            short = _CANDIDATE_15.match(text, start)
            if short is not None:
                number = _normal(short.group())
                if is_plausible_id_number(number, today):
                    found = Found(start, short.end(), number)
        if found is None:
            position = start + 1
            continue
        yield found
        position = found.end


def has_id_number(text: str, *, today: date | None = None) -> bool:
    return next(find_id_numbers(text, today=today), None) is not None


def mask_found(text: str, found: Iterable[Found]) -> str:
    """`text` with each of `found` (from find_id_numbers on the same text) replaced by its masked form."""
    pieces: list[str] = []
    position = 0
    for hit in found:
        pieces += (text[position : hit.start], hit.masked)
        position = hit.end
    if not pieces:
        return text
    pieces.append(text[position:])
    return "".join(pieces)


def mask_id_numbers(text: str, *, today: date | None = None, shape_only: bool = False) -> str:
    """`text` with every ID number in it replaced by its masked form (first 4 and last 4 kept)."""
    return mask_found(text, find_id_numbers(text, today=today, shape_only=shape_only))


def mask_id_numbers_in(value: object, *, today: date | None = None) -> object:
    """A JSON-like value (dicts, lists, strings) with every string masked; other values as they are."""
    if isinstance(value, str):
        return mask_id_numbers(value, today=today)
    if isinstance(value, dict):
        return {k: mask_id_numbers_in(v, today=today) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_id_numbers_in(v, today=today) for v in value]
    return value
