"""Exports that open safely in Excel and WPS: whatever a department sent is hostile text."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        # A leading apostrophe makes spreadsheets show the text as it is without evaluating it.
        return "'" + text
    return text


def write_csv(handle: IO[str], header: list[str], rows: Iterable[Iterable[Any]]) -> int:
    writer = csv.writer(handle)
    writer.writerow(header)
    count = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        count += 1
    return count
