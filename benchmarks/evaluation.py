"""Evaluation benchmark: a full evaluation run and a random-inspection draw at county scale, beside a baseline
measured in the same run, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/evaluation.py                                  # 1,000,000 subjects, 5,000,000 records
    .venv/bin/python benchmarks/evaluation.py --subjects 100000 --records 500000
    .venv/bin/python benchmarks/evaluation.py --pg URL [--pg-filled] [--skip-sqlite]

The subjects and records are the portal benchmark's (benchmarks/portal.py builds and caches them under
benchmarks/out/; this script builds them with the same code when the cache is missing). SQLite: the cached file
is copied, migrated to the current heads and given the built-in list types, 50,000 published list entries on
random subjects (a fifth on each of five list types, as benchmarks/checks.py adds them), the built-in evaluation
model and twenty inspectors; the copy is cached too. PostgreSQL: the database the portal benchmark filled
(`benchmarks/portal.py --pg URL`) is given the same additions in place, once.

What is timed, each in its own transaction as the command line runs it:
- baseline: one pass over the records grouped by subject, its result written to a table
  (`INSERT INTO … SELECT subject_id, count(*), max(decision_date) FROM records GROUP BY subject_id`);
- the run: `evaluation.service.run_evaluation` as of today, with the time of each step;
- the draw: a plan over every organisation and individual business (default ratios per grade, the special domain
  "药品", two inspectors per subject out of twenty), then `draw_plan` with a seed and its commit.
Targets (issue 14): the run under 10 minutes on SQLite and under 5 on PostgreSQL; the draw under 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
KEY = "benchmark-master-key-" + "0123456789abcdef" * 2
sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def source_database(subjects: int, records: int, seed: int) -> Path:
    """The portal benchmark's cached SQLite database of this size, built first if missing."""
    import portal as portal_benchmark

    name = f"portal-{subjects}-{records}-{seed}"
    path = OUT / f"{name}.sqlite"
    if not (OUT / f"{name}.ready").exists():
        path.unlink(missing_ok=True)
        started = time.monotonic()
        portal_benchmark.build(f"sqlite:///{path}", subjects, records, seed)
        (OUT / f"{name}.ready").write_text(f"{time.monotonic() - started:.0f}s\n")
        log(f"portal data set built in {time.monotonic() - started:.0f}s")
    return path


