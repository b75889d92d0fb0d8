"""Pure rules of credit checks: check numbers, how a query is read, name ranking."""

from __future__ import annotations

import base64
import contextlib
import secrets
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from xinyong.codes import (
    CodeError,
    mask_id_number,
    mask_id_numbers,
    mask_if_id_like,
    normalize_code,
    normalize_name,
    validate_id_number,
)

# Base32 has no 0, 1 or 8, 9; O and I become 8 and 9, so that a number read aloud and retyped cannot be misread.
_READABLE = str.maketrans("OI", "89")


def check_number(today: date, prefix: str = "HC") -> str:
    """HC + date + 8 random characters (40 bits): unique without a shared counter (no write contention);
    the column's unique constraint catches the improbable collision."""
    return prefix + today.strftime("%Y%m%d") + base64.b32encode(secrets.token_bytes(5)).decode().translate(_READABLE)


@dataclass(frozen=True)
class Query:
    kind: str  # "code" | "name" | "empty"
    value: str  # normalised code, or the name as given (ID numbers in it masked, as in stored names)
    shown: str  # what may be stored and shown (ID numbers masked, in a name too)


def read_query(code: str | None, name: str | None) -> Query:
    """A code wins over a name; a name is only a name (it never becomes a code by accident)."""
    code_text = normalize_code(code or "")
    if code_text:
        shown = mask_id_numbers(mask_if_id_like(code_text))
        with contextlib.suppress(CodeError):
            shown = mask_id_number(validate_id_number(code_text))
        return Query("code", code_text, shown[:200])
    name_text = (name or "").strip()
    if name_text:
        # Stored names have their ID numbers masked: so has the name looked for.
        masked = mask_id_numbers(name_text)[:200]
        return Query("name", masked, masked)
    return Query("empty", "", "")


def name_score(query: str, candidate_norm: str) -> float:
    """1.0 for the same normalised name; otherwise the similarity of the two normalised names."""
    needle = normalize_name(query)
    if not needle or not candidate_norm:
        return 0.0
    if needle == candidate_norm:
        return 1.0
    return round(SequenceMatcher(None, needle, candidate_norm).ratio() * 0.99, 3)
