"""Incentive-only by construction: points unlock 信易+ benefits and nothing else. Each rule of issue 16 held by a
test: never an input to a check, a list, a measure or an evaluation (no such module imports them), never on a
public page, no ranking (nothing lists or orders members)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import xinyong
from xinyong.points import service as points_service

SRC = Path(xinyong.__file__).parent
# Who may import xinyong.points: itself, 信易+ (eligibility answers and the benefits page), and the wiring.
ALLOWED = {"points", "scenarios", "app", "models"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_check_list_measure_evaluation_or_public_page_reads_points():
    offenders = []
    for path in SRC.rglob("*.py"):
        top = path.relative_to(SRC).parts[0].removesuffix(".py")
        if top in ALLOWED:
            continue
        if any(m == "xinyong.points" or m.startswith("xinyong.points.") for m in _imports(path)):
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


def test_scenarios_use_points_only_for_a_band_answer():
    source = (SRC / "scenarios" / "service.py").read_text(encoding="utf-8")
    used = {line.split("points_service.")[1].split("(")[0] for line in source.splitlines() if "points_service." in line}
    assert used <= {"band_of", "model"}


def test_no_ranking_and_no_one_elses_points():
    """The service answers about one account or one subject, never lists members, never orders by score."""
    public = {name for name, fn in inspect.getmembers(points_service, inspect.isfunction)
              if fn.__module__ == points_service.__name__ and not name.startswith("_")}  # fmt: skip
    assert public == {"model", "member_of", "opt_in", "opt_out", "own_score", "history_count", "band_of"}
    source = inspect.getsource(points_service)
    assert "order_by(PointsHistory.score" not in source
    assert "select(PointsMember)" not in source.replace("select(PointsMember).where", "")


def test_no_public_page_or_api_shows_points(app):  # type: ignore[no-untyped-def]
    from tests.functional.admin.test_permission_matrix import app_routes

    paths = {path for _method, path in app_routes(app) if "points" in path}
    assert paths == {"/points/model", "/account/points", "/account/points/opt-in", "/account/points/opt-out"}
    templates = SRC / "templates"
    for path in templates.rglob("*.html"):
        rel = str(path.relative_to(templates))
        if rel.startswith("portal/points/") or rel == "portal/account/_nav.html":
            continue
        text = path.read_text(encoding="utf-8")
        assert "points-score" not in text, rel
        assert "积分：" not in text, rel
