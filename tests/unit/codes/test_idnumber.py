import random
from datetime import date

import pytest
from stdnum.cn import ric

from xinyong.codes import CodeError, make_id_number, mask_id_number, validate_id_number

TODAY = date(2025, 6, 1)
VALID = make_id_number("330106", date(1990, 5, 17), "123")


def fail(value: str) -> CodeError:
    with pytest.raises(CodeError) as info:
        validate_id_number(value, today=TODAY)
    return info.value


def test_make_id_number_is_valid_per_stdnum():
    assert VALID == "330106199005171230"
    assert ric.calc_check_digit(VALID) == VALID[-1]


def test_lower_x_and_spaces():
    with_x = next(
        make_id_number("110105", date(1985, 1, 1), f"{i:03d}")
        for i in range(1000)
        if make_id_number("110105", date(1985, 1, 1), f"{i:03d}").endswith("X")
    )
    messy = " " + with_x[:9] + " " + with_x[9:-1] + "x"
    assert validate_id_number(messy, today=TODAY) == with_x


def test_full_width_input():
    full = VALID.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert validate_id_number(full, today=TODAY) == VALID


def test_fifteen_digit_conversion():
    assert validate_id_number("330106900517123", today=TODAY) == VALID


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "id-length"),
        ("33010619900517123", "id-length"),
        ("33010619900517123A", "id-format"),
        ("3301061990O5171230", "id-format"),
        ("990106199005171230", "id-format"),
        ("330106199002301230", "id-birthdate"),
        ("330106203001011230", "id-birthdate"),
        ("330106188001011230", "id-birthdate"),
        ("330106199005171231", "id-checksum"),
        ("330106901317123", "id-birthdate"),
    ],
)
def test_error_codes(value, code):
    assert fail(value).code == code


def test_messages_never_contain_the_full_number():
    rng = random.Random(7)
    for _ in range(500):
        birth = date(rng.randrange(1930, 2020), rng.randrange(1, 13), rng.randrange(1, 29))
        good = make_id_number("320102", birth, f"{rng.randrange(1000):03d}")
        i = rng.randrange(18)
        digit = str((int(good[i]) + 1) % 10) if good[i].isdigit() else "1"
        variants = [good[:i] + digit + good[i + 1 :], good[:-1], good + "7", good[:6] + good[8:]]
        for bad in variants:
            try:
                validate_id_number(bad, today=TODAY)
            except CodeError as error:
                text = f"{error.message} {error} {error.args!r} {error.to_dict()}"
                assert bad not in text
                assert bad[4:-4] not in text


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("330106199005171234", "3301**********1234"),
        ("330106900517123", "3301*******7123"),
        ("12345", "***45"),
        ("12", "**"),
        ("", ""),
        ("ABCDEFGHIJKLMNOPQR", "****************QR"),
    ],
)
def test_mask(value, masked):
    assert mask_id_number(value) == masked


def test_looks_like_id_number_tells_mistyped_ids_from_all_digit_codes() -> None:
    from xinyong.codes import looks_like_id_number, mask_if_id_like

    assert looks_like_id_number("110105194912310021")  # wrong check digit, still personal data
    assert looks_like_id_number("110105491231002")
    assert not looks_like_id_number("913305211000000160")  # an all-digit USCC: 91 is no province
    assert not looks_like_id_number("11010519491331002X")  # month 13
    assert mask_if_id_like("913305211000000160") == "913305211000000160"
    assert mask_if_id_like("110105194912310021") == "1101**********0021"
