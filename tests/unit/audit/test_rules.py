from datetime import UTC, datetime

from xinyong.audit.rules import GENESIS_HASH, canonical_json, chain_hash, entry_body


def _body(**overrides):  # type: ignore[no-untyped-def]
    values = {"seq": 1, "created_at": datetime(2025, 10, 1, 8, 0, 0, 123456, tzinfo=UTC), "action": "auth.login",
                  "actor": "user:x", "actor_department_id": None, "department_id": 2, "subject_id": None, "target": "user:1",
                  "reason": None, "details": {"b": 1, "a": "中文"}}  # fmt: skip
    values.update(overrides)
    return entry_body(**values)


def test_canonical_json_is_key_order_independent():
    assert canonical_json({"b": 1, "a": [1, "中"]}) == canonical_json({"a": [1, "中"], "b": 1}) == '{"a":[1,"中"],"b":1}'


def test_the_hash_covers_the_previous_hash_and_every_field():
    base = chain_hash(GENESIS_HASH, _body())
    assert base == chain_hash(GENESIS_HASH, _body())
    assert base != chain_hash("1" * 64, _body())
    for change in ({"seq": 2}, {"actor": "user:y"}, {"reason": "x"}, {"details": {"b": 2, "a": "中文"}},
                   {"created_at": datetime(2025, 10, 1, 8, 0, 0, 123457, tzinfo=UTC)}):  # fmt: skip
        assert chain_hash(GENESIS_HASH, _body(**change)) != base
