"""The points model as data, and the pure scoring: each contribution traced to its record, capped per item."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xinyong.errors import InvalidInput

MODEL_FILE = Path(__file__).with_name("model.toml")


@dataclass(frozen=True)
class Band:
    key: str
    name: str
    min: int


@dataclass(frozen=True)
class Item:
    key: str
    name: str
    source: str  # list:<key> | record:<type> | repair:approved
    points: int
    cap: int
    basis: str


@dataclass(frozen=True)
class PointsModel:
    key: str
    name: str
    version: str
    basis: str
    base: int
    max_score: int
    bands: tuple[Band, ...]  # lowest first
    items: tuple[Item, ...]

    def band_for(self, score: int) -> Band:
        return [b for b in self.bands if score >= b.min][-1]

    @property
    def band_keys(self) -> frozenset[str]:
        return frozenset(b.key for b in self.bands)


def parse_model(raw: dict[str, Any]) -> PointsModel:
    try:
        bands = tuple(sorted((Band(str(b["key"]), str(b["name"]), int(b["min"])) for b in raw["bands"]),
                             key=lambda b: b.min))  # fmt: skip
        items = tuple(Item(str(i["key"]), str(i["name"]), str(i["source"]), int(i["points"]), int(i["cap"]),
                           str(i.get("basis", ""))) for i in raw.get("items", []))  # fmt: skip
        model = PointsModel(str(raw["key"]), str(raw["name"]), str(raw["version"]), str(raw.get("basis", "")),
                            int(raw["base"]), int(raw["max_score"]), bands, items)  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(reason=f"积分模型格式有误：{exc}") from None
    if not bands or bands[0].min > 0:
        raise InvalidInput(reason="积分模型须有从 0 分起的档次")
    if len({b.key for b in bands}) != len(bands):
        raise InvalidInput(reason="积分档次的 key 不能重复")
    for item in items:
        if not item.source.startswith(("list:", "record:")) and item.source != "repair:approved":
            raise InvalidInput(reason=f"积分项目 {item.key} 的来源须为 list:<名单>、record:<记录类型> 或 repair:approved")
        if item.points <= 0 or item.cap < item.points:
            raise InvalidInput(reason=f"积分项目 {item.key} 只能加分，且上限不小于单次分值")  # incentive-only
    return model


def load_model(path: Path = MODEL_FILE) -> PointsModel:
    return parse_model(tomllib.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Evidence:
    title: str  # 红名单名称, 文书号 …
    on: str  # its date


@dataclass(frozen=True)
class Contribution:
    item: Item
    evidence: tuple[Evidence, ...]
    points: int  # after the cap


@dataclass(frozen=True)
class Score:
    score: int
    band: Band
    contributions: tuple[Contribution, ...]


def score(model: PointsModel, found: dict[str, list[Evidence]]) -> Score:
    """`found`: each item's source → its evidence about the person. Only additions, capped per item and overall."""
    contributions = []
    total = model.base
    for item in model.items:
        evidence = found.get(item.source, [])
        if not evidence:
            continue
        points = min(item.points * len(evidence), item.cap)
        contributions.append(Contribution(item, tuple(evidence), points))
        total += points
    total = min(total, model.max_score)
    return Score(total, model.band_for(total), tuple(contributions))


def simulate(model: PointsModel, counts: dict[str, int]) -> Score:
    """What a number of records per item would earn (the portal's simulator): no person's data involved."""
    found = {i.source: [Evidence(f"{i.name} 第 {n + 1} 条", "—") for n in range(max(0, min(counts.get(i.key, 0), 50)))]
             for i in model.items}  # fmt: skip
    return score(model, found)
