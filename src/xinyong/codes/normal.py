"""Errors and the canonical form of codes, shared by every validator of this package."""

from __future__ import annotations

import unicodedata

# Zero-width characters and the BOM arrive with text pasted from Excel or web pages;
# they are invisible to the operator but break lengths and equality.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
# Dashes that Chinese input methods produce where a hyphen was meant ("XXXXXXXX—X").
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_DROP = str.maketrans("", "", _INVISIBLE + _DASHES)


class CodeError(ValueError):
    """An identifier failed validation.

    `code` is stable (kebab-case) for programs and statistics; `message` is Chinese
    and tells a department operator what to fix.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def normalize_code(value: object) -> str:
    """Canonical form of a code as typed: half-width, no whitespace or dashes, upper case."""
    if not isinstance(value, str):
        # Spreadsheet readers hand over ints for all-digit cells.
        value = "" if value is None else str(value)
    if value.isascii():
        if value.isalnum():  # already clean: the common case on bulk imports
            return value.upper()
    else:
        value = unicodedata.normalize("NFKC", value)
    # split() without arguments splits on every Unicode whitespace, U+3000 included.
    return "".join(value.split()).translate(_DROP).upper()
