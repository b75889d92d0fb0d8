"""Validation and normalisation of the identifiers that credit records carry.

Everything here is a pure function: no database, no I/O. The functions run on
every row of large imports, so lookups are precomputed and repeated inputs cached.
"""

from __future__ import annotations

from xinyong.codes.idnumber import (
    RESIDENT_ID_TYPES,
    is_region_code,
    looks_like_id_number,
    make_id_number,
    mask_id_number,
    mask_if_id_like,
    validate_id_number,
)
from xinyong.codes.idtext import find_id_numbers, has_id_number, mask_id_numbers
from xinyong.codes.legacy import LEGACY_KINDS, validate_legacy
from xinyong.codes.names import clean_display_name, mask_person_name, normalize_name
from xinyong.codes.normal import CodeError, normalize_code
from xinyong.codes.uscc import (
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
    "is_region_code",
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
