import random

import pytest
from stdnum.cn import uscc as stdnum_uscc

from xinyong.codes import (
    CodeError,
    embedded_org_code,
    is_individual_business,
    make_org_code,
    make_uscc,
    normalize_code,
    uscc_kind,
    validate_uscc,
)
from xinyong.codes.uscc import _KINDS, ALPHABET

# Published codes, checked against the algorithm before being relied on here.
REAL = ["91350100M000100Y43", "91110000600037341L", "92141127MA0KD1Y64A", "12440600MB2C07549J"]


def error_code(value: str) -> str:
    with pytest.raises(CodeError) as info:
        validate_uscc(value)
    assert info.value.message
    assert str(info.value) == info.value.message
    return info.value.code


@pytest.mark.parametrize("code", REAL)
def test_real_codes_validate(code):
    assert validate_uscc(code) == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),
        ("91350100m000100y43", "91350100M000100Y43"),
        (" 9135 0100\u3000M000100Y43\t", "91350100M000100Y43"),
        ("91350100-M000100Y4-3", "91350100M000100Y43"),
        ("\ufeff91350100M000100Y43\u200b", "91350100M000100Y43"),
    ],
)
def test_messy_input_is_normalised(raw, expected):
    assert validate_uscc(raw) == expected


def test_normalize_code():
    assert normalize_code("ａｂ－１　2 3—x") == "AB123X"
    assert normalize_code(None) == ""
    assert normalize_code(123) == "123"


def test_length():
    assert error_code("9135010M000100Y43") == "uscc-length"
    assert error_code("") == "uscc-length"
    with pytest.raises(CodeError, match="未填写"):
        validate_uscc("  ")


def test_charset_names_the_character():
    with pytest.raises(CodeError) as info:
        validate_uscc("91350100MOOO100Y43")
    assert info.value.code == "uscc-charset"
    assert "第10位“O”" in info.value.message
    assert "可能应为“0”" in info.value.message


@pytest.mark.parametrize("bad", ["94350100M000100Y43", "B1350100M000100Y43", "Y2350100M000100Y43"])
def test_category(bad):
    assert error_code(bad) == "uscc-category"


def test_region_must_be_digits():
    assert error_code("913501A0M000100Y43") == "uscc-region"


def test_embedded_org_code_checksum():
    # Last char of the org code (pos 17) changed: the org-code check catches it first.
    assert error_code("91350100M000100Y53") == "uscc-org-code-checksum"


def test_main_checksum_names_expected_char():
    with pytest.raises(CodeError) as info:
        validate_uscc("91350100M000100Y4X")
    assert info.value.code == "uscc-checksum"
    assert "应为“3”" in info.value.message


def test_errors_are_raised_again_on_repeat():
    # The validation cache must not swallow failures.
    for _ in range(2):
        assert error_code("91350100M000100Y4X") == "uscc-checksum"


def test_letter_departments_are_valid():
    # stdnum's validate() rejects these; GB 32100 assigns A, N and Y.
    for pair in ("A1", "N2", "Y1"):
        code = make_uscc(pair[0], pair[1], "330100", "MA2CDE12")
        assert validate_uscc(code) == code


def test_org_code_check_x_and_zero():
    # Σ mod 11 == 1 → check 10 → 'X'; Σ mod 11 == 0 → check 11 → '0'.
    assert make_org_code("D2143569") == "D2143569X"
    assert make_org_code("00000000") == "000000000"
    assert make_org_code("10000000") == "100000008"  # 3*1 = 3 → 11 − 3 = 8


def test_make_org_code_rejects_bad_body():
    with pytest.raises(CodeError):
        make_org_code("1234567")


def test_make_uscc_rejects_invalid_pair():
    with pytest.raises(CodeError) as info:
        make_uscc("9", "4", "330100", "12345678")
    assert info.value.code == "uscc-category"


def test_make_uscc_property():
    rng = random.Random(20240601)
    pairs = sorted(_KINDS)
    body_alphabet = ALPHABET  # the embedded body must also fit the USCC alphabet
    for _ in range(1000):
        pair = rng.choice(pairs)
        region = f"{rng.randrange(1000000):06d}"
        body = "".join(rng.choice(body_alphabet) for _ in range(8))
        code = make_uscc(pair[0], pair[1], region, body)
        assert validate_uscc(code) == code
        assert stdnum_uscc.calc_check_digit(code) == code[17]
        assert code[8:16] == body


def test_helpers():
    assert is_individual_business("92141127MA0KD1Y64A")
    assert not is_individual_business("91350100M000100Y43")
    assert uscc_kind("91350100M000100Y43") == "企业"
    assert uscc_kind("92141127MA0KD1Y64A") == "个体工商户"
    assert uscc_kind("93" + "0" * 16) == "农民专业合作社"
    assert uscc_kind("12440600MB2C07549J") == "事业单位"
    assert uscc_kind("X1") == ""
    assert embedded_org_code("91350100M000100Y43") == "M000100Y-4"
