"""ID numbers inside free text: found in every disguise, and other numbers left alone."""

from __future__ import annotations

import random
from datetime import date

import pytest

from xinyong.codes import make_id_number, make_uscc, mask_id_number
from xinyong.codes.idnumber import _check_char
from xinyong.codes.idtext import find_id_numbers, has_id_number, is_plausible_id_number, mask_id_numbers

TODAY = date(2026, 6, 1)
ID = make_id_number("330521", date(1985, 3, 7), "123")  # 330521198503071233
ID_X = next(n for i in range(1000) if (n := make_id_number("110105", date(1972, 11, 30), f"{i:03d}")).endswith("X"))
ID15 = "330521850307123"  # first generation: 2-digit year, no check digit


def full_width(text: str) -> str:
    return text.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789Xx"})


def disguises(number: str) -> list[str]:
    head, birth, tail = number[:6], number[6:-4], number[-4:]
    return [
        number,
        full_width(number),
        number[:-1] + number[-1].lower(),
        f"{head} {birth} {tail}",
        " ".join(number[i : i + 4] for i in range(0, len(number), 4)),
        "\u3000".join(number[i : i + 4] for i in range(0, len(number), 4)),
        f"{head}\t{birth}\t{tail}",
        f"{head}\t\t{birth}\t{tail}",
        f"{head}-{birth}-{tail}",
        f"{head}—{birth}–{tail}",
        f"{head}\u2212{birth}\u2011{tail}",
        f"{head}－{birth}－{tail}",
        f"{head} - {birth} - {tail}",
        f"{head}.{birth}.{tail}",
        f"{head}·{birth}·{tail}",
        f"{head}\u200b{birth}\u200b{tail}",
        f"{head}\u00a0{birth}\u00a0{tail}",
        "-".join(number),
        full_width(f"{head} {birth} {tail}"),
    ]


def scan(text: str) -> list[str]:
    return [hit.number for hit in find_id_numbers(text, today=TODAY)]


@pytest.mark.parametrize("form", disguises(ID))
def test_every_disguise_of_an_id_number_is_found(form: str) -> None:
    assert scan(form) == [ID]
    assert mask_id_numbers(form, today=TODAY) == "3305**********1233"


@pytest.mark.parametrize("form", disguises(ID_X))
def test_a_trailing_x_in_any_width_or_case(form: str) -> None:
    assert scan(form) == [ID_X]


@pytest.mark.parametrize("form", [ID15, full_width(ID15), f"{ID15[:6]} {ID15[6:12]} {ID15[12:]}", f"{ID15[:6]}\t{ID15[6:]}"])
def test_first_generation_numbers(form: str) -> None:
    assert scan(form) == [ID15]
    assert mask_id_numbers(form, today=TODAY) == "3305*******7123"


@pytest.mark.parametrize(
    ("before", "form", "after"),
    [
        ("经查，当事人张某（身份证号码：", ID, "）于2025年3月5日在其经营场所销售过期食品。"),
        ("身份证号", ID, "，电话13800138000"),
        ("ID", ID, ""),  # a letter next to the number does not protect it
        ("NO.", ID, "号"),
        ("[", f"{ID[:6]}\t{ID[6:]}", "]"),
        ("“", full_width(ID), "”"),
        ("证件号码:", ID, " 1"),  # a digit after a space does not glue on
    ],
)
def test_found_inside_text_with_its_neighbours_kept(before: str, form: str, after: str) -> None:
    assert scan(before + form + after) == [ID]
    assert mask_id_numbers(before + form + after, today=TODAY) == before + "3305**********1233" + after


def test_several_numbers_in_one_text_each_masked() -> None:
    other = make_id_number("440305", date(1990, 12, 31), "456")
    text = f"甲{ID}、乙{full_width(other)}、丙{ID15}"
    assert scan(text) == [ID, other, ID15]
    assert mask_id_numbers(text, today=TODAY) == f"甲3305**********1233、乙{mask_id_number(other)}、丙3305*******7123"


def test_a_mistyped_number_of_an_adult_is_still_personal_data() -> None:
    wrong = ID[:17] + ("0" if ID[17] != "0" else "1")
    assert scan(f"身份证号{wrong}") == [wrong]


def test_a_correct_number_of_a_child_is_found_a_mistyped_one_is_not() -> None:
    child = make_id_number("330521", date(2019, 5, 1), "002")
    assert scan(child) == [child]
    wrong = child[:17] + ("0" if child[17] != "0" else "1")
    assert scan(wrong) == []  # a region + recent date + serial number (施工许可证编号) looks like this


