import csv
import functools
import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import chinese_calendar
import pytest

from xinyong.codes import CodeError
from xinyong.codes.idnumber import validate_id_number
from xinyong.codes.idtext import has_id_number
from xinyong.codes.uscc import validate_uscc
from xinyong.demo.generator import (
    COLUMN_TITLES,
    DEFECTS,
    LICENSE_COLUMNS,
    LICENSE_DEFECTS,
    OPEN_ENDED,
    PENALTY_COLUMNS,
    PENALTY_DEFECTS,
    Region,
    generate_departments,
    generate_subjects,
    license_rows,
    penalty_rows,
    write_csv,
)

TODAY = date(2025, 11, 20)  # inside chinese_calendar's range, so deadlines can be checked exactly
# 行政处罚法 (2021) art. 9, written out here rather than imported so the test checks the generator.
CATEGORIES_2021 = {
    "警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件", "降低资质等级", "吊销许可证件",
    "限制开展生产经营活动", "责令停产停业", "责令关闭", "限制从业", "行政拘留", "其他",
}  # fmt: skip
REQUIRED = {
    "XK_": ("XDR_MC", "XDR_LB", "XKWS", "WSH", "XKLB", "NR", "JDRQ", "YXQZ", "YXQZI", "XKJG", "XKJGDM",
            "LYDW", "LYDWDM"),
    "CF_": ("XDR_MC", "XDR_LB", "WSH", "WFXW", "SY", "YJ", "CFLB", "NR", "JDRQ", "CFJG", "CFJGDM", "SJLY",
            "SJLYDM"),
}  # fmt: skip
USCC_ERRORS = {"uscc-checksum": "uscc-bad-check", "uscc-charset": "uscc-letter-io"}


@pytest.fixture(scope="module")
def world():
    rng = random.Random(20251120)
    departments = generate_departments(rng)
    subjects = list(generate_subjects(50_000, rng))
    return departments, subjects


@pytest.fixture(scope="module")
def register(world):
    return {s.uscc: s.name for s in world[1] if s.uscc}


def problems(row, p, register):
    """Every defect found in a row, judged from the national rules, not from the generator."""
    found = set()
    code, kind = row[p + "XDR_SHXYM"], row[p + "XDR_LB"]
    if code:
        try:
            validate_uscc(code)
        except CodeError as e:
            found.add(USCC_ERRORS.get(e.code, e.code))
        else:
            if register.get(code) != row[p + "XDR_MC"]:
                found.add("name-code-mismatch")
        if code.startswith("92") != (kind == "个体工商户"):
            found.add("individual-as-legal-person" if kind == "法人及非法人组织" else "kind-code-mismatch")
    if kind == "自然人":
        if code or row[p + "FRDB"]:
            found.add("person-with-organisation-fields")
        if not row[p + "XDR_ZJHM"]:
            found.add("person-without-id")
        else:
            validate_id_number(row[p + "XDR_ZJHM"])
            assert row[p + "XDR_ZJLX"] == "身份证"
    elif not code:
        found.add("organisation-without-code")
    if any(not row[p + c] for c in REQUIRED[p]):
        found.add("missing-required")
    try:
        decided = date.fromisoformat(row[p + "JDRQ"])
    except ValueError:
        found.add("invalid-date")
    else:
        if decided > TODAY:
            found.add("future-date")
    if p == "XK_":
        if row["XK_YXQZI"] < row["XK_YXQZ"]:
            found.add("validity-reversed")
        assert row["XK_XKLB"] in {"普通", "特许", "认可", "核准", "登记", "其他"}
    else:
        categories = row["CF_CFLB"].split(";")
        if not set(categories) <= CATEGORIES_2021:
            found.add("unknown-penalty-category")
        for column in ("CF_NR_FK", "CF_NR_WFFF"):
            if row[column]:
                try:
                    Decimal(row[column])
                except InvalidOperation:
                    found.add("amount-not-numeric")
        if "罚款" in categories and not row["CF_NR_FK"]:
            found.add("fine-without-amount")
    return found


def test_departments_are_county_organs():
    departments = generate_departments(random.Random(1))
    assert len(departments) == 8
    assert len({d.code for d in departments}) == 8
    for d in departments:
        assert validate_uscc(d.code) == d.code
        assert d.code.startswith("11330521")
        assert "德清县" in d.name
    assert generate_departments(random.Random(1)) == departments


