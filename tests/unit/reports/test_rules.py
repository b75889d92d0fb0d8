"""Report numbers (a check character that catches any one changed character and any swap of neighbours), the
span of a special report, and the section numbers as Chinese documents write them."""

from __future__ import annotations

from datetime import date

import pytest

from xinyong.reports import rules
from xinyong.reports.pdf import chinese_number


def test_numbers_are_well_formed_and_parse_back():
    for _ in range(200):
        number = rules.new_number(date(2026, 12, 5))
        assert len(number) == rules.NUMBER_LENGTH == 20
        assert number.startswith("XY20261205")
        assert rules.parse_number(number) == number
        assert rules.parse_number(f" {number.lower()[:6]}-{number.lower()[6:]} ") == number


def test_every_single_change_and_neighbour_swap_is_caught():
    number = rules.new_number(date(2026, 12, 5))
    for i in range(2, len(number)):  # the prefix is checked as such
        for c in rules.ALPHABET:
            if c == number[i] or (i < 10 and not c.isdigit()):
                continue
            changed = number[:i] + c + number[i + 1:]
            with pytest.raises(rules.AlteredNumber):
                rules.parse_number(changed)
    for i in range(2, len(number) - 1):
        if number[i] != number[i + 1] and i != 9:  # a swap across the date's end reads as malformed
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2:]
            with pytest.raises(rules.AlteredNumber):
                rules.parse_number(swapped)


@pytest.mark.parametrize("text", ["", "XY", "XY2026120", "AB20261205ABCDEFGHJK", "XY2026I205ABCDEFGHJK",
                                  "XY20261205ABCDEFGHJKL", "XY20261205ABCDEFGHOI", "<script>", "XY20261205中文中文中文中文中文"])  # fmt: skip
def test_malformed_numbers(text):
    with pytest.raises(rules.MalformedNumber):
        rules.parse_number(text)


TODAY = date(2026, 12, 5)


def test_span_defaults_and_bounds():
    assert rules.special_span(None, None, today=TODAY) == rules.Span(date(2023, 12, 6), TODAY)
    assert rules.special_span(date(2021, 12, 6), TODAY, today=TODAY).start == date(2021, 12, 6)  # five years
    with pytest.raises(rules.SpanRefused, match="最长 5 年"):
        rules.special_span(date(2021, 12, 5), TODAY, today=TODAY)
    with pytest.raises(rules.SpanRefused, match="晚于截止日期"):
        rules.special_span(date(2026, 12, 5), date(2026, 12, 4), today=TODAY)
    with pytest.raises(rules.SpanRefused, match="晚于今天"):
        rules.special_span(None, date(2026, 12, 6), today=TODAY)
    assert rules.special_span(TODAY, TODAY, today=TODAY).text == "2026-12-05 至 2026-12-05"
    # a leap day: five years back from 2028-02-29 starts on 2023-03-01
    assert rules.special_span(date(2023, 3, 1), date(2028, 2, 29), today=date(2028, 3, 1)).start == date(2023, 3, 1)
    with pytest.raises(rules.SpanRefused):
        rules.special_span(date(2023, 2, 28), date(2028, 2, 29), today=date(2028, 3, 1))


@pytest.mark.parametrize(("text", "expected"), [("2026-02-28", date(2026, 2, 28)), ("", None), ("  ", None)])
def test_days(text, expected):
    assert rules.parse_day(text, title="起始日期") == expected


@pytest.mark.parametrize("text", ["2026-02-30", "yesterday", "2026/01/01", "20260101x"])
def test_bad_days(text):
    with pytest.raises(rules.SpanRefused, match="不是有效日期"):
        rules.parse_day(text, title="起始日期")


def test_chinese_section_numbers():
    assert [chinese_number(n) for n in (1, 9, 10, 11, 12, 20, 21, 35)] == ["一", "九", "十", "十一", "十二", "二十",
                                                                           "二十一", "三十五"]  # fmt: skip
