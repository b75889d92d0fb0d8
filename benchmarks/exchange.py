"""Exchange benchmark: what the change log costs ingestion, and how fast the feed and the national export read.

    python benchmarks/exchange.py                         # 20,000 rows, SQLite, 3 rounds
    python benchmarks/exchange.py --db both --rows 50000

Rounds alternate an import with the change log (as shipped) and the same import with the log's writes turned
off (the baseline, measured in the same run); medians are reported. After the last logged import, the whole
feed is read a page of 1,000 changes at a time, and the whole database exported in the national format, each
against a baseline in the same run: the same records' payloads selected in id order (feed) and written to CSV
(export) with no change log, no cursors, no unsealing. Results are printed as Markdown.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import KEY, OUT, TODAY, fresh_database, make_csv, start_postgres  # noqa: E402
from sqlalchemy import select  # noqa: E402

from xinyong.actors import Permission  # noqa: E402
from xinyong.audit import keys as audit_keys  # noqa: E402
from xinyong.config import Settings  # noqa: E402
from xinyong.db import make_engine, make_sessionmaker  # noqa: E402
from xinyong.departments import service as departments_service  # noqa: E402
from xinyong.exchange import feed  # noqa: E402
from xinyong.exchange import service as exchange_service  # noqa: E402
from xinyong.protect import protector as make_protector  # noqa: E402
from xinyong.records import service as records_service  # noqa: E402
from xinyong.records.models import Record  # noqa: E402


def _import(url: str, path: Path, department, *, logged: bool) -> float:  # type: ignore[no-untyped-def]
    fresh_database(url)
    settings = Settings(database_url=url, secret_key=KEY, audit_checkpoint_file=OUT / "audit-checkpoints.jsonl")
    engine = make_engine(url)
    session = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))()
    dept = departments_service.add_department(session, code=department.code, name=department.name)
    session.commit()
    saved = records_service.changelog.log, records_service.changelog.log_new_records
    if not logged:
        records_service.changelog.log = lambda *a, **k: 0  # type: ignore[assignment]
        records_service.changelog.log_new_records = lambda *a, **k: None  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        result = records_service.import_file(
            session, path, settings=settings, protector=make_protector(settings), record_type="penalty",
            department=dept, actor="benchmark", reported_on=TODAY, today=TODAY,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    finally:
        records_service.changelog.log, records_service.changelog.log_new_records = saved
    session.close()
    engine.dispose()
    if result.status != "completed":
        raise SystemExit(f"import did not complete: {result}")
    return elapsed


def _reads(url: str) -> dict[str, float]:
    settings = Settings(database_url=url, secret_key=KEY, audit_checkpoint_file=OUT / "audit-checkpoints.jsonl")
    engine = make_engine(url)
    factory = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))
    figures: dict[str, float] = {}
    with factory() as session:
        started = time.perf_counter()
        after, served = None, 0
        while True:
            page = feed.read(session, settings=settings, key_prefix="bench", permissions=frozenset(
                {Permission.API_CHANGES_READ, Permission.API_CHANGES_SHARED}), after=after, types="penalty",
                limit=1000, today=TODAY)  # fmt: skip
            served += len(page.changes)
            after = page.cursor
            if not page.has_more:
                break
        figures["feed_s"] = time.perf_counter() - started
        figures["feed_changes"] = served
        started = time.perf_counter()
        last, count = 0, 0
        while True:
            rows = session.execute(select(Record.id, Record.payload).where(Record.id > last).order_by(Record.id)
                                   .limit(1000)).all()  # fmt: skip
            if not rows:
                break
            count += len(rows)
            last = rows[-1].id
        figures["feed_baseline_s"] = time.perf_counter() - started
    out = Path(tempfile.mkdtemp(prefix="xinyong-bench-export."))
    with factory() as session:
        started = time.perf_counter()
        result = exchange_service.export_national(session, out / "national", settings=settings,
                                                  protector=make_protector(settings), destination="bench")  # fmt: skip
        session.commit()
        figures["export_s"] = time.perf_counter() - started
        figures["export_rows"] = result.records
        started = time.perf_counter()
        with (out / "baseline.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            for payload in session.scalars(select(Record.payload).order_by(Record.id).execution_options(yield_per=1000)):
                writer.writerow(list(payload.values()))
        figures["export_baseline_s"] = time.perf_counter() - started
    shutil.rmtree(out)
    engine.dispose()
    return figures


def bench(name: str, url: str, rows: int, rounds: int) -> None:
    path, department = make_csv(rows, 1)
    logged, plain = [], []
    for _ in range(rounds):
        plain.append(_import(url, path, department, logged=False))
        logged.append(_import(url, path, department, logged=True))
    reads = _reads(url)
    with_log, without = statistics.median(logged), statistics.median(plain)
    print(f"\n### {name}, {rows:,} rows, {rounds} rounds\n")
    print("| what | figure |\n|---|---|")
    print(f"| import without the change log (median) | {rows / without:,.0f} rows/s |")
    print(f"| import with the change log (median) | {rows / with_log:,.0f} rows/s |")
    print(f"| with / without | {without / with_log:.2f} |")
    print(f"| feed, whole log in pages of 1,000 | {reads['feed_changes'] / reads['feed_s']:,.0f} changes/s "
          f"({reads['feed_s'] / reads['feed_baseline_s']:.1f}× the plain select) |")
    print(f"| national export | {reads['export_rows'] / reads['export_s']:,.0f} records/s "
          f"({reads['export_s'] / reads['export_baseline_s']:.1f}× the plain CSV dump) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        workdir = Path(tempfile.mkdtemp(prefix="xinyong-bench-exchange."))
        bench("SQLite", f"sqlite:///{workdir / 'bench.db'}", args.rows, args.rounds)
        shutil.rmtree(workdir)
    if args.db in ("postgresql", "both"):
        url, workdir = start_postgres()
        try:
            bench("PostgreSQL", url, args.rows, args.rounds)
        finally:
            subprocess.run([str(ROOT / "scripts" / "pg-test-server.sh"), "stop", workdir], check=False)


if __name__ == "__main__":
    main()