def test_construction_permit_numbers_are_not_id_numbers() -> None:
    # 施工许可证编号: region + yyyymmdd + 4 digits; those whose last digit happens to be an ID check digit
    # (about one in eleven) are masked, the rest are not.
    permits = [f"330521{d:%Y%m%d}{s:04d}" for d in (date(2024, 1, 2), date(2025, 7, 15)) for s in range(1, 60)]
    kept = [p for p in permits if p[17] != _check_char(p[:17])]
    assert kept
    assert all(scan(f"施工许可证编号{p}") == [] for p in kept)


@pytest.mark.parametrize(
    "number",
    [
        "990521198503071233",  # no province starts with 99
        "330521198502301233",  # 30 February
        "330521189912311233",  # born before 1900
        "330521202701011234",  # born after today
        "330521851307123",  # month 13 in a first-generation number
    ],
)
def test_implausible_numbers_are_left_alone(number: str) -> None:
    assert scan(number) == []
    assert not is_plausible_id_number(number, TODAY)


def _all_digit_uscc_shaped_like_an_id() -> str:
    # 11 (机关) + region 110119 + an all-digit 组织机构代码 starting 850307: read as an ID number, province 11,
    # born 1985-03-07.
    for serial in range(100):
        code = make_uscc("1", "1", "110119", f"850307{serial:02d}")
        if code.isdigit() and code[17] != _check_char(code[:17]):
            return code
    raise AssertionError("no example found")


@pytest.mark.parametrize(
    "text",
    [
        "91330521MA2B3C4D5E",  # USCC with letters
        _all_digit_uscc_shaped_like_an_id(),  # all digits, its own checks hold, the ID check does not
        "JY13305210012345",  # food business licence number
        "13800138000",
        "138 0013 8000",
        "+86 138-0013-8000",
        "0571-88888888",
        "0571-8888 8888 转 123",
        "(0571)88888888-1234",
        "2024-01-01",
        "2019.01.01—2024.12.31",
        "20190101 20241231",
        "2024年1月1日至2029年12月31日",
        "2026-11-22 08:00:00.123456",
        "罚款人民币12000元；没收违法所得人民币3500.50元",
        "1,234,567,890.123456",
        "0.2",
        "安市监罚〔2025〕123号",
        "浙湖安市监处罚〔2024〕330521000123号",
        "（2025）浙0523执1234号",
        "鲁交运管许可货字371102000123号",
        "6222021234567890123",  # a 19-digit bank card
        "6222 0212 3456 7890 123",
        f"1{ID}",  # longer digit runs are never cut into pieces
        f"{ID}1",
    ],
)
def test_other_numbers_keep_their_shape(text: str) -> None:
    assert scan(text) == []
    assert mask_id_numbers(text, today=TODAY) == text


def test_an_all_digit_uscc_is_a_uscc() -> None:
    code = _all_digit_uscc_shaped_like_an_id()
    assert code[:2] == "11"
    assert code[6:14] == "19850307"
    assert mask_id_numbers(code, shape_only=True) != code  # shaped like an ID number, and yet:
    assert not is_plausible_id_number(code, TODAY)


def test_shape_only_takes_every_candidate() -> None:
    assert mask_id_numbers("990521198502301233", today=TODAY) == "990521198502301233"
    assert mask_id_numbers("990521198502301233", shape_only=True) == "9905**********1233"
    assert mask_id_numbers("13800138000", shape_only=True) == "13800138000"


def test_texts_without_enough_digits_are_not_scanned() -> None:
    assert not has_id_number("经查，当事人于2025年3月5日销售过期食品。")
    assert not has_id_number("")


def test_random_numbers_in_random_disguises_are_found_exactly() -> None:
    rng = random.Random(11)
    provinces = ("11", "12", "13", "31", "32", "33", "37", "44", "51", "65", "81")
    for _ in range(300):
        birth = date.fromordinal(rng.randint(date(1900, 1, 1).toordinal(), date(2010, 1, 1).toordinal()))
        number = make_id_number(rng.choice(provinces) + f"{rng.randint(0, 9999):04d}", birth, f"{rng.randint(0, 999):03d}")
        form = rng.choice(disguises(number))
        assert scan(f"当事人（{form}）到场") == [number], form
