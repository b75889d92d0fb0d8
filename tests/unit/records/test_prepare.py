"""What the validating process prepares for storing is what the storing process would compute itself."""

from __future__ import annotations

import hashlib
import json

import pytest

from xinyong.codes import clean_display_name, normalize_name
from xinyong.db import encode_json
from xinyong.records import rules
from xinyong.records.prepare import prepare

PAYLOADS = [
    ({"CF_XDR_MC": "杭州某某有限公司", "CF_WSH": "杭市监罚〔2026〕12号", "CF_NR_FK": "0.2"}, {}),
    ({"CF_XDR_MC": "臺灣 測試（有限）公司", "CF_SY": "含\"引号\"与\\反斜杠\n换行", "CF_FRDB": "张*"},
     {"CF_FRDB": "张三", "CF_SY": "身份证 330106199001011234"}),
    ({"CF_XDR_MC": "ＡＢＣ　贸易商行", "空": ""}, {"CF_XDR_ZJHM": "330106199001011234"}),
]  # fmt: skip


def stored_hash(payload: dict[str, str], sealed_text: str | None, subject_id: int) -> str:
    """The content hash as records stored before the split computed it (what re-imports compare with)."""
    text = "\x1f".join(map("\x1e".join, sorted(payload.items())))
    text += f"\x1d{sealed_text or ''}\x1d{subject_id}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


@pytest.mark.parametrize(("payload", "sealed"), PAYLOADS)
def test_prepared_values_match_the_storing_side(payload: dict[str, str], sealed: dict[str, str]) -> None:
    name_cell = payload["CF_XDR_MC"]
    prepared = prepare(name_cell, payload, sealed)
    assert prepared.name == clean_display_name(name_cell)
    assert prepared.name_norm == normalize_name(clean_display_name(name_cell))[:200]
    assert prepared.payload_json == encode_json(payload)  # what bulk_insert would store for the payload
    sealed_text = json.dumps(sealed, ensure_ascii=False, sort_keys=True) if sealed else None
    assert prepared.sealed_text == sealed_text
    for subject_id in (1, 42, 10**9):
        assert rules.content_hash_of(prepared.hash_text, subject_id) == stored_hash(payload, sealed_text, subject_id)
        assert rules.content_hash(payload, sealed_text, subject_id) == stored_hash(payload, sealed_text, subject_id)
