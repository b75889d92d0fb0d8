"""The evaluation model as data: dimensions, indicators, grades and overrides, as a model file declares them
(read and checked by `loader`).

Scoring, as the model declares it (all integers, so both databases and the explanation agree to the point):
- an indicator's weight is its full marks. A deducting indicator starts at its weight and loses the points
  its records produce, down to 0 (扣完为止); an adding one starts at 0 and gains them, up to its weight;
- the score is the sum of the indicators' scores (0 … the sum of the weights, higher is better);
- when the model says `weights_add_up`, the children of every dimension add up to its weight and the top
  level adds up to `scale`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from xinyong.errors import DomainError

SUBJECT_KINDS = ("organisation", "individual_business", "person")
DIRECTIONS = ("add", "deduct")
WHILE = ("published", "valid", "any")
REPAIRED = ("exclude", "count")
MEASURES = ("count", "sum", "max")
# Roles whose value is a column of `records` (faster than the payload, and the same for every type).
ROLE_COLUMNS = {"categories": "categories", "doc_no": "doc_no", "decision_date": "decision_date",
                "valid_from": "valid_from", "valid_until": "valid_until"}  # fmt: skip
MAX_POINTS = 1_000_000


class ModelInvalid(DomainError):
    code = "evaluation-model-invalid"
    status_code = 422
    message_template = "评价模型有误：{summary}"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        summary = "；".join(f"{p.where}：{p.message}" if p.where else p.message for p in problems[:5])
        more = f"（另有 {len(problems) - 5} 处）" if len(problems) > 5 else ""
        super().__init__(summary=summary + more)

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


@dataclass(frozen=True)
class Problem:
    code: str  # stable, kebab-case
    where: str
    message: str


# ------------------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Target:
    """What an indicator reads from a record: the tier, a column, or a payload field per record type."""

    text: str  # as written: "tier", "role:categories", "field:NSXYDJ"
    column: str | None = None
    codes: tuple[tuple[str, str], ...] = ()  # (record type, payload code) when not a column
    is_multi: bool = False  # ';'-joined values (处罚类别)
    kind: str = "text"  # text | enum | multi_enum | decimal | date | tier | list_type
    values: frozenset[str] | None = None  # the closed set of values, when there is one

    def code_for(self, record_type: str) -> str | None:
        return dict(self.codes).get(record_type)


@dataclass(frozen=True)
class Filter:
    target: Target
    op: str  # in | any | contains
    values: tuple[str, ...]


@dataclass(frozen=True)
class RecordSource:
    types: tuple[str, ...]
    counts_while: str = "published"  # published: inside its publicity period; valid: in force; any
    min_age_months: int = 0  # decided at least this many months before the date of the run
    max_age_months: int | None = None  # … and less than this many
    repaired: str = "exclude"  # a record whose publication was stopped by repair: exclude | count
    latest: bool = False  # only each subject's most recent record (external grades: this year's level)
    where: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class ListSource:
    types: tuple[str, ...]  # list type keys; entries in force on the date of the run


@dataclass(frozen=True)
class Band:
    low: Decimal
    below: Decimal | None
    points: int

    def holds(self, value: Decimal) -> bool:
        return value >= self.low and (self.below is None or value < self.below)

    @property
    def label(self) -> str:
        return f"[{self.low}, {self.below if self.below is not None else '∞'})"


@dataclass(frozen=True)
class KindScoring:
    """种类分: each record scores by its kind; a record of several kinds (处罚类别) scores its highest."""

    target: Target
    points: tuple[tuple[str, int], ...]  # in descending points
    other: int = 0

    def points_of(self, values: tuple[str, ...]) -> int:
        for value, points in self.points:
            if value in values:
                return points
        return self.other


@dataclass(frozen=True)
class BandScoring:
    """区间分: the subject's measure over its records (count, sum or max of a field) falls in one band."""

    measure: str
    target: Target | None
    bands: tuple[Band, ...]

    def points_for(self, value: Decimal) -> int:
        for band in self.bands:
            if band.holds(value):
                return band.points
        return 0


@dataclass(frozen=True)
class Node:
    key: str
    name: str
    parent: str | None
    weight: int
    basis: str


@dataclass(frozen=True)
class Indicator(Node):
    direction: str = "deduct"
    source: RecordSource | ListSource = field(default_factory=lambda: ListSource(()))
    scoring: KindScoring | BandScoring = field(default_factory=lambda: BandScoring("count", None, ()))

    @property
    def is_deduct(self) -> bool:
        return self.direction == "deduct"

    @property
    def reads_lists(self) -> bool:
        return isinstance(self.source, ListSource)


@dataclass(frozen=True)
class Grade:
    symbol: str
    label: str
    min_score: int
    meaning: str = ""


@dataclass(frozen=True)
class Override:
    """A subject on one of these lists (or with any points on this indicator) is graded at most `grade`."""

    grade: str
    lists: tuple[str, ...] = ()
    indicator: str | None = None
    basis: str = ""

    @property
    def code(self) -> str:
        return f"indicator:{self.indicator}" if self.indicator else "lists:" + ",".join(self.lists)


@dataclass(frozen=True)
class Model:
    key: str
    version: str
    name: str
    basis: str
    subject_kinds: tuple[str, ...]
    scale: int
    weights_add_up: bool
    dimensions: tuple[Node, ...]
    indicators: tuple[Indicator, ...]
    grades: tuple[Grade, ...]  # best first
    default_grade: str
    overrides: tuple[Override, ...]
    digest: str

    @property
    def base(self) -> int:
        """The score of a subject with no points anywhere: the deducting indicators' full marks."""
        return sum(i.weight for i in self.indicators if i.is_deduct)

    @property
    def max_score(self) -> int:
        return sum(i.weight for i in self.indicators)

    def rank(self, symbol: str) -> int:
        return next(n for n, g in enumerate(self.grades) if g.symbol == symbol)

    def grade_for(self, score: int) -> Grade:
        return next(g for g in self.grades if score >= g.min_score)

    def grade(self, symbol: str) -> Grade:
        return self.grades[self.rank(symbol)]

    def indicator(self, key: str) -> Indicator:
        return next(i for i in self.indicators if i.key == key)

    def path(self, node: Node) -> list[Node]:
        nodes = {n.key: n for n in self.dimensions}
        path = []
        parent = node.parent
        while parent is not None:
            path.append(nodes[parent])
            parent = nodes[parent].parent
        return list(reversed(path))

    @property
    def record_types(self) -> set[str]:
        return {t for i in self.indicators if isinstance(i.source, RecordSource) for t in i.source.types}

    @property
    def list_types(self) -> set[str]:
        found = {t for i in self.indicators if isinstance(i.source, ListSource) for t in i.source.types}
        return found | {t for o in self.overrides for t in o.lists}
