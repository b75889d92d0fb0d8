"""Validation and normalisation of the identifiers that credit records carry.

Everything here is a pure function: no database, no I/O. The functions run on
every row of large imports, so lookups are precomputed and repeated inputs cached.
"""

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


from xinyong.codes.idnumber import (  # noqa: E402
    RESIDENT_ID_TYPES,
    looks_like_id_number,
    make_id_number,
    mask_id_number,
    mask_if_id_like,
    validate_id_number,
)
from xinyong.codes.idtext import find_id_numbers, has_id_number, mask_id_numbers  # noqa: E402
from xinyong.codes.legacy import LEGACY_KINDS, validate_legacy  # noqa: E402
from xinyong.codes.names import clean_display_name, mask_person_name, normalize_name  # noqa: E402
from xinyong.codes.uscc import (  # noqa: E402
    embedded_org_code,
    is_individual_business,
    make_org_code,
    make_uscc,
    uscc_kind,
    validate_uscc,
)

__all__ = [
    "LEGACY_KINDS",
    "RESIDENT_ID_TYPES",
    "CodeError",
    "clean_display_name",
    "embedded_org_code",
    "find_id_numbers",
    "has_id_number",
    "is_individual_business",
    "looks_like_id_number",
    "make_id_number",
    "make_org_code",
    "make_uscc",
    "mask_id_number",
    "mask_id_numbers",
    "mask_if_id_like",
    "mask_person_name",
    "normalize_code",
    "normalize_name",
    "uscc_kind",
    "validate_id_number",
    "validate_legacy",
    "validate_uscc",
]
