"""The set-based run (SQL) and the one-subject scorer behind explanations (Python) agree on every subject, for a
model that uses every kind of indicator, on demo data with list entries and a repair."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from tests.factories import evaluation as ef
from tests.factories import lists as lf
from tests.functional.evaluation.conftest import TODAY

from xinyong.demo.loader import load_demo
from xinyong.disclosure.models import PublicationStop
from xinyong.evaluation import explain, rules, service
from xinyong.evaluation.models import EvaluationPoints, EvaluationScore
from xinyong.records.models import Record
from xinyong.subjects.models import Subject

FEATURES = """
key = "features"
version = "1"
name = "全部指标类型"
basis = "测试"
scale = 600
default_grade = "B"

[[grades]]
symbol = "A"
label = "低"
min = 500

[[grades]]
symbol = "B"
label = "一般"
min = 300

[[grades]]
symbol = "C"
label = "较高"
min = 150

[[grades]]
symbol = "D"
label = "高"
min = 0

[[overrides]]
indicator = "severe-any"
at_most = "C"
basis = "两年内有严重失信行政处罚的不高于 C"

[[overrides]]
lists = ["serious-dishonesty"]
at_most = "D"
basis = "严重失信主体名单"

[[dimensions]]
key = "all"
name = "全部"
weight = 600

[[dimensions]]
key = "sub"
name = "下级维度"
parent = "all"
weight = 100

[[indicators]]
key = "tiers"
name = "按失信程度"
parent = "all"
weight = 150
basis = "b"
records = { types = ["penalty"], while = "published", repaired = "exclude" }
kinds = { by = "tier", points = { "严重" = 100, "一般" = 30, "轻微" = 5 } }

[[indicators]]
key = "categories"
name = "按处罚类别（取最重）"
parent = "all"
weight = 100
basis = "b"
records = { types = ["penalty"], while = "any", max_age_months = 24 }
kinds = { by = "role:categories", points = { "吊销许可证件" = 80, "责令停产停业" = 60, "罚款" = 10, "警告" = 1 }, other = 3 }

[[indicators]]
key = "fines"
name = "罚款合计"
parent = "all"
weight = 60
basis = "b"
records = { types = ["penalty"], while = "any", where = [{ field = "role:categories", any = ["罚款"] }] }
bands = { measure = "sum", of = "role:fine_amount", ranges = [{ from = 0.01, below = 1, points = 5 }, { from = 1, below = 10, points = 20 }, { from = 10, points = 60 }] }

[[indicators]]
key = "largest-fine"
name = "最大罚款"
parent = "sub"
weight = 30
basis = "b"
records = { types = ["penalty"], while = "any" }
bands = { measure = "max", of = "field:CF_NR_FK", ranges = [{ from = 2, points = 30 }] }

[[indicators]]
key = "licences"
name = "有效许可"
parent = "sub"
direction = "add"
weight = 50
basis = "b"
records = { types = ["license"], while = "valid" }
bands = { measure = "count", ranges = [{ from = 1, below = 3, points = 20 }, { from = 3, points = 50 }] }

[[indicators]]
key = "latest-licence"
name = "最近一次许可（特殊行业）"
parent = "sub"
direction = "add"
weight = 20
basis = "b"
records = { types = ["license"], while = "any", latest = true, where = [{ field = "field:XK_XKZS", contains = ["药品", "食品"] }] }
kinds = { by = "field:XK_XKLB", points = { "普通" = 20, "登记" = 5 } }

[[indicators]]
key = "severe-any"
name = "两年内的严重失信处罚"
parent = "all"
weight = 0
basis = "b"
records = { types = ["penalty"], while = "any", max_age_months = 24, where = [{ field = "tier", in = ["严重"] }] }
kinds = { by = "tier", points = { "严重" = 1 } }

[[indicators]]
key = "lists"
name = "名单"
parent = "all"
weight = 100
basis = "b"
lists = { types = ["serious-dishonesty", "watch"] }
kinds = { by = "list_type", points = { "serious-dishonesty" = 100, "watch" = 20 } }

[[indicators]]
key = "repaired-too"
name = "半年以前的处罚（含已修复）"
parent = "all"
weight = 90
basis = "b"
records = { types = ["penalty"], while = "any", min_age_months = 6, repaired = "count" }
bands = { measure = "count", ranges = [{ from = 1, below = 3, points = 10 }, { from = 3, points = 25 }] }
"""


def test_sql_and_python_agree_on_every_subject(db_session, eval_settings, protector, dept):  # type: ignore[no-untyped-def]
    # One county's data (the demo as it was before regions): seed 7 of it exercises every indicator and override.
    load_demo(db_session, settings=eval_settings, protector=protector, subjects=150, records=700, seed=7, today=TODAY,
              city=None, counties=("330521",))  # fmt: skip
    penalties = db_session.scalars(select(Record).where(Record.record_type == "penalty", Record.tier == "一般")
                                   .order_by(Record.decision_date)).all()  # fmt: skip
    repaired = next(r for r in penalties if date(2024, 12, 1) < r.decision_date < date(2025, 6, 1))
    ef.repair(db_session, eval_settings, protector, repaired, today=TODAY)
    subjects = [r.subject_id for r in penalties if r.subject_id != repaired.subject_id]
    codes = [c for c in (db_session.get(Subject, s).uscc for s in dict.fromkeys(subjects)) if c]
    for code, key in zip(codes[:6], ("serious-dishonesty", "watch") * 3, strict=True):
        lf.listed(db_session, eval_settings, protector, dept, code, today=TODAY, type_key=key)
    service.load_model_text(db_session, FEATURES, actor="test", settings=eval_settings)
    run = ef.run(db_session, eval_settings, TODAY, key="features")
    model = service.model_of(db_session, service.pick_model(db_session, "features"), settings=eval_settings)

    stored: dict[int, dict[str, EvaluationPoints]] = {}
    for p in db_session.scalars(select(EvaluationPoints).where(EvaluationPoints.run_id == run.id)):
        stored.setdefault(p.subject_id, {})[p.indicator] = p
    scores = db_session.scalars(select(EvaluationScore).where(EvaluationScore.run_id == run.id)).all()
    assert len(scores) > 60
    used = set()
    for score in scores:
        records, entries, _, _ = explain.subject_facts(db_session, score.subject_id)
        mirror = rules.evaluate(model, records, entries, TODAY)
        assert (mirror.score, mirror.grade, mirror.override) == (score.score, score.grade, score.override), score.subject_id
        rows = stored.get(score.subject_id, {})
        assert set(rows) == set(mirror.indicators), score.subject_id
        for key, row in rows.items():
            result = mirror.indicators[key]
            assert (row.points, row.hits) == (result.points, len(result.hits)), (score.subject_id, key)
            assert set(map(int, row.evidence.split(","))) == {h.id for h in result.hits[: rules.EVIDENCE_CAP]}
            used.add(key)
    # The data exercised every indicator and every override.
    assert used == {i.key for i in model.indicators}
    overrides = {s.override for s in scores}
    assert {"indicator:severe-any", "lists:serious-dishonesty"} <= overrides
    # The repaired record counts where the model says so, and only there.
    assert db_session.get(PublicationStop, repaired.id) is not None
    own = stored[repaired.subject_id]
    assert repaired.id not in {int(i) for i in (own["tiers"].evidence or "").split(",") if i} if "tiers" in own else True
    assert repaired.id in {int(i) for i in own["repaired-too"].evidence.split(",")}