def test_region_is_configurable():
    anji = Region("330523", "浙江省", "浙", "湖州市", "安吉县", ("递铺街道", "孝丰镇"))
    rng = random.Random(5)
    departments = generate_departments(rng, anji)
    subjects = list(generate_subjects(300, rng, anji))
    assert all(
        d.code[2:8] == "330523" and d.name.startswith(("安吉县", "国家税务总局安吉县")) for d in departments
    )
    assert all(s.uscc[2:8] == "330523" for s in subjects if s.uscc)
    row, _, _ = next(penalty_rows(subjects, departments, 1, rng, today=TODAY))
    assert row["CF_WSH"].startswith("安")
    with pytest.raises(ValueError, match="region"):
        generate_departments(rng, "110101")


def test_same_seed_same_data():
    def make(seed):
        rng = random.Random(seed)
        departments = generate_departments(rng)
        subjects = list(generate_subjects(2_000, rng))
        kwargs = {"today": TODAY, "malformed_share": 0.1}
        return (
            subjects,
            list(license_rows(subjects, departments, 2_000, rng, **kwargs)),
            list(penalty_rows(subjects, departments, 2_000, rng, **kwargs)),
        )

    assert make(7) == make(7)
    assert make(7) != make(8)


def test_subjects_have_valid_unique_codes_and_names(world):
    _, subjects = world
    names = [s.name for s in subjects]
    assert len(set(names)) == len(names)
    usccs = [s.uscc for s in subjects if s.uscc]
    assert len(set(usccs)) == len(usccs)
    ids = [s.id_number for s in subjects if s.id_number]
    assert len(set(ids)) == len(ids)
    kinds = Counter(s.kind for s in subjects)
    assert 0.08 < kinds["自然人"] / len(subjects) < 0.12
    assert 0.23 < kinds["个体工商户"] / len(subjects) < 0.27
    prefixes = Counter(s.uscc[:2] for s in subjects if s.kind == "法人及非法人组织")
    assert set(prefixes) == {"91", "93", "52"}
    for s in subjects:
        "".join((s.name, s.legal_representative or "")).encode("gbk")
        if s.kind == "自然人":
            assert s.uscc is None
            assert s.legal_representative is None
            assert validate_id_number(s.id_number) == s.id_number
        else:
            assert s.id_number is None
            assert s.legal_representative
            assert validate_uscc(s.uscc) == s.uscc
            assert s.uscc.startswith("92") == (s.kind == "个体工商户")


@pytest.mark.parametrize(("rows", "p"), [(license_rows, "XK_"), (penalty_rows, "CF_")])
def test_no_id_number_outside_the_id_number_columns(world, rows, p):
    """许可编号 is never the holder's ID number, and no free text carries one (malformed rows included)."""
    departments, subjects = world
    id_columns = {p + "XDR_ZJHM", p + "FR_ZJHM"}
    generated = rows(subjects, departments, 20_000, random.Random(5), today=TODAY, malformed_share=0.1)
    found = [(column, value) for row, _, _ in generated for column, value in row.items()
             if column not in id_columns and has_id_number(value, today=TODAY)]  # fmt: skip
    assert found == []
    transport = [row["XK_XKBH"] for row, _, _ in license_rows(subjects, departments, 5_000, random.Random(6),
                                                              today=TODAY) if "从业资格" in row["XK_XKZS"]]  # fmt: skip
    assert transport
    assert all("交运管从业字" in number for number in transport)


@pytest.mark.parametrize(("rows", "p"), [(license_rows, "XK_"), (penalty_rows, "CF_")])
def test_clean_rows_follow_the_rules(world, register, rows, p):
    departments, subjects = world
    by_code = {d.code: d for d in departments}
    columns = LICENSE_COLUMNS if p == "XK_" else PENALTY_COLUMNS
    numbers = Counter()
    oldest = TODAY - timedelta(days=3 * 365)
    for row, reported, defect in rows(subjects, departments, 20_000, random.Random(3), today=TODAY):
        assert defect is None
        assert list(row) == columns
        assert problems(row, p, register) == set()
        "".join(row.values()).encode("gbk")
        decided = date.fromisoformat(row[p + "JDRQ"])
        assert oldest <= decided <= TODAY
        assert decided <= reported
        source = row["XK_LYDWDM" if p == "XK_" else "CF_SJLYDM"]
        agency = row["XK_XKJGDM" if p == "XK_" else "CF_CFJGDM"]
        assert source == agency
        assert row["XK_XKJG" if p == "XK_" else "CF_CFJG"] == by_code[source].name
        numbers[source, row[p + "WSH"]] += 1
        if p == "CF_" and "罚款" in row["CF_CFLB"]:
            yuan = Decimal(row["CF_NR_FK"]) * 10_000  # 万元 back to 元
            assert yuan == int(yuan)
            assert f"罚款人民币{int(yuan)}元" in row["CF_NR"]
    assert max(numbers.values()) == 1  # 文书号 unique per department
    assert len({source for source, _ in numbers}) >= 7


