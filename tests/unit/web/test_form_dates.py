"""The date fields of console and portal forms: empty is no date, anything but YYYY-MM-DD is refused by name."""

from __future__ import annotations

from datetime import date

import pytest

from xinyong.errors import InvalidInput
from xinyong.web.forms import optional_date


@pytest.mark.parametrize(("text", "expected"), [("", None), ("   ", None), (None, None), (" 2025-10-20 ", date(2025, 10, 20))])
def test_an_empty_or_valid_date(text, expected):  # type: ignore[no-untyped-def]
    assert optional_date(text, "清零期限") == expected


@pytest.mark.parametrize("text", ["2025-13-01", "2025-02-30", "2025/10/20", "明天", "2025-10-20<script>"])
def test_anything_else_is_refused_naming_the_field(text):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as refused:
        optional_date(text, "清零期限")
    assert "清零期限“" in refused.value.message
    assert "不是有效日期" in refused.value.message
