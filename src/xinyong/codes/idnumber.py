"""居民身份证号码 (GB 11643-1999).

18 characters: 6-digit region, 8-digit birth date, 3-digit sequence, check (ISO 7064
MOD 11-2, computed by `stdnum.cn.ric`). First-generation cards carry 15 digits with
a 2-digit year and no check; they are converted to the 18-character form.

The platform must never log a full ID number, so every message here shows the
masked form only.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from stdnum.cn.ric import calc_check_digit

from xinyong.codes.normal import CodeError, normalize_code

_CHINA_TZ = timezone(timedelta(hours=8))  # no DST in China, so a fixed offset is exact
_DIGITS = frozenset("0123456789")
# GB/T 2260 province-level codes; 81/82/83 are used by 港澳台居民居住证.
_PROVINCES = frozenset(
    str(p) for p in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83)
)  # fmt: skip
_EARLIEST_BIRTH = date(1890, 1, 1)
# The resident ID card under the names departments actually write in 证件类型; anything else is a foreign or
# other document, kept as text.
RESIDENT_ID_TYPES = frozenset({"", "身份证", "居民身份证", "二代身份证", "中华人民共和国居民身份证", "1", "111"})


def is_region_code(code: str) -> bool:
    """A 6-digit 行政区划代码 (GB/T 2260) of a known province (the lower levels change too often to hold here)."""
    return len(code) == 6 and code.isascii() and code.isdigit() and code[:2] in _PROVINCES


def mask_id_number(value: object) -> str:
    """Keep the first 4 and last 4 characters of an ID-shaped value; otherwise only the last 2."""
    code = normalize_code(value)
    n = len(code)
    if n in (15, 18) and _DIGITS.issuperset(code[:-1]):
        return code[:4] + "*" * (n - 8) + code[-4:]
    if n <= 2:
        return "*" * n
    return "*" * (n - 2) + code[-2:]


def looks_like_id_number(value: object) -> bool:
    """ID-shaped whether or not its check digit holds (a mistyped ID number is still personal data): 15 or
    18 digits (the last may be X) starting with a province code and carrying a plausible birth date — which
    an all-digit unified social credit code (登记管理部门码 9, 1, 5 … never a province) does not."""
    code = normalize_code(value)
    n = len(code)
    if n not in (15, 18) or not _DIGITS.issuperset(code[:-1]) or not (code[-1] in _DIGITS or code[-1] == "X"):
        return False
    if code[:2] not in _PROVINCES:
        return False
    birth = code[6:14] if n == 18 else "19" + code[6:12]
    year, month, day = int(birth[:4]), int(birth[4:6]), int(birth[6:8])
    return 1800 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31


def mask_if_id_like(value: str) -> str:
    return mask_id_number(value) if looks_like_id_number(value) else value


def _check_char(first17: str) -> str:
    # calc_check_digit ignores the last character, so pad a placeholder.
    return calc_check_digit(first17 + "0")


def _birth_date(yyyymmdd: str, masked: str, today: date) -> date:
    try:
        birth = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        raise CodeError("id-birthdate", f"身份证号码 {masked} 中的出生日期不是有效日期") from None
    if birth > today:
        raise CodeError("id-birthdate", f"身份证号码 {masked} 中的出生日期晚于今天")
    if birth < _EARLIEST_BIRTH:
        raise CodeError("id-birthdate", f"身份证号码 {masked} 中的出生日期早于{_EARLIEST_BIRTH.year}年")
    return birth


def validate_id_number(value: object, *, today: date | None = None) -> str:
    """Return the 18-character ID number (15-digit ones converted) or raise CodeError
    (id-length, id-format, id-birthdate, id-checksum)."""
    code = normalize_code(value)  # also upper-cases a trailing 'x'
    masked = mask_id_number(code)
    n = len(code)
    if n not in (15, 18):
        if not code:
            raise CodeError("id-length", "未填写身份证号码")
        raise CodeError("id-length", f"身份证号码应为18位（或一代证15位），{masked} 为{n}位")
    if not _DIGITS.issuperset(code[:17]) or (n == 18 and code[17] not in _DIGITS and code[17] != "X"):
        raise CodeError("id-format", f"身份证号码 {masked} 含有数字以外的字符（只有第18位可以是 X）")
    if code[:2] not in _PROVINCES:
        raise CodeError("id-format", f"身份证号码 {masked} 前两位不是有效的省级行政区划代码")
    if today is None:
        today = datetime.now(_CHINA_TZ).date()
    if n == 15:
        _birth_date("19" + code[6:12], masked, today)
        first17 = code[:6] + "19" + code[6:]
        return first17 + _check_char(first17)
    _birth_date(code[6:14], masked, today)
    if code[17] != _check_char(code[:17]):
        raise CodeError("id-checksum", f"身份证号码 {masked} 校验位错误，请核对号码是否抄录有误")
    return code


def make_id_number(region6: str, birth: date, seq3: str) -> str:
    """Build a valid 18-character ID number (for demo and test data)."""
    first17 = f"{region6}{birth:%Y%m%d}{seq3}"
    if len(first17) != 17 or not _DIGITS.issuperset(first17):
        raise ValueError("region6 and seq3 must be 6 and 3 digits")
    return first17 + _check_char(first17)
