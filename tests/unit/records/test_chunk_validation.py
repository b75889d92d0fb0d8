"""Column-at-a-time validation (ChunkValidator.validate_chunk) against the row-by-row validator it replaced in
the pipeline: on generated files with bad rows mixed in, hostile cells and ragged rows, every row comes out the
same — values, published payload (key order too: it is stored as JSON), sealed values, and problems in order."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinyong.catalog import load_catalog
from xinyong.config import Settings
from xinyong.demo import generator
from xinyong.errors import FileRejected
from xinyong.records.validation import ChunkValidator, RowValidator, validated_chunks

TODAY = date(2026, 11, 20)
CATALOG = load_catalog(Settings(secret_key="k" * 40).catalog_dirs)
HOSTILE = [
    "", " ", "\x00", "\x07制表", "元", "1,000元", "-1", "NaN", "1e3", "0.0000001", "2000000", "2025-13-01", "2025/2/30",
    "20250230", "2099-01-01", "2025年9月29日", "2025-09-29 10:00", "91330523MA2B3C4D5X", "330523199001011234",
    "330523900101123", "11010519491231002X", "身份证", "自然人", "个体工商户", "法人及非法人组织", "警告;罚款",
    "罚款、没收违法所得", "责令停产停业", "暂扣或者吊销许可证", "联系人 110105194912310021 电话", "x" * 300,
    "中" * 2100, "92330523MA2B3C4D5X", "MA2B3C4D-5", "安吉县测试公司（分公司）",
]  # fmt: skip
CELL = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))


def _rows(seed: int, count: int, record_type: str) -> tuple[list[str], list[list[str]], str]:
    rng = random.Random(seed)
    departments = generator.generate_departments(rng)
    department = next(d for d in departments if generator.decides(d, record_type))
    subjects = list(generator.generate_subjects(max(10, count // 3), rng))
    if record_type == "penalty":
        produced = generator.penalty_rows(subjects, departments, count, rng, today=TODAY, malformed_share=0.3,
                                          department=department)  # fmt: skip
        columns = generator.PENALTY_COLUMNS
    else:
        produced = generator.license_rows(subjects, departments, count, rng, today=TODAY, malformed_share=0.3,
                                          department=department)  # fmt: skip
        columns = generator.LICENSE_COLUMNS
    return list(columns), [[row.get(c, "") for c in columns] for row, _, _ in produced], department.code


def _same(headers: list[str], rows: list[list[str]], record_type: str, department_code: str, size: int) -> None:
    rtype = CATALOG.get(record_type)
    old = RowValidator(rtype, headers, department_code=department_code, today=TODAY)
    new = ChunkValidator(rtype, headers, department_code=department_code, today=TODAY)
    numbered = list(enumerate(rows, start=2))
    expected = [old.validate(number, cells) for number, cells in numbered]
    got = [row for chunk in validated_chunks(new, numbered, size) for row in chunk]
    assert len(got) == len(expected)
    for a, b in zip(expected, got, strict=True):
        assert (b.row, b.values, b.sealed, b.problems) == (a.row, a.values, a.sealed, a.problems)
        assert list(b.payload.items()) == list(a.payload.items())
        assert list(b.values) == list(a.values)
    assert new.file_problems == old.file_problems


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    record_type=st.sampled_from(["penalty", "license"]),
    edits=st.lists(st.tuples(st.integers(0, 59), st.integers(0, 30), CELL), max_size=40),
    ragged=st.lists(st.tuples(st.integers(0, 59), st.integers(0, 30)), max_size=5),
    size=st.sampled_from([1, 7, 60]),
    chinese=st.booleans(),
)
def test_chunk_validation_matches_row_validation(seed, record_type, edits, ragged, size, chinese) -> None:  # type: ignore[no-untyped-def]
    headers, rows, department_code = _rows(seed, 60, record_type)
    if chinese:
        headers = [generator.COLUMN_TITLES.get(h, h) for h in headers]
    for row, column, value in edits:
        if column < len(rows[row]):
            rows[row][column] = value
    for row, width in ragged:  # rows cut short, or longer than the header (extra-cells)
        rows[row] = rows[row][:width] if width < len(headers) else [*rows[row], "多余", ""][: width + 2]
    _same(headers, rows, record_type, department_code, size)


def test_repeated_values_and_id_number_types() -> None:
    """The ID number's converter reads the row's 证件类型: the same number under different types is judged apart."""
    headers, generated, code = _rows(2, 21, "penalty")
    at = {name: headers.index(name) for name in ("CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_XDR_ZJLX", "CF_XDR_ZJHM")}
    rows = []
    for cells, (kind, number) in zip(generated, [("身份证", "11010519491231002X"), ("护照", "11010519491231002X"),
                                                 ("", "11010519491231002X"), ("身份证", "110105194912310021"),
                                                 ("护照", "E1234"), ("身份证", ""), ("乱填", "123")] * 3, strict=True):  # fmt: skip
        cells[at["CF_XDR_MC"]], cells[at["CF_XDR_LB"]], cells[at["CF_XDR_SHXYM"]] = "张三", "自然人", ""
        cells[at["CF_XDR_ZJLX"]], cells[at["CF_XDR_ZJHM"]] = kind, number
        rows.append(cells)
    _same(headers, rows, "penalty", code, 5)


def test_a_file_breaking_midway_yields_the_rows_before_it() -> None:
    rtype = CATALOG.get("penalty")
    headers, rows, code = _rows(1, 12, "penalty")
    validator = ChunkValidator(rtype, headers, department_code=code, today=TODAY)

    def items():  # type: ignore[no-untyped-def]
        yield from list(enumerate(rows, start=2))[:7]
        raise FileRejected("bad-encoding", "第 9 行编码错误", row=9)

    seen: list[int] = []
    with pytest.raises(FileRejected) as raised:
        seen.extend(len(chunk) for chunk in validated_chunks(validator, items(), 5))  # kept up to the break
    assert raised.value.details.get("row") == 9
    assert seen == [5, 2]
