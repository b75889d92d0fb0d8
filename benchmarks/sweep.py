"""Disclosure sweep benchmark: the first run of `xinyong disclosure sweep` (nothing noted yet), set-based in the
database, against the previous algorithm (every candidate record read into Python, the rules applied one by one,
withdrawals inserted in batches of 1,000), which is kept here as the baseline.

    .venv/bin/python benchmarks/sweep.py                                   # 60,000 subjects, 300,000 records, SQLite
    .venv/bin/python benchmarks/sweep.py --subjects 200000 --records 1000000 --rounds 3
    .venv/bin/python benchmarks/sweep.py --pg URL [--pg-filled] [--skip-sqlite]
    .venv/bin/python benchmarks/sweep.py --subjects 200000 --records 1000000 --beside-writer --rounds 2

`--beside-writer` (SQLite) measures instead how long another connection waits for the write lock while the sweep
runs (it writes a row every 20 ms), for the sweep in one writer's transaction and for `sweep_beside_writers` (the
command's and the job's), each as a first run and as the next day's.

The subjects and records are the portal benchmark's (benchmarks/portal.py builds them and caches the SQLite file
under benchmarks/out/; `--pg URL` fills an empty database the same way unless `--pg-filled`). Each run is a fresh
process (so its peak RSS is its own), sweeps as of `--today` with the default settings and commits, as the command
does; the withdrawals are then deleted (untimed) so the next run starts from the same state. The rounds alternate
which algorithm goes first; medians are reported, with the ratio baseline / set-based, and the two algorithms'
results are compared (rows per reason, sums of record ids and last days).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert, or_, select, text

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
KEY = "benchmark-master-key-" + "0123456789abcdef" * 2
sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def previous_sweep(session: Any, *, settings: Any, today: date) -> dict[str, int]:
    """The sweep as it was before it ran in the database (the baseline)."""
    from sqlalchemy import not_

    from xinyong.catalog import load_catalog
    from xinyong.disclosure import rules
    from xinyong.disclosure import service as s
    from xinyong.disclosure.models import Withdrawal
    from xinyong.records.models import Record, RecordStatus
    from xinyong.subjects.models import Subject

    policy = s.load_policy(settings)
    catalog = load_catalog(settings.catalog_dirs)
    classes = s.department_classes(session, policy)
    clause = s.published_clause(session, policy, today, subject_kind=Subject.kind)
    already = select(Withdrawal.record_id).where(Withdrawal.record_id == Record.id).exists()
    was_public = or_(Record.status == RecordStatus.REVOKED.value, Record.tier.is_not(None))
    query = (
        select(Record, Subject.kind)
        .join(Subject, Subject.id == Record.subject_id)
        .where(was_public, not_(clause), not_(already))
        .order_by(Record.id)
        .execution_options(yield_per=2000)
    )
    counts: dict[str, int] = defaultdict(int)
    batch: list[dict[str, Any]] = []
    for record, kind in session.execute(query):
        facts = s.facts_of(record, str(kind.value if hasattr(kind, "value") else kind),
                           classes.by_id.get(record.department_id), catalog)  # fmt: skip
        reason = rules.withheld_reason(facts, policy, today)
        if reason not in ("expired", "revoked"):
            continue
        counts[reason] += 1
        batch.append({"record_id": record.id, "reason": reason, "last_day": rules.last_day(facts, policy),
                      "swept_on": today})  # fmt: skip
    for start in range(0, len(batch), 1000):
        session.execute(insert(Withdrawal.__table__), batch[start : start + 1000])
    return dict(counts)


def child(algorithm: str, url: str, today: date) -> None:
    """One run, in its own process: prints seconds, counts and memory as JSON."""
    from xinyong.config import Settings
    from xinyong.db import make_engine, make_sessionmaker
    from xinyong.disclosure import service

    engine = make_engine(url)
    settings = Settings(database_url=url, secret_key=KEY)
    factory = make_sessionmaker(engine)
    sweep = previous_sweep if algorithm == "python" else service.sweep
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with factory() as session:
        counts = sweep(session, settings=settings, today=today)
        session.commit()
    seconds = time.perf_counter() - started
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    engine.dispose()
    print(json.dumps({"seconds": round(seconds, 2), "counts": counts, "rss_before_mb": round(rss_before / 1024),
                      "rss_peak_mb": round(rss_peak / 1024)}))  # fmt: skip


def _digest(url: str) -> dict[str, list[Any]]:
    from xinyong.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT reason, count(*), sum(record_id), count(last_day), min(last_day), max(last_day), min(swept_on) "
            "FROM disclosure_withdrawals GROUP BY reason ORDER BY reason"
        )).all()  # fmt: skip
    engine.dispose()
    return {r[0]: [str(v) for v in r[1:]] for r in rows}


def _clear(url: str) -> None:
    from xinyong.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE disclosure_withdrawals"))
        else:
            conn.execute(text("DELETE FROM disclosure_withdrawals"))
    engine.dispose()


def measure(url: str, today: date, rounds: int) -> dict[str, Any]:
    _clear(url)
    runs: dict[str, list[dict[str, Any]]] = {"python": [], "sql": []}
    digests: dict[str, dict[str, list[Any]]] = {}
    for n in range(rounds):
        for algorithm in ("python", "sql") if n % 2 == 0 else ("sql", "python"):
            done = subprocess.run(
                [sys.executable, __file__, "--child", algorithm, "--url", url, "--today", today.isoformat()],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            result = json.loads(done.stdout.strip().splitlines()[-1])
            result["load_average"] = [round(x, 2) for x in os.getloadavg()]
            runs[algorithm].append(result)
            digests[algorithm] = _digest(url)
            log(f"round {n + 1}, {algorithm}: {result}")
            _clear(url)
        assert digests["python"] == digests["sql"], digests
        assert runs["python"][-1]["counts"] == runs["sql"][-1]["counts"]
    report: dict[str, Any] = {"today": today.isoformat(), "counts": runs["sql"][-1]["counts"],
                              "withdrawals": digests["sql"]}  # fmt: skip
    for algorithm, label in (("python", "baseline (previous, in Python)"), ("sql", "set-based")):
        report[label] = {
            "median_s": statistics.median(r["seconds"] for r in runs[algorithm]),
            "runs_s": [r["seconds"] for r in runs[algorithm]],
            "peak_rss_mb": max(r["rss_peak_mb"] for r in runs[algorithm]),
            "rss_before_mb": max(r["rss_before_mb"] for r in runs[algorithm]),
        }
    report["ratio"] = round(report["baseline (previous, in Python)"]["median_s"]
                            / max(report["set-based"]["median_s"], 0.01), 1)  # fmt: skip
    return report


def beside_writer(path: Path, today: date, rounds: int) -> dict[str, Any]:
    """Each way of sweeping, a first run and the next day's, with another connection writing beside it."""
    import sqlite3
    import threading
    from datetime import timedelta

    from sqlalchemy.orm import sessionmaker

    from xinyong.config import Settings
    from xinyong.db import make_engine
    from xinyong.disclosure import service
    from xinyong.writequeue import writing_scope

    url = f"sqlite:///{path}"
    settings = Settings(database_url=url, secret_key=KEY)
    engine = make_engine(url)
    factory = sessionmaker(engine)
    waits: list[float] = []
    stop = threading.Event()

    def writer() -> None:
        connection = sqlite3.connect(path, timeout=120, isolation_level=None)
        connection.execute("CREATE TABLE IF NOT EXISTS benchmark_scratch (x INTEGER)")
        while not stop.is_set():
            started = time.perf_counter()
            connection.execute("BEGIN IMMEDIATE")
            waits.append(time.perf_counter() - started)
            connection.execute("INSERT INTO benchmark_scratch VALUES (1)")
            connection.execute("COMMIT")
            time.sleep(0.02)
        connection.execute("DROP TABLE benchmark_scratch")
        connection.close()

    def held(day: date) -> dict[str, int]:
        with writing_scope(factory) as session:
            return service.sweep(session, settings=settings, today=day)

    def apart(day: date) -> dict[str, int]:
        return service.sweep_beside_writers(factory, settings=settings, today=day)

    runs: dict[str, list[dict[str, Any]]] = {}
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for n in range(rounds):
            for label, sweep in (("held", held), ("apart", apart)) if n % 2 == 0 else (("apart", apart), ("held", held)):
                _clear(url)
                for run, day in (("first", today), ("next day", today + timedelta(days=1))):
                    waits.clear()
                    started = time.perf_counter()
                    counts = sweep(day)
                    seconds = time.perf_counter() - started
                    time.sleep(0.1)  # the writer's wait in progress is counted
                    result = {"seconds": round(seconds, 2), "noted": sum(counts.values()),
                              "longest_wait_s": round(max(waits, default=0.0), 3)}  # fmt: skip
                    runs.setdefault(f"{label}, {run}", []).append(result)
                    log(f"round {n + 1}, {label}, {run}: {result}")
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    return {key: {"median_s": statistics.median(r["seconds"] for r in rows),
                  "longest_wait_s": max(r["longest_wait_s"] for r in rows), "runs": rows}
            for key, rows in runs.items()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=60_000)
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--today", type=date.fromisoformat, default=date.today(),
                        help="the sweep's day (default today; the data set's decisions reach back three years)")
    parser.add_argument("--pg", help="PostgreSQL URL: an empty database to fill, or one filled before (--pg-filled)")
    parser.add_argument("--pg-filled", action="store_true", help="the --pg database holds the data set already")
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--beside-writer", action="store_true",
                        help="SQLite: how long another writer waits while each way of sweeping runs")
    parser.add_argument("--child", choices=["python", "sql"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.today)
        return
    import portal as portal_benchmark

    OUT.mkdir(exist_ok=True)
    name = f"portal-{args.subjects}-{args.records}-{args.seed}"
    results: dict[str, Any] = {}
    if not args.skip_sqlite:
        if not (OUT / f"{name}.ready").exists():
            (OUT / f"{name}.sqlite").unlink(missing_ok=True)
            started = time.monotonic()
            portal_benchmark.build(f"sqlite:///{OUT / name}.sqlite", args.subjects, args.records, args.seed)
            (OUT / f"{name}.ready").write_text(f"{time.monotonic() - started:.0f}s\n")
            log(f"sqlite build: {time.monotonic() - started:.0f}s")
        if args.beside_writer:
            results["sqlite, beside a writer"] = beside_writer(OUT / f"{name}.sqlite", args.today, args.rounds)
        else:
            results["sqlite"] = measure(f"sqlite:///{OUT / name}.sqlite", args.today, args.rounds)
    if args.pg:
        if not args.pg_filled:
            portal_benchmark.build(args.pg, args.subjects, args.records, args.seed)
        results["postgresql"] = measure(args.pg, args.today, args.rounds)
    report = {"subjects": args.subjects, "records": args.records, "rounds": args.rounds,
              "load_average": os.getloadavg(), "results": results}  # fmt: skip
    (OUT / f"sweep-{args.subjects}-{args.records}-{args.seed}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2))  # fmt: skip
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
