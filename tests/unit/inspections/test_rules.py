"""The draw as pure rules: reproducible, seed-dependent, by grade at the asked ratio, special domains always,
conflicts of interest honoured, and the documented algorithm written out independently."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from xinyong.errors import InvalidTransition
from xinyong.inspections import rules
from xinyong.inspections.models import PlanStatus
from xinyong.inspections.rules import Member, RosterEntry

GRADES = ["A", "B", "C", "D"]
RATIOS = {"A": Decimal(2), "B": Decimal(5), "C": Decimal(100), "D": Decimal(100)}


def population() -> list[Member]:
    members = []
    for n in range(1000):
        grade = "A" if n < 700 else "B" if n < 940 else "C" if n < 980 else "D"
        members.append(Member(f"9133052{n:011d}", grade, "drugs" if n % 250 == 7 else "", n + 1))
    return sorted(members, key=lambda m: m.uscc)


ROSTER = [RosterEntry(i, f"ZF{i:04d}", f"检查员{i}") for i in range(1, 7)]


def test_the_same_seed_gives_the_same_draw_and_another_seed_another():
    one = rules.draw(population(), grades=GRADES, ratios=RATIOS, seed=20251020, roster=ROSTER, per_subject=2)
    two = rules.draw(population(), grades=GRADES, ratios=RATIOS, seed=20251020, roster=ROSTER, per_subject=2)
    other = rules.draw(population(), grades=GRADES, ratios=RATIOS, seed=20251021, roster=ROSTER, per_subject=2)
    assert one.digest == two.digest
    assert rules.result_text(one.drawn) == rules.result_text(two.drawn)
    assert other.digest != one.digest
    assert {d.member.uscc for d in other.drawn} != {d.member.uscc for d in one.drawn}


def test_each_grade_at_its_ratio_and_special_domains_always():
    result = rules.draw(population(), grades=GRADES, ratios=RATIOS, seed=7, roster=ROSTER, per_subject=2)
    special = [m for m in population() if m.domain]
    assert len(special) == 4
    assert result.strata["special"] == {"population": 4, "asked": "100", "drawn": 4}
    a_population = sum(1 for m in population() if m.grade == "A" and not m.domain)
    assert result.strata["A"] == {"population": a_population, "asked": "2", "drawn": 14}  # ⌈697 × 2 %⌉
    assert result.strata["B"]["drawn"] == 12  # ⌈240 × 5 %⌉ = 12
    drawn = {d.member.uscc for d in result.drawn}
    assert {m.uscc for m in special} <= drawn
    assert {m.uscc for m in population() if m.grade in ("C", "D")} <= drawn
    assert len(drawn) == len(result.drawn) == 4 + 14 + 12 + 40 + 20
    assert [d.member.uscc for d in result.drawn] == sorted(drawn)


def test_inspectors_are_two_distinct_people_without_a_conflict():
    members = population()
    conflicted = members[5].uscc
    roster = [RosterEntry(1, "ZF0001", "甲", frozenset({conflicted})), RosterEntry(2, "ZF0002", "乙"),
              RosterEntry(3, "ZF0003", "丙", frozenset({conflicted}))]  # fmt: skip
    result = rules.draw(members, grades=GRADES, ratios={g: Decimal(100) for g in GRADES}, seed=1, roster=roster,
                        per_subject=1)  # fmt: skip
    assert all(len({r.badge for r in d.inspectors}) == len(d.inspectors) for d in result.drawn)
    assert next(d for d in result.drawn if d.member.uscc == conflicted).inspectors[0].badge == "ZF0002"
    with pytest.raises(rules.TooFewInspectors) as caught:
        rules.draw(members, grades=GRADES, ratios={g: Decimal(100) for g in GRADES}, seed=1, roster=roster,
                   per_subject=2)  # fmt: skip
    assert conflicted in caught.value.message


def test_the_documented_algorithm_reproduces_the_draw():
    """An auditor's own implementation of the module's description, with a plain list shuffle."""
    members = population()
    result = rules.draw(members, grades=GRADES, ratios=RATIOS, seed=99, roster=ROSTER, per_subject=2)
    rng = random.Random(99)

    def below(n: int) -> int:
        while True:
            value = rng.getrandbits(n.bit_length())
            if value < n:
                return value

    def choose(items: list, k: int) -> list:  # type: ignore[type-arg]
        if k >= len(items):
            return list(items)
        items = list(items)
        for i in range(k):
            j = i + below(len(items) - i)
            items[i], items[j] = items[j], items[i]
        return items[:k]

    chosen = [m for m in members if m.domain]
    for grade in GRADES:
        stratum = [m for m in members if m.grade == grade and not m.domain]
        chosen += choose(stratum, rules.sample_size(len(stratum), RATIOS[grade]))
    lines = []
    for m in sorted(chosen, key=lambda m: m.uscc):
        badges = [r.badge for r in choose(sorted(ROSTER, key=lambda r: r.badge), 2)]
        lines.append(f"{m.uscc}\t{m.grade}\t{m.domain}\t{','.join(badges)}\n")
    assert rules.digest("".join(lines)) == result.digest


def test_the_snapshot_reads_back():
    members = population()
    text = rules.snapshot_text(members)
    assert [(m.uscc, m.grade, m.domain) for m in rules.parse_snapshot(text)] == [(m.uscc, m.grade, m.domain) for m in members]
    assert len(rules.digest(text)) == 64


@pytest.mark.parametrize("text", ["-1", "100.5", "abc", "5.555", "", "nan", "inf"])
def test_ratios_outside_0_to_100_percent_are_refused(text):  # type: ignore[no-untyped-def]
    with pytest.raises(rules.RatioOutOfRange) as caught:
        rules.parse_ratio(text)
    assert "0–100" in caught.value.message


def test_ratios_read_as_typed():
    assert [str(rules.parse_ratio(t)) for t in ("2", "5%", "12.5", "100", "0")] == ["2", "5", "12.5", "100", "0"]
    assert rules.sample_size(10, Decimal(2)) == 1
    assert rules.sample_size(0, Decimal(50)) == 0


def test_a_plan_is_drawn_once_then_published():
    assert rules.next_status(PlanStatus.DRAFT, "draw") is PlanStatus.DRAWN
    assert rules.next_status(PlanStatus.DRAWN, "publish") is PlanStatus.PUBLISHED
    for status, action in ((PlanStatus.DRAWN, "draw"), (PlanStatus.DRAFT, "publish"), (PlanStatus.PUBLISHED, "draw")):
        with pytest.raises(InvalidTransition):
            rules.next_status(status, action)
