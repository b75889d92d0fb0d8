"""The catalogue drives every surface: no module or template outside the catalogue's own files names a built-in record
type by its key or reaches a built-in field by its column code. A domain reads a type's fields by role or by a
declared attribute (`negative`, `portal.summary` …), so a type declared in a file shows everywhere with no code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from xinyong.catalog import load_catalog

SRC = Path(__file__).resolve().parents[3] / "src" / "xinyong"
# Where built-in keys and codes belong: the catalogue's files; the demo generator, which writes rows of the
# national templates; migrations, which are history; ingestion (records/), whose help texts and schema docs
# name the national columns as examples of what a department sends; the evaluation models and the inspection
# sectors, which are catalogue data naming the types and fields they read.
# Data files whose job is to name types by key, as an operator's copy would: the catalogue, the evaluation model,
# the 信易贷 sharing list (finance.toml).
EXEMPT = ("catalog/types/", "catalog/evaluation/", "catalog/sectors.toml", "finance/finance.toml", "demo/", "migrations/",
          "records/")
SUFFIXES = {".py", ".html", ".js", ".css", ".toml"}
# The word of a built-in key used for something else, before the type existed: the repair workflow's 修复承诺
# (its template variable, CSS class and audit action) and the 政务诚信 case kind "broken-commitment" are not the
# 信用承诺 type.
ORDINARY_USES = {
    "repair/admin.py": {'"commitment"'}, "repair/portal.py": {'"commitment"'},
    "templates/portal/repair/application.html": {'"commitment"'},
    "templates/portal/repair/apply.html": {'"commitment"'},
    "integrity/integrity.toml": {"-commitment"}, "audit/rules.py": {".commitment"},
}


def _patterns() -> list[re.Pattern[str]]:
    catalog = load_catalog()
    keys = "|".join(re.escape(k) for k in catalog.types)
    prefixes = "|".join(re.escape(t.prefix) for t in catalog.types.values())
    return [
        re.compile(rf"""(["'])(?:{keys})(?:\.csv)?\1"""),  # a key as a string: "penalty", 'license'
        re.compile(rf"""[=\-]\s*(?:{keys})\b"""),  # a key in a URL or a query: ?tab=penalty, record_type=license
        re.compile(rf"""\.(?:{keys})\b(?!\()"""),  # a key as a CSS class or an attribute: .card.penalty
        re.compile(rf"""[(|](?:{keys})[|)]"""),  # a key in a pattern: ^(license|penalty)$
        re.compile(rf"""\b(?:{prefixes})[A-Z0-9_]+"""),  # a field code: CF_CFLB, XK_XKLB
    ]


def literals(text: str) -> list[str]:
    return [m.group(0) for pattern in _patterns() for m in pattern.finditer(text)]


def surface_files() -> list[Path]:
    return sorted(p for p in SRC.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                  and not p.relative_to(SRC).as_posix().startswith(EXEMPT))  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ['RECORD_TYPES = {"license": "行政许可"}', "{% if p.tab == 'penalty' %}", 'fields = ("CF_WFXW", "CF_CFLB")',
     "url_for('portal.listing', record_type='license')", '<a href="/subjects/x?tab=penalty">', ".card.penalty strong",
     'payload.get("XK_XKLB")', 'Query(pattern="^(license|penalty)$")'],
)
def test_the_scan_finds_the_literals_it_forbids(text):
    assert literals(text)


def test_the_scan_leaves_ordinary_words_alone():
    assert literals("penalty_tier(rule) # a license to the OSS; record.penalty_ref; 'licenses'") == []


def test_no_surface_names_a_built_in_type_or_field_code():
    files = surface_files()
    assert len(files) > 100  # the scan sees the tree (a wrong root would pass vacuously)
    found = {}
    for path in files:
        hits = set(literals(path.read_text(encoding="utf-8"))) - ORDINARY_USES.get(path.relative_to(SRC).as_posix(), set())
        if hits:
            found[path.relative_to(SRC).as_posix()] = sorted(set(hits))
    assert found == {}, "declare it in the catalogue (role, portal.*, negative/positive) instead"
