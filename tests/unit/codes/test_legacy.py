import pytest

from xinyong.codes import LEGACY_KINDS, CodeError, validate_legacy


def mod_11_10_check(first14: str) -> str:
    # Independent restatement of ISO 7064 MOD 11,10 to cross-check the implementation.
    p = 10
    for ch in first14:
        s = (p + int(ch)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


def fail(kind: str, value: str) -> str:
    with pytest.raises(CodeError) as info:
        validate_legacy(kind, value)
    assert info.value.message
    return info.value.code


def test_kinds():
    assert {"registration_number", "org_code", "tax_number", "institution_cert", "social_org_cert"} == set(
        LEGACY_KINDS
    )
    with pytest.raises(KeyError):
        validate_legacy("passport", "x")


def test_registration_number():
    for body in ("11010800000001", "31011540011935", "44030010123456"):
        number = body + mod_11_10_check(body)
        assert validate_legacy("registration_number", number) == number
        wrong = body + str((int(number[-1]) + 1) % 10)
        assert fail("registration_number", wrong) == "regno-checksum"
    assert validate_legacy("registration_number", "3100001234567") == "3100001234567"
    assert fail("registration_number", "31000012345") == "regno-format"
    assert fail("registration_number", "31000012345678A") == "regno-format"


def test_org_code():
    assert validate_legacy("org_code", "D2143569-X") == "D2143569X"
    assert validate_legacy("org_code", "ｄ２１４３５６９－ｘ") == "D2143569X"
    assert validate_legacy("org_code", "00000000-0") == "000000000"
    assert validate_legacy("org_code", "60003734-1") == "600037341"
    assert fail("org_code", "60003734-2") == "orgcode-checksum"
    assert fail("org_code", "6000373-1") == "orgcode-format"
    assert fail("org_code", "60003734-A") == "orgcode-format"


def test_tax_number():
    assert validate_legacy("tax_number", "110000600037341") == "110000600037341"
    assert validate_legacy("tax_number", "350100M000100Y4") == "350100M000100Y4"
    assert fail("tax_number", "110000600037342") == "taxno-checksum"
    # 15-digit first-generation ID number of an individual: no org-code check applies.
    assert validate_legacy("tax_number", "330106900517123") == "330106900517123"
    assert validate_legacy("tax_number", "91350100M000100Y43") == "91350100M000100Y43"
    assert validate_legacy("tax_number", "33010619900517123401") == "33010619900517123401"
    assert fail("tax_number", "1234567890123456") == "taxno-format"
    assert fail("tax_number", "11000060003734#") == "taxno-format"


def test_institution_cert():
    assert validate_legacy("institution_cert", "123456789012") == "123456789012"
    assert validate_legacy("institution_cert", "事证第123456789012号") == "123456789012"
    assert validate_legacy("institution_cert", "事证第 1234 5678 9012 号") == "123456789012"
    assert fail("institution_cert", "12345678901") == "institution-cert-format"
    assert fail("institution_cert", "1234567890123") == "institution-cert-format"


def test_social_org_cert():
    assert validate_legacy("social_org_cert", " 浙民证字第 0123号 ") == "浙民证字第0123号"
    assert fail("social_org_cert", " ") == "social-org-cert-format"
    assert fail("social_org_cert", "1" * 41) == "social-org-cert-format"