def test_licences_include_open_ended_and_expiring(world):
    departments, subjects = world
    ends = [
        r["XK_YXQZI"] for r, _, _ in license_rows(subjects, departments, 2_000, random.Random(4), today=TODAY)
    ]
    share = ends.count(OPEN_ENDED) / len(ends)
    assert 0.1 < share < 0.7


@functools.cache
def _deadline(decided: date) -> date:
    day, left = decided, 7
    while left:
        day += timedelta(days=1)
        left -= chinese_calendar.is_workday(day)
    return day


@pytest.mark.parametrize("late_share", [0.0, 0.05, 0.2])
def test_late_share(world, late_share):
    departments, subjects = world
    rows = penalty_rows(subjects, departments, 10_000, random.Random(9), today=TODAY, late_share=late_share)
    late = sum(reported > _deadline(date.fromisoformat(r["CF_JDRQ"])) for r, reported, _ in rows)
    assert abs(late / 10_000 - late_share) < 0.015


@pytest.mark.parametrize(("rows", "p", "defects"), [
    (license_rows, "XK_", LICENSE_DEFECTS),
    (penalty_rows, "CF_", PENALTY_DEFECTS),
])  # fmt: skip
def test_malformed_rows_carry_exactly_their_defect(world, register, rows, p, defects):
    departments, subjects = world
    seen = Counter()
    for row, _, defect in rows(
        subjects, departments, 20_000, random.Random(11), today=TODAY, malformed_share=0.3
    ):
        assert problems(row, p, register) == ({defect} if defect else set()), (defect, row)
        seen[defect] += 1
        "".join(row.values()).encode("gbk")
    assert set(seen) - {None} == set(defects)
    assert abs(1 - seen[None] / 20_000 - 0.3) < 0.02
    assert set(LICENSE_DEFECTS) | set(PENALTY_DEFECTS) == set(DEFECTS)


def test_one_department(world):
    departments, subjects = world
    market = next(d for d in departments if d.key == "market")
    rows = list(penalty_rows(subjects, departments, 500, random.Random(2), today=TODAY, department=market))
    assert {r["CF_SJLYDM"] for r, _, _ in rows} == {market.code}
    assert all(r["CF_WSH"].startswith("德市监罚决〔") for r, _, _ in rows)
    approval = next(d for d in departments if d.key == "approval")
    with pytest.raises(ValueError, match="penalties"):
        penalty_rows(subjects, departments, 1, random.Random(2), today=TODAY, department=approval)


def test_only_persons_still_works():
    rng = random.Random(6)
    departments = generate_departments(rng)
    persons = list(generate_subjects(200, rng, person_share=1.0, individual_business_share=0.0))
    rows = list(penalty_rows(persons, departments, 300, rng, today=TODAY, malformed_share=0.5))
    assert {r["CF_XDR_LB"] for r, _, _ in rows} == {"自然人"}
    assert {d for _, _, d in rows} <= {None, "missing-required", "future-date", "amount-not-numeric",
                                        "unknown-penalty-category", "person-without-id", "invalid-date"}  # fmt: skip


@pytest.mark.parametrize("header", ["code", "chinese"])
def test_write_csv_gbk_round_trip(tmp_path, world, header):
    departments, subjects = world
    path = tmp_path / "cf.csv"
    rows = list(
        penalty_rows(subjects, departments, 2_000, random.Random(12), today=TODAY, malformed_share=0.1)
    )
    assert write_csv(path, rows, PENALTY_COLUMNS, encoding="gbk", header=header) == 2_000
    with open(path, encoding="gbk", newline="") as f:
        read = list(csv.reader(f))
    titles = PENALTY_COLUMNS if header == "code" else [COLUMN_TITLES[c] for c in PENALTY_COLUMNS]
    assert read[0] == titles
    assert read[1:] == [[row[c] for c in PENALTY_COLUMNS] for row, _, _ in rows]


def test_column_titles_cover_the_columns():
    assert set(LICENSE_COLUMNS) | set(PENALTY_COLUMNS) <= set(COLUMN_TITLES)
    assert COLUMN_TITLES["CF_XDR_MC"] == "行政相对人名称"
    assert COLUMN_TITLES["CF_WSH"] == "决定书文号"

