"""Pure rules of random inspections: the transition table, ratios, the population snapshot and the draw.

The draw is reproducible by anyone holding the snapshot, the seed and the roster, in any language with a
Mersenne Twister (MT19937, seeded as Python's `random.Random(seed)` seeds it from an integer):
1. the population is sorted by USCC; each line of the snapshot is `USCC<TAB>grade<TAB>special domain\\n`
   (UTF-8), and its SHA-256 is the population digest;
2. subjects of a special domain are all drawn; the others are split by grade, in the model's grade order;
3. in each grade, k = ⌈n × ratio / 100⌉ of its n subjects are drawn (all when k ≥ n, without using the
   generator) by a partial Fisher–Yates shuffle of the grade's positions: for i = 0 … k−1, swap position i
   with position i + r, r drawn uniformly below n − i by rejection from `getrandbits(bit length of n − i)`;
4. the drawn subjects, sorted by USCC, each get the required number of inspectors by the same partial
   shuffle over the roster (sorted by badge number) less those excluded for that subject;
5. the result lines `USCC<TAB>grade<TAB>domain<TAB>badge,badge\\n` give the result digest.
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from xinyong.errors import InvalidInput, InvalidTransition
from xinyong.inspections.models import PlanStatus

S = PlanStatus
TRANSITIONS: dict[tuple[PlanStatus, str], PlanStatus] = {
    (S.DRAFT, "draw"): S.DRAWN,
    (S.DRAWN, "publish"): S.PUBLISHED,
}
ACTION_LABELS = {"draw": "随机抽取", "publish": "公示", "result": "录入检查结果"}
SPECIAL = "special"  # the stratum of special-domain subjects in a draw's figures
_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class TooFewInspectors(InvalidInput):
    code = "too-few-inspectors"
    message_template = "输入有误：检查对象 {uscc} 可选派的检查人员不足 {needed} 名（其余人员须回避），请调整检查人员名单"


def next_status(status: PlanStatus, action: str) -> PlanStatus:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(state=status.label, action=ACTION_LABELS.get(action, action)) from None


def plan_number(today: date) -> str:
    return f"SJ{today:%Y%m%d}{''.join(secrets.choice(_NUMBER_ALPHABET) for _ in range(6))}"


def parse_ratio(text: Any) -> Decimal:
    """A percentage, 0–100, with at most two decimals; InvalidInput (code ratio-out-of-range) otherwise."""
    try:
        value = Decimal(str(text).strip().removesuffix("%"))
    except InvalidOperation:
        raise RatioOutOfRange(value=str(text)[:20]) from None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100) or value != round(value, 2):
        raise RatioOutOfRange(value=str(text)[:20])
    return value.normalize() if value != value.to_integral_value() else value.quantize(Decimal(1))


class RatioOutOfRange(InvalidInput):
    code = "ratio-out-of-range"
    message_template = "输入有误：抽查比例“{value}”应为 0–100 之间的百分数（至多两位小数）"


def sample_size(population: int, ratio: Decimal) -> int:
    return min(population, math.ceil(Decimal(population) * ratio / 100))


# ----------------------------------------------------------------------------------------- the draw


class Member(NamedTuple):
    """One subject of a population (a tuple: a million of them are made per draw)."""

    uscc: str
    grade: str
    domain: str  # the special domain's key, or ""
    subject_id: int = 0


@dataclass(frozen=True)
class RosterEntry:
    inspector_id: int
    badge: str
    name: str
    excluded: frozenset[str] = frozenset()  # USCCs this inspector must not inspect

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.inspector_id, "badge": self.badge, "name": self.name, "excluded": sorted(self.excluded)}


@dataclass(frozen=True)
class Drawn:
    member: Member
    inspectors: tuple[RosterEntry, ...]


@dataclass
class DrawResult:
    drawn: list[Drawn]
    strata: dict[str, dict[str, Any]] = field(default_factory=dict)
    digest: str = ""


def snapshot_text(members: Sequence[Member]) -> str:
    return "".join(f"{m.uscc}\t{m.grade}\t{m.domain}\n" for m in members)


def parse_snapshot(text: str) -> list[Member]:
    members = []
    for line in text.splitlines():
        uscc, grade, domain = line.split("\t")
        members.append(Member(uscc, grade, domain))
    return members


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _choose(rng: random.Random, n: int, k: int) -> list[int]:
    """k of the positions 0 … n−1, by a partial Fisher–Yates shuffle; all of them when k ≥ n. Each swap's
    distance is uniform below n − i, by rejection from getrandbits (what random.Random.randrange does)."""
    if k >= n:
        return list(range(n))
    getrandbits = rng.getrandbits  # run for every drawn subject's inspectors: kept lean
    moved: dict[int, int] = {}  # the shuffled array, kept sparse: 1,000,000 positions need not be listed
    chosen = []
    for i in range(k):
        left = n - i
        bits = left.bit_length()
        r = getrandbits(bits)
        while r >= left:
            r = getrandbits(bits)
        j = i + r
        chosen.append(moved.get(j, j))
        moved[j] = moved.get(i, i)
    return chosen


def draw(members: Sequence[Member], *, grades: Sequence[str], ratios: dict[str, Decimal], seed: int,
         roster: Sequence[RosterEntry], per_subject: int) -> DrawResult:  # fmt: skip
    """The draw over `members` (sorted by USCC), as the module describes; TooFewInspectors when a drawn
    subject cannot be given `per_subject` inspectors."""
    rng = random.Random(seed)  # noqa: S311 -- a seeded, published, reproducible draw is the point
    by_grade: dict[str, list[Member]] = {grade: [] for grade in grades}
    special: list[Member] = []
    for m in members:  # one pass; each list keeps the USCC order (a grade the model lacks is never drawn)
        bucket = special if m.domain else by_grade.get(m.grade)
        if bucket is not None:
            bucket.append(m)
    strata: dict[str, dict[str, Any]] = {SPECIAL: {"population": len(special), "asked": "100", "drawn": len(special)}}
    chosen = list(special)
    for grade in grades:
        stratum = by_grade[grade]
        k = sample_size(len(stratum), ratios[grade])
        picked = [stratum[i] for i in _choose(rng, len(stratum), k)]
        chosen += picked
        strata[grade] = {"population": len(stratum), "asked": str(ratios[grade]), "drawn": len(picked)}
    chosen.sort(key=lambda m: m.uscc)
    ordered = sorted(roster, key=lambda r: r.badge)
    anyone_excluded = set().union(*(r.excluded for r in ordered))
    drawn = []
    for member in chosen:
        eligible = ordered if member.uscc not in anyone_excluded else [r for r in ordered if member.uscc not in r.excluded]
        if len(eligible) < per_subject:
            raise TooFewInspectors(uscc=member.uscc, needed=per_subject)
        drawn.append(Drawn(member, tuple(eligible[i] for i in _choose(rng, len(eligible), per_subject))))
    result = DrawResult(drawn, strata)
    result.digest = digest(result_text(drawn))
    return result


def result_text(drawn: Iterable[Drawn]) -> str:
    return "".join(f"{d.member.uscc}\t{d.member.grade}\t{d.member.domain}\t{','.join(r.badge for r in d.inspectors)}\n"
                   for d in drawn)  # fmt: skip


def excluded_everywhere(roster: Sequence[RosterEntry], usccs: set[str]) -> list[RosterEntry]:
    """Inspectors who must step aside for every subject of the population: they could inspect no one."""
    return [r for r in roster if usccs and usccs <= r.excluded]
