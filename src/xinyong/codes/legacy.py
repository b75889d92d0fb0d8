"""The five codes that preceded the USCC and still appear in 双公示 data.

Real check algorithms:
  registration_number  15 digits, ISO 7064 MOD 11,10 on the last digit (13-digit old numbers: format only)
  org_code             GB 11714 mod-11 check
  tax_number           15 characters: 6-digit region + 组织机构代码 with its GB 11714 check
Format only (no published check exists):
  tax_number           17, 18 or 20 characters (ID-number or USCC based numbers of individuals)
  institution_cert     12 digits
  social_org_cert      any non-empty text of at most 40 characters
"""

from __future__ import annotations

import re

from stdnum.iso7064 import mod_11_10

from xinyong.codes.normal import CodeError, normalize_code
from xinyong.codes.uscc import _org_check_char

_DIGITS = frozenset("0123456789")
_UPPER_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TWELVE_DIGITS = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")
_ORG_CHECK_SET = frozenset("0123456789X")
_PLAIN_DATE_PART = re.compile(r"[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])")


def _registration_number(code: str) -> str:
    if len(code) == 13 and _DIGITS.issuperset(code):
        return code  # pre-2007 numbers have no check digit
    if len(code) != 15 or not _DIGITS.issuperset(code):
        raise CodeError("regno-format", f"工商注册号应为15位数字（旧号13位），“{code}”不符合")
    if not mod_11_10.is_valid(code):
        expected = mod_11_10.calc_check_digit(code[:14])
        raise CodeError("regno-checksum", f"工商注册号“{code}”校验位错误，按前14位计算第15位应为“{expected}”")
    return code


def _org_code_format_ok(code: str) -> bool:
    return len(code) == 9 and _UPPER_ALNUM.issuperset(code[:8]) and code[8] in _ORG_CHECK_SET


def _org_code(code: str) -> str:
    if not _org_code_format_ok(code):
        raise CodeError(
            "orgcode-format", f"组织机构代码应为8位数字或大写字母加1位校验码（如 12345678-9），“{code}”不符合"
        )
    expected = _org_check_char(code[:8])
    if code[8] != expected:
        raise CodeError(
            "orgcode-checksum", f"组织机构代码“{code[:8]}-{code[8]}”校验位错误，按前8位计算应为“{expected}”"
        )
    return code


def _tax_number(code: str) -> str:
    n = len(code)
    if n == 15 and _DIGITS.issuperset(code[:6]) and _org_code_format_ok(code[6:]):
        expected = _org_check_char(code[6:14])
        if code[14] == expected:
            return code
        # Individuals were registered under their 15-digit first-generation ID number,
        # which has no org-code check; accept all-digit numbers whose date part is plausible.
        if _DIGITS.issuperset(code) and _PLAIN_DATE_PART.fullmatch(code[6:12]):
            return code
        raise CodeError(
            "taxno-checksum",
            f"税务登记号“{code}”第7–15位是组织机构代码，其校验位错误，第15位应为“{expected}”",
        )
    elif n in (17, 18, 20) and _UPPER_ALNUM.issuperset(code):
        return code
    raise CodeError(
        "taxno-format",
        f"税务登记号应为15位（6位行政区划码加组织机构代码）或17、18、20位数字或大写字母，“{code}”不符合",
    )


def _institution_cert(code: str) -> str:
    # Departments often paste the whole line, e.g. "事证第123456789012号".
    found = _TWELVE_DIGITS.findall(code)
    if len(found) == 1:
        return found[0]
    raise CodeError("institution-cert-format", f"事业单位证书号应为12位数字，“{code}”不符合")


def _social_org_cert(code: str) -> str:
    if not code:
        raise CodeError("social-org-cert-format", "未填写社会组织登记证号")
    if len(code) > 40:
        raise CodeError("social-org-cert-format", f"社会组织登记证号不应超过40个字符，当前为{len(code)}个")
    return code


_VALIDATORS = {
    "registration_number": _registration_number,
    "org_code": _org_code,
    "tax_number": _tax_number,
    "institution_cert": _institution_cert,
    "social_org_cert": _social_org_cert,
}
LEGACY_KINDS = frozenset(_VALIDATORS)


def validate_legacy(kind: str, value: object) -> str:
    """Return the normalised code (no hyphens, upper case) or raise CodeError.

    `kind` is one of LEGACY_KINDS; an unknown kind is a programming error (KeyError).
    """
    return _VALIDATORS[kind](normalize_code(value))