def prepare(url: str, marker: Path, entries: int, seed: int) -> None:
    """List types, list entries, the built-in model and a roster of inspectors, once per database."""
    if marker.exists():
        return
    from xinyong import migrate
    from xinyong.actors import Actor
    from xinyong.audit import keys as audit_keys
    from xinyong.config import Settings
    from xinyong.db import make_engine, make_sessionmaker
    from xinyong.departments.models import Department
    from xinyong.evaluation import service as evaluation_service
    from xinyong.inspections import roster
    from xinyong.lists import service as lists_service
    from xinyong.lists.models import EntryState, ListEntry, ListOrigin, ListType
    from xinyong.subjects.models import Subject

    migrate.upgrade(url)
    engine = make_engine(url)
    settings = Settings(database_url=url, secret_key=KEY)
    system = Actor.system("benchmark")
    rng = random.Random(seed)
    with audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))() as session:
        lists_service.load_types_file(session, lists_service.BUILTIN_TYPES, actor=system)
        session.commit()
        has_entries = session.scalar(select(ListEntry.id).limit(1)) is not None
        if not has_entries:  # benchmarks/checks.py may have added them to the same PostgreSQL database
            types = {t.key: t for t in session.scalars(select(ListType))}
            max_id = session.scalar(select(Subject.id).order_by(Subject.id.desc()).limit(1)) or 0
            dept = session.scalars(select(Department).order_by(Department.id)).first()
            assert dept is not None
            today, now = date.today(), datetime.now(UTC)
            entries = min(entries, max_id // 5)  # a small data set: a fifth of its subjects
            chosen: set[int] = set()
            while len(chosen) < entries:
                chosen.add(1 + int(rng.random() * max_id))
            keys = ["serious-dishonesty", "court-dishonest-debtors", "major-tax-dishonesty", "honor", "watch"]
            rows = []
            for n, subject_id in enumerate(sorted(chosen)):
                t = types[keys[n % len(keys)]]
                start = today - timedelta(days=int(rng.random() * 600))
                rows.append({
                    "list_type_id": t.id, "subject_id": subject_id, "subject_name": f"subject {subject_id}",
                    "department_id": dept.id, "origin": t.origin.value, "state": EntryState.PUBLISHED.value,
                    "reasons": "基准测试数据", "basis": t.legal_basis, "is_published_late": False, "valid_from": start,
                    "valid_until": lists_service.rules.validity_end(start, t.duration_months), "source": t.source,
                    "source_ref": f"BENCH-{n}" if t.origin is ListOrigin.IMPORTED else None,
                    "decision_no": None if t.origin is ListOrigin.IMPORTED else f"BENCH-{n}", "decided_on": start,
                    "published_on": start, "created_at": now, "updated_at": now,
                })  # fmt: skip
            log(f"list entries: {entries:,} on random subjects")
            session.execute(insert(ListEntry.__table__), rows)
        evaluation_service.load_model_file(session, evaluation_service.BUILTIN_MODEL, actor=system, settings=settings)
        dept = session.scalars(select(Department).order_by(Department.id)).first()
        assert dept is not None
        for n in range(1, 21):
            roster.add_inspector(session, department=dept, name=f"检查员{n:02d}", badge_no=f"BENCH{n:04d}", actor=system)
        session.execute(text("ANALYZE"))
        session.commit()
    engine.dispose()
    marker.write_text("ready\n")


def measure(url: str) -> dict[str, object]:
    from xinyong.actors import Actor
    from xinyong.audit import keys as audit_keys
    from xinyong.config import Settings
    from xinyong.db import make_engine, make_sessionmaker
    from xinyong.departments.models import Department
    from xinyong.evaluation import service as evaluation_service
    from xinyong.inspections import service as inspections_service

    engine = make_engine(url, sqlite_cache_mb=1024)
    settings = Settings(database_url=url, secret_key=KEY)
    factory = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))
    system = Actor.system("benchmark")
    today = date.today()
    report: dict[str, object] = {}
    with factory() as session:
        session.execute(text("DROP TABLE IF EXISTS bench_baseline"))
        session.execute(text("CREATE TABLE bench_baseline (subject_id INTEGER, n INTEGER, latest DATE)"))
        session.commit()
        started = time.perf_counter()
        session.execute(text("INSERT INTO bench_baseline SELECT subject_id, count(*), max(decision_date) FROM records "
                             "GROUP BY subject_id"))  # fmt: skip
        session.commit()
        report["baseline_s"] = round(time.perf_counter() - started, 2)
        log(f"baseline: {report['baseline_s']} s")
        session.execute(text("DROP TABLE bench_baseline"))
        session.commit()

        steps: dict[str, float] = {}
        last = started = time.perf_counter()

        def step(name: str) -> None:
            nonlocal last
            now = time.perf_counter()
            steps[name] = round(now - last, 2)
            last = now
            log(f"  {name}: {steps[name]} s")

        run = evaluation_service.run_evaluation(session, as_of=today, actor=system, settings=settings, progress=step)
        report["run_s"] = round(time.perf_counter() - started, 2)
        report["run_steps_s"] = steps
        report["subjects_graded"] = run.subjects
        report["grades"] = run.grade_counts
        log(f"run: {report['run_s']} s, {run.subjects:,} subjects, {run.grade_counts}")

        dept = session.scalars(select(Department).order_by(Department.id)).first()
        assert dept is not None
        draft = inspections_service.PlanDraft("基准测试抽查", today, today + timedelta(days=30), [], [], None, ["drugs"],
                                              {}, [])  # fmt: skip
        started = time.perf_counter()
        plan = inspections_service.create_plan(session, draft, department=dept, actor=system, settings=settings,
                                               today=today)  # fmt: skip
        session.commit()
        report["plan_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        row = inspections_service.draw_plan(session, plan.id, seed=20251020, actor=system, settings=settings, today=today)
        session.commit()
        report["draw_s"] = round(time.perf_counter() - started, 2)
        report["draw_population"] = row.population_size
        report["drawn"] = row.drawn
        report["draw_strata"] = row.strata
        log(f"draw: {report['draw_s']} s over {row.population_size:,} subjects, {row.drawn:,} drawn")
    report["run_over_baseline"] = round(float(report["run_s"]) / max(float(report["baseline_s"]), 0.01), 1)  # type: ignore[arg-type]
    engine.dispose()
    return report


def _has_subjects(url: str) -> bool:
    from xinyong import migrate
    from xinyong.db import make_engine

    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM subjects LIMIT 1")).first() is not None
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", help="PostgreSQL URL of a database filled by benchmarks/portal.py --pg URL")
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    name = f"evaluation-{args.subjects}-{args.records}-{args.seed}"
    results: dict[str, object] = {}
    if not args.skip_sqlite:
        target = OUT / f"{name}.sqlite"
        marker = OUT / f"{name}.ready"
        if not marker.exists() and not target.exists():  # a copy whose preparation was interrupted is prepared again
            source = source_database(args.subjects, args.records, args.seed)
            log(f"copying {source.name} ({source.stat().st_size / 1e9:.1f} GB)")
            partial = target.with_suffix(".partial")
            shutil.copyfile(source, partial)
            partial.rename(target)
        prepare(f"sqlite:///{target}", marker, args.entries, args.seed)
        results["sqlite"] = measure(f"sqlite:///{target}")
    if args.pg:
        if not (OUT / f"{name}-pg.ready").exists() and not _has_subjects(args.pg):
            import portal as portal_benchmark

            log("PostgreSQL: filling the empty database with the portal benchmark's data set")
            portal_benchmark.build(args.pg, args.subjects, args.records, args.seed)
        prepare(args.pg, OUT / f"{name}-pg.ready", args.entries, args.seed)
        results["postgresql"] = measure(args.pg)
    report = {"subjects": args.subjects, "records": args.records, "load_average": os.getloadavg(), "results": results}
    (OUT / f"{name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
