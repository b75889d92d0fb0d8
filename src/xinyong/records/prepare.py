"""What the storing process needs of a valid row that does not depend on the database: computed where the row
is validated (the worker process, for large files), so that the storing process only writes.

For each row without errors: the subject's name as displayed and its matching key (`normalize_name`, the part
that converts traditional characters), the published payload and the sealed values as the JSON text that is
stored, and the text the content hash is taken of, less the subject's id (known only once the subject is
resolved). A row that arrives without them (single rows, the reference pipeline in the tests) has them computed
by the storing process, with the same functions, so the outcome is the same either way."""

from __future__ import annotations

import json
from typing import NamedTuple

from xinyong.codes import clean_display_name, normalize_name
from xinyong.records import rules

# What bulk_insert stores for a JSON column (db.encode_json, SQLAlchemy's JSON type); a test holds them equal.
encode_payload = json.JSONEncoder(ensure_ascii=False).encode
# The sealed values as sealed and hashed: keys sorted, as json.dumps(…, sort_keys=True, ensure_ascii=False).
encode_sealed = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode

NAME_NORM_LENGTH = 200  # subjects.name_norm


class Prepared(NamedTuple):
    name: str  # the subject's name as displayed (clean_display_name)
    name_norm: str  # its matching key, cut to the column
    payload_json: str
    sealed_text: str | None
    hash_text: str  # rules.content_hash_text: the content hash is rules.content_hash_of(hash_text, subject_id)


def prepare(name_cell: str, payload: dict[str, str], sealed: dict[str, str]) -> Prepared:
    """Of a row without errors: its subject-name cell as validated, its payload and its sealed values."""
    name = clean_display_name(name_cell)
    sealed_text = encode_sealed(sealed) if sealed else None
    return Prepared(name, normalize_name(name)[:NAME_NORM_LENGTH], encode_payload(payload), sealed_text,
                    rules.content_hash_text(payload, sealed_text))  # fmt: skip
