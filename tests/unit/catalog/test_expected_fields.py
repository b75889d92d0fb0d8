"""Which optional fields departments are assessed on filling (完整率) is declared in the catalogue."""

from __future__ import annotations

import tomllib

import pytest

from xinyong.catalog import load_catalog
from xinyong.catalog.schema import TYPES_DIR, CatalogError, parse_record_type


def test_the_built_in_types_declare_their_expected_fields():
    catalog = load_catalog()
    assert [f.title for f in catalog.get("penalty").expected_fields] == ["处罚有效期", "公示截止期"]
    assert [f.title for f in catalog.get("license").expected_fields] == ["许可证书名称", "许可编号"]
    for rtype in catalog.types.values():
        assert not [f for f in rtype.expected_fields if f.required]


def test_a_required_field_cannot_be_expected():
    raw = tomllib.loads((TYPES_DIR / "penalty.toml").read_text(encoding="utf-8"))
    required = next(f for f in raw["fields"] if f.get("required"))
    required["expected"] = True
    with pytest.raises(CatalogError, match="必填字段无需标注 expected"):
        parse_record_type(raw, "penalty.toml")
