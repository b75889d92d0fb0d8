"""统一社会信用代码 (USCC, GB 32100-2015) and the 组织机构代码 it embeds (GB 11714).

Layout: pos 1 登记管理部门码, pos 2 机构类别码, pos 3–8 行政区划码, pos 9–17 组织机构代码
(its own mod-11 check at pos 17), pos 18 mod-31 check over the first 17.

The mod-31 check is computed here from precomputed per-position tables rather than
through `stdnum.cn.uscc`: stdnum's validate() rejects the letter department codes
A, N and Y that GB 32100 assigns, and its per-call cleaning costs several times
the whole validation below. The unit tests cross-check every result against
`stdnum.cn.uscc.calc_check_digit`.
"""

from __future__ import annotations

from functools import lru_cache
from operator import getitem

from xinyong.codes.normal import CodeError, normalize_code

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
_ALPHABET_SET = frozenset(ALPHABET)
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# For each of the first 17 positions: character -> value * weight (mod 31).
_USCC_TABLES = tuple({c: (v * w) % 31 for v, c in enumerate(ALPHABET)} for w in _USCC_WEIGHTS)

# GB 11714: body characters 0-9 and A-Z (A = 10 … Z = 35); check = 11 − Σ mod 11, 10 → X, 11 → 0.
_ORG_BODY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_TABLES = tuple({c: v * w for v, c in enumerate(_ORG_BODY_ALPHABET)} for w in _ORG_WEIGHTS)
_ORG_CHECK_CHARS = tuple("0" if c == 11 else "X" if c == 10 else str(c) for c in (11 - r for r in range(11)))

# Characters people type for the letters GB 32100 leaves out because they look like digits.
_LOOKALIKES = {"O": "0", "I": "1", "Z": "2", "S": "5"}

_DEPARTMENTS = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "市场监管",
    "A": "中央军委改革和编制办公室",
    "N": "农业农村",
    "Y": "其他",
}
# Valid 登记管理部门码 + 机构类别码 pairs with short labels.
_KINDS = {
    "11": "机关",
    "12": "事业单位",
    "13": "群众团体",
    "19": "其他（机构编制）",
    "21": "外国常驻新闻机构",
    "29": "其他（外交）",
    "31": "律师执业机构",
    "32": "公证处",
    "33": "基层法律服务所",
    "34": "司法鉴定机构",
    "35": "仲裁委员会",
    "39": "其他（司法行政）",
    "41": "外国在华文化中心",
    "49": "其他（文化）",
    "51": "社会团体",
    "52": "民办非企业单位",
    "53": "基金会",
    "59": "其他（民政）",
    "61": "外国旅游部门常驻代表机构",
    "62": "港澳台地区旅游部门常驻内地（大陆）代表机构",
    "69": "其他（旅游）",
    "71": "宗教活动场所",
    "72": "宗教院校",
    "79": "其他（宗教）",
    "81": "基层工会",
    "89": "其他（工会）",
    "91": "企业",
    "92": "个体工商户",
    "93": "农民专业合作社",
    "A1": "军队事业单位",
    "A9": "其他（军队）",
    "N1": "组级集体经济组织",
    "N2": "村级集体经济组织",
    "N3": "乡镇级集体经济组织",
    "N9": "其他（农业农村）",
    "Y1": "其他",
}


def _org_check_char(body8: str) -> str:
    """GB 11714 check character; raises KeyError for a character outside 0-9A-Z."""
    return _ORG_CHECK_CHARS[sum(map(getitem, _ORG_TABLES, body8)) % 11]


def _uscc_check_char(first17: str) -> str:
    # (−Σ) mod 31 is GB 32100's (31 − Σ mod 31) mod 31.
    return ALPHABET[-sum(map(getitem, _USCC_TABLES, first17)) % 31]


def validate_uscc(value: object) -> str:
    """Return the normalised USCC or raise CodeError (uscc-length, -charset, -category,
    -region, -org-code-checksum, -checksum)."""
    return _validate(normalize_code(value))


@lru_cache(maxsize=16384)  # agency codes (许可机关, 数据来源单位) repeat on every row of a file
def _validate(code: str) -> str:
    if len(code) != 18:
        if not code:
            raise CodeError("uscc-length", "未填写统一社会信用代码")
        raise CodeError("uscc-length", f"统一社会信用代码应为18位，“{code}”为{len(code)}位")
    if not _ALPHABET_SET.issuperset(code):
        pos, char = next((i, c) for i, c in enumerate(code, 1) if c not in _ALPHABET_SET)
        hint = f"，可能应为“{_LOOKALIKES[char]}”" if char in _LOOKALIKES else ""
        raise CodeError(
            "uscc-charset",
            f"统一社会信用代码第{pos}位“{char}”不是允许的字符"
            f"（只用数字和除 I、O、Z、S、V 以外的大写字母）{hint}",
        )
    if code[:2] not in _KINDS:
        dept = _DEPARTMENTS.get(code[0])
        reason = (
            f"登记管理部门码“{code[0]}”（{dept}）下没有机构类别码“{code[1]}”"
            if dept
            else f"“{code[0]}”不是登记管理部门码"
        )
        raise CodeError("uscc-category", f"统一社会信用代码前两位“{code[:2]}”无效：{reason}")
    if not code[2:8].isdigit():
        raise CodeError("uscc-region", f"统一社会信用代码第3–8位“{code[2:8]}”应为6位数字的行政区划码")
    expected = _org_check_char(code[8:16])
    if code[16] != expected:
        raise CodeError(
            "uscc-org-code-checksum",
            f"统一社会信用代码第9–17位（组织机构代码“{code[8:16]}-{code[16]}”）校验位错误，"
            f"第17位应为“{expected}”，请核对第9–17位是否抄录有误",
        )
    expected = _uscc_check_char(code[:17])
    if code[17] != expected:
        raise CodeError(
            "uscc-checksum",
            f"统一社会信用代码校验位错误，按前17位计算第18位应为“{expected}”，请核对代码是否抄录有误",
        )
    return code


def is_individual_business(uscc: str) -> bool:
    """个体工商户 codes start with 92."""
    return normalize_code(uscc).startswith("92")


def uscc_kind(uscc: str) -> str:
    """Short Chinese label of the organisation category, "" when the pair is unknown."""
    return _KINDS.get(normalize_code(uscc)[:2], "")


def embedded_org_code(uscc: str) -> str:
    """The 组织机构代码 at positions 9–17, formatted "XXXXXXXX-X"."""
    code = normalize_code(uscc)
    return f"{code[8:16]}-{code[16]}"


def make_org_code(body8: str) -> str:
    """Append the GB 11714 check character to an 8-character body (9 characters, no hyphen)."""
    body = normalize_code(body8)
    if len(body) != 8 or not set(body) <= set(_ORG_BODY_ALPHABET):
        raise CodeError("orgcode-format", f"组织机构代码本体应为8位数字或大写字母，“{body8}”不符合")
    return body + _org_check_char(body)


def make_uscc(dept: str, category: str, region: str, org_body8: str) -> str:
    """Build a valid USCC (for demo and test data): computes both check characters."""
    first17 = normalize_code(dept + category + region) + make_org_code(org_body8)
    try:
        code = first17 + _uscc_check_char(first17)
    except KeyError:  # a character outside the USCC alphabet; let validation name it
        code = first17 + "0"
    return validate_uscc(code)
