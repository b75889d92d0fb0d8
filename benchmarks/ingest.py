"""Ingestion benchmark: end-to-end import (parse, validate, store) against a raw bulk load of the same rows.

    python benchmarks/ingest.py                       # 200,000 rows, both shapes, SQLite and PostgreSQL, 3 rounds
    python benchmarks/ingest.py --db sqlite --shape distinct --rounds 5
    python benchmarks/ingest.py --rss-rows 1000000    # also: peak RSS of a 1,000,000-row import (CLI)
    python benchmarks/ingest.py --scale 10000000      # only: rows/s at 10⁷ rows against 10⁵, peak RSS (CLI, SQLite)

Two files ("shapes"), generated once and kept under benchmarks/out/:
- `repeat`: UTF-8, column codes as headers, one subject for every four rows (a quarter of the rows create one);
- `distinct`: GBK, the templates' Chinese headers, every row a new organisation (the usual penalty file:
  a department rarely punishes the same subject twice in one file).

The pipeline imports a file with `import_file` (what `xinyong records import` runs) into a fresh, migrated
database. Two baselines load the same rows into the same database in the same run, with no validation, no
subjects and no idempotency:
- `plain`: the earlier baseline, SQLAlchemy `insert()` of dicts into a text table, a commit every 5,000 rows;
- `raw`: on SQLite a `csv` parse plus the driver's `executemany` of tuples into one text table (a commit every
  5,000 rows, like the pipeline); on PostgreSQL `COPY … FROM STDIN (FORMAT csv)` of the file's bytes into an
  unindexed text table (the server parses; the harder baseline).
Rounds alternate the three and the medians are reported, since the machine is shared and noisy. The ratio
the targets name is pipeline / raw. PostgreSQL runs on a throw-away server on loopback
(scripts/pg-test-server.sh). Results are printed as a Markdown table and written to benchmarks/out/.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from itertools import islice
from pathlib import Path

from sqlalchemy import Column, MetaData, Table, Text, insert, text

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT / "src"))

from xinyong import migrate  # noqa: E402
from xinyong.audit import keys as audit_keys  # noqa: E402
from xinyong.codes.uscc import ALPHABET, make_uscc  # noqa: E402
from xinyong.config import Settings  # noqa: E402
from xinyong.db import make_engine, make_sessionmaker  # noqa: E402
from xinyong.demo import generator  # noqa: E402
from xinyong.departments import service as departments_service  # noqa: E402
from xinyong.protect import protector as make_protector  # noqa: E402
from xinyong.records import service as records_service  # noqa: E402

KEY = "benchmark-master-key-0123456789abcdef0123"
TODAY = date(2026, 11, 20)
CHUNK = 5000


SHAPES = ("repeat", "distinct")
ENCODINGS = {"repeat": "utf-8", "distinct": "gbk"}
_SUBJECT_COLUMNS = ("CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_XDR_ZJLX", "CF_XDR_ZJHM", "CF_FRDB")


def make_csv(rows: int, seed: int, shape: str = "repeat") -> tuple[Path, generator.Department]:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    departments = generator.generate_departments(rng)
    department = next(d for d in departments if generator.decides(d, "penalty"))
    name = f"penalties-{rows}-seed{seed}.csv" if shape == "repeat" else f"penalties-{shape}-{rows}-seed{seed}.csv"
    path = OUT / name
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        if shape == "repeat":
            subjects = list(generator.generate_subjects(max(1000, rows // 4), rng))
            produced = generator.penalty_rows(subjects, departments, rows, rng, today=TODAY, department=department)
            generator.write_csv(tmp, (row for row, _, _ in produced), generator.PENALTY_COLUMNS)
        else:
            # Every row names an organisation of its own: the rows' cases as generated, their subjects replaced
            # one for one by as many new organisations (unique names and codes).
            pool = list(generator.generate_subjects(1000, rng, person_share=0.0))
            fresh = _distinct_subjects(rows, rng, seed)
            produced = generator.penalty_rows(pool, departments, rows, rng, today=TODAY, department=department)

            def distinct() -> Iterator[dict[str, str]]:
                for (row, _, _), subject in zip(produced, fresh, strict=True):
                    row.update(zip(_SUBJECT_COLUMNS, (subject.name, subject.kind, subject.uscc or "", "", "",
                                                      subject.legal_representative or ""), strict=True))  # fmt: skip
                    yield row

            generator.write_csv(tmp, distinct(), generator.PENALTY_COLUMNS, encoding="gbk", header="chinese")
        tmp.rename(path)
    return path, department


DEMO_NAMES_PER_BLOCK = 1_000_000  # the demo's name parts give about this many unique organisations of a kind


def _distinct_subjects(rows: int, rng: random.Random, seed: int) -> Iterator[generator.Subject]:
    """`rows` organisations, all different. The first million are the demo generator's (so files up to 10⁶ rows
    are those measured before); each further million repeats a million of its names with the block's number
    added (某某有限公司（2）) and codes of their own, numbered: the demo runs out of unique names past that."""
    yield from generator.generate_subjects(min(rows, DEMO_NAMES_PER_BLOCK), rng, person_share=0.0)
    serial = 0
    for block in range(1, -(-rows // DEMO_NAMES_PER_BLOCK)):
        count = min(DEMO_NAMES_PER_BLOCK, rows - block * DEMO_NAMES_PER_BLOCK)
        for subject in generator.generate_subjects(count, random.Random(seed * 1000 + block), person_share=0.0):
            assert subject.uscc is not None
            serial += 1
            body, left = "", serial
            for _ in range(6):  # "MB" and the serial in the code's alphabet: no demo code has it
                left, digit = divmod(left, len(ALPHABET))
                body = ALPHABET[digit] + body
            code = make_uscc(subject.uscc[0], subject.uscc[1], subject.uscc[2:8], "MB" + body)
            yield dataclasses.replace(subject, name=f"{subject.name}（{block + 1}）", uscc=code)


def fresh_database(url: str) -> None:
    if url.startswith("sqlite"):
        database = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)
    else:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)


def run_pipeline(url: str, path: Path, department: generator.Department) -> tuple[float, float, float]:
    """(seconds, CPU seconds of the importing process, CPU seconds of the processes it started and joined): CPU
    time moves less than the wall clock when other processes share the cores."""
    fresh_database(url)
    settings = Settings(database_url=url, secret_key=KEY, audit_checkpoint_file=OUT / "audit-checkpoints.jsonl")
    engine = make_engine(url)
    session = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))()
    dept = departments_service.add_department(session, code=department.code, name=department.name)
    session.commit()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = records_service.import_file(
        session, path, settings=settings, protector=make_protector(settings), record_type="penalty",
        department=dept, actor="benchmark", reported_on=TODAY, today=TODAY,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    own_cpu = _cpu(resource.getrusage(resource.RUSAGE_SELF)) - _cpu(own)
    children_cpu = _cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - _cpu(children)
    session.close()
    engine.dispose()
    stored = result.created + result.unchanged + result.updated
    if result.status != "completed" or stored + result.rejected != result.rows:
        raise SystemExit(f"pipeline run did not complete cleanly: {result}")
    return elapsed, own_cpu, children_cpu


def _cpu(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def run_baseline(url: str, path: Path, encoding: str) -> float:
    """The earlier baseline: SQLAlchemy insert() of dicts, a commit every CHUNK rows."""
    fresh_database(url)
    engine = make_engine(url)
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        table = Table("bench_baseline", MetaData(), *(Column(name.lower(), Text) for name in header))
        table.create(engine)
        keys = [c.name for c in table.columns]
        statement = insert(table)
        started = time.perf_counter()
        with engine.connect() as conn:
            batch: list[dict[str, str]] = []
            for cells in reader:
                batch.append(dict(zip(keys, cells, strict=False)))
                if len(batch) >= CHUNK:
                    conn.execute(statement, batch)
                    conn.commit()
                    batch = []
            if batch:
                conn.execute(statement, batch)
                conn.commit()
        elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def run_raw(url: str, path: Path, encoding: str) -> float:
    """The raw bulk load: on SQLite `csv` plus the driver's executemany of tuples into one text table, a commit
    every CHUNK rows; on PostgreSQL COPY of the file's bytes (FORMAT csv) into an unindexed text table."""
    fresh_database(url)
    engine = make_engine(url)
    with path.open(encoding=encoding, newline="") as handle:
        header = next(csv.reader(handle))
    columns = ", ".join(f'"{name.lower()}" text' for name in header)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        cursor.execute(f"CREATE TABLE bench_raw ({columns})")
        driver.commit()
        if url.startswith("sqlite"):
            marks = ", ".join("?" * len(header))
            statement = f"INSERT INTO bench_raw VALUES ({marks})"
            started = time.perf_counter()
            with path.open(encoding=encoding, newline="") as handle:
                reader = csv.reader(handle)
                next(reader)
                while True:
                    batch = list(islice(reader, CHUNK))
                    if not batch:
                        break
                    # The application's connections leave the driver in autocommit mode and say BEGIN
                    # themselves (db._configure_sqlite): without it, every row would be a transaction.
                    cursor.execute("BEGIN")
                    cursor.executemany(statement, batch)
                    driver.commit()
        else:
            pg_encoding = "GBK" if encoding == "gbk" else "UTF8"
            started = time.perf_counter()
            with path.open("rb") as handle, cursor.copy(
                f"COPY bench_raw FROM STDIN (FORMAT csv, HEADER true, ENCODING '{pg_encoding}')"
            ) as copy:  # fmt: skip
                for block in iter(lambda: handle.read(1 << 20), b""):
                    copy.write(block)
            driver.commit()
        elapsed = time.perf_counter() - started
        cursor.close()
    finally:
        raw.close()
    engine.dispose()
    return elapsed


# The tables an import fills, in the order their foreign keys need, each with the column it is split by: the
# floor replays what the pipeline wrote, chunk by chunk, with nothing computed (see run_floor).
WRITTEN = (("subjects", "id"), ("records", "id"), ("subject_grams", "subject_id"), ("changes", "record_id"))
# Rows the written ones refer to, copied before the floor's clock starts.
REFERRED = ("departments", "batches")


def capture_written(url: str) -> dict:
    """What the pipeline's import left in the database, split into the import's chunks: part i of every table
    holds the rows chunk i needed (records i·CHUNK … and the subjects, grams and change entries that go with
    them). On SQLite the rows as tuples; on PostgreSQL each part as COPY's text, as the pipeline's COPY sent it."""
    engine = make_engine(url)
    postgres = not url.startswith("sqlite")
    captured: dict = {"referred": {}, "parts": []}
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM records ORDER BY id"))]
        bounds = []  # per chunk: (last record id, last subject id it needs)
        for start in range(0, len(ids), CHUNK):
            last = ids[min(start + CHUNK, len(ids)) - 1]
            needs = conn.execute(text("SELECT max(subject_id) FROM records WHERE id <= :last"), {"last": last}).scalar()
            bounds.append((last, needs))
        driver = conn.connection.driver_connection
        assert driver is not None

        def dump(query: str) -> object:
            if postgres:
                cursor = driver.cursor()
                with cursor.copy(f"COPY ({query}) TO STDOUT") as copy:
                    return b"".join(bytes(block) for block in copy)
            return driver.execute(query).fetchall()

        for table in REFERRED:
            captured["referred"][table] = dump(f"SELECT * FROM {table}")
        previous = (0, 0)
        for last_record, last_subject in bounds:
            limits = {"records": (previous[0], last_record), "changes": (previous[0], last_record),
                      "subjects": (previous[1], last_subject), "subject_grams": (previous[1], last_subject)}  # fmt: skip
            captured["parts"].append({
                table: dump(f"SELECT * FROM {table} WHERE {key} > {limits[table][0]} AND {key} <= {limits[table][1]}")
                for table, key in WRITTEN
            })  # fmt: skip
            previous = (last_record, max(last_subject, previous[1]))
    engine.dispose()
    return captured


def run_floor(url: str, captured: dict) -> float:
    """The schema's floor: the rows the pipeline wrote (subjects, records, the name index, the change log),
    written again into a fresh, migrated database by the driver alone, chunk by chunk with a commit after each,
    as the pipeline commits: nothing read, validated, looked up or computed. Every index, constraint and foreign
    key of the schema is maintained as in the import. No pipeline that writes these rows can be faster, so
    raw / floor bounds pipeline / raw from above."""
    fresh_database(url)
    engine = make_engine(url)
    postgres = not url.startswith("sqlite")
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        cursor = driver.cursor()

        def put(table: str, data: object) -> None:
            if postgres:
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(data)
            elif data:
                rows = list(data)  # type: ignore[call-overload]
                cursor.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)

        if not postgres:
            cursor.execute("BEGIN")
        for table in REFERRED:
            put(table, captured["referred"][table])
        driver.commit()
        started = time.perf_counter()
        for part in captured["parts"]:
            if not postgres:
                cursor.execute("BEGIN")
            for table, _ in WRITTEN:
                put(table, part[table])
            driver.commit()
        elapsed = time.perf_counter() - started
        for table, _ in WRITTEN:  # every row the pipeline wrote, written again
            want = sum(_count_rows(part[table]) for part in captured["parts"])
            cursor.execute(f"SELECT count(*) FROM {table}")
            got = cursor.fetchone()[0]
            if got != want:
                raise SystemExit(f"the floor wrote {got} rows into {table}, the pipeline {want}")
        cursor.close()
    finally:
        raw.close()
    engine.dispose()
    return elapsed


def _count_rows(data: object) -> int:
    return data.count(b"\n") if isinstance(data, bytes) else len(data)  # type: ignore[arg-type]


def bench_database(name: str, url: str, shape: str, path: Path, department: generator.Department, rows: int,
                   rounds: int) -> dict:  # fmt: skip
    pipeline, baseline, raw, floor, own_cpu, worker_cpu = [], [], [], [], [], []
    encoding = ENCODINGS[shape]
    for round_no in range(rounds):
        raw.append(run_raw(url, path, encoding))
        baseline.append(run_baseline(url, path, encoding))
        elapsed, own, worker = run_pipeline(url, path, department)
        pipeline.append(elapsed)
        own_cpu.append(own)
        worker_cpu.append(worker)
        floor.append(run_floor(url, capture_written(url)))
        print(f"  {name} {shape} round {round_no + 1}: raw {rows / raw[-1]:,.0f} rows/s, plain insert "
              f"{rows / baseline[-1]:,.0f} rows/s, pipeline {rows / pipeline[-1]:,.0f} rows/s, "
              f"pipeline / raw {raw[-1] / pipeline[-1]:.2f}; schema floor {rows / floor[-1]:,.0f} rows/s, "
              f"floor / raw {raw[-1] / floor[-1]:.2f}; CPU {own:.2f} s storing, {worker:.2f} s worker",
              flush=True)  # fmt: skip
    raw_rate = rows / statistics.median(raw)
    base_rate = rows / statistics.median(baseline)
    pipe_rate = rows / statistics.median(pipeline)
    floor_rate = rows / statistics.median(floor)
    return {
        "database": name,
        "shape": shape,
        "rows": rows,
        "rounds": rounds,
        "raw_rows_per_s": round(raw_rate),
        "baseline_rows_per_s": round(base_rate),
        "pipeline_rows_per_s": round(pipe_rate),
        "ratio": round(pipe_rate / raw_rate, 3),
        "ratio_plain": round(pipe_rate / base_rate, 3),
        # The schema's floor (run_floor): the best any pipeline writing these rows can do, against the raw load.
        "floor_rows_per_s": round(floor_rate),
        "floor_ratio": round(floor_rate / raw_rate, 3),
        "rounds_floor_ratio": [round(r / f, 3) for r, f in zip(raw, floor, strict=True)],
        "rounds_ratio": [round(r / p, 3) for r, p in zip(raw, pipeline, strict=True)],
        # CPU seconds of the import: the storing process, and the validating worker (files of 4 MB and more).
        "storing_cpu_s": round(statistics.median(own_cpu), 2),
        "worker_cpu_s": round(statistics.median(worker_cpu), 2),
    }


def _tree_rss_kb(pid: int) -> tuple[int, int]:
    """(sum, largest) resident set in kB of a process and all its descendants, from /proc."""
    sizes: list[int] = []
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            sizes += [int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")]
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # it ended between the listing and the read
    return sum(sizes), max(sizes, default=0)


def measure_rss(rows: int, seed: int, shape: str = "repeat") -> dict:
    """Peak memory of the real CLI importing `rows` rows into a fresh SQLite database: the importing process
    and every process it starts (the validation worker, multiprocessing's helpers), summed, sampled every
    0.2 s; and the largest single process as the kernel counted it."""
    path, department = make_csv(rows, seed, shape)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/rss.db"
        env = {**os.environ, "XINYONG_DATABASE_URL": url, "XINYONG_SECRET_KEY": KEY,
               "XINYONG_UPLOAD_MAX_BYTES": str(max(4 * 1024**3, 2 * path.stat().st_size))}  # fmt: skip
        python = sys.executable
        subprocess.run([python, "-m", "xinyong", "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([python, "-m", "xinyong", "departments", "add", "--code", department.code,
                        "--name", department.name], env=env, check=True, capture_output=True)  # fmt: skip
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        before = children.ru_maxrss
        cpu_before = children.ru_utime + children.ru_stime
        started = time.perf_counter()
        with tempfile.TemporaryFile("w+") as out:
            process = subprocess.Popen(
                [python, "-m", "xinyong", "records", "import", str(path), "--type", "penalty",
                 "--department", department.code, "--reported-on", TODAY.isoformat(),
                 "--reason", "基准测试：按固定报送日期导入"],
                env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
            peak_total_kb = 0
            while process.poll() is None:
                peak_total_kb = max(peak_total_kb, _tree_rss_kb(process.pid)[0])
                time.sleep(0.2)
            elapsed = time.perf_counter() - started
            out.seek(0)
            output = out.read()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_kb = children.ru_maxrss
        cpu = children.ru_utime + children.ru_stime - cpu_before  # the import and its worker, both reaped
    if process.returncode != 0:
        raise SystemExit(f"import failed ({process.returncode}): {output[-3000:]}")
    if peak_kb <= before:
        print("  (the largest process did not exceed earlier child processes: its figure is a lower bound)")
    return {"rows": rows, "shape": shape, "peak_rss_mb_all_processes": round(peak_total_kb / 1024),
            "peak_rss_mb_largest_process": round(peak_kb / 1024), "seconds": round(elapsed, 1),
            "rows_per_s": round(rows / elapsed), "cpu_s": round(cpu, 1), "rows_per_cpu_s": round(rows / cpu),
            "summary": output.strip().splitlines()[0]}  # fmt: skip


SCALE_BASE_ROWS = 100_000


def scale(rows: int, seed: int) -> None:
    """Issue 18's scaling target: rows/s of a ROWS-row import within 20 % of a 100,000-row one, in bounded
    memory. Both are the real CLI on files where every row is a new organisation (GBK, Chinese headers), into
    fresh SQLite databases; the small import runs before and after the large one, and its median is the base."""
    for size in (SCALE_BASE_ROWS, rows):
        path, _ = make_csv(size, seed, "distinct")
        print(f"Input: {path.name} ({path.stat().st_size / 1e6:,.0f} MB)", flush=True)
    small = [measure_rss(SCALE_BASE_ROWS, seed, "distinct")]
    print(f"  {SCALE_BASE_ROWS:,} rows: {small[0]}", flush=True)
    large = measure_rss(rows, seed, "distinct")
    print(f"  {rows:,} rows: {large}", flush=True)
    small.append(measure_rss(SCALE_BASE_ROWS, seed, "distinct"))
    print(f"  {SCALE_BASE_ROWS:,} rows again: {small[1]}", flush=True)
    base = statistics.median(run["rows_per_s"] for run in small)
    base_cpu = statistics.median(run["rows_per_cpu_s"] for run in small)
    result = {"base_rows": SCALE_BASE_ROWS, "base_rows_per_s": round(base), "base_rows_per_cpu_s": round(base_cpu),
              "base_runs": small, "large": large, "ratio": round(large["rows_per_s"] / base, 3),
              "ratio_cpu": round(large["rows_per_cpu_s"] / base_cpu, 3), "load_average": os.getloadavg()}  # fmt: skip
    print("\n| rows | rows/s | CPU s (all processes) | rows per CPU s | peak RSS, all processes (MB) "
          "| largest process (MB) |\n|---|---:|---:|---:|---:|---:|")  # fmt: skip
    for run in [*small, large]:
        print(f"| {run['rows']:,} | {run['rows_per_s']:,} | {run['cpu_s']:,} | {run['rows_per_cpu_s']:,} "
              f"| {run['peak_rss_mb_all_processes']:,} | {run['peak_rss_mb_largest_process']:,} |")  # fmt: skip
    # The wall clock follows the machine's load; CPU time, which a shared machine disturbs less, is given beside it.
    print(f"\n{rows:,} rows ÷ {SCALE_BASE_ROWS:,} rows (median of two), rows/s: **{result['ratio']:.2f}**, "
          f"rows per CPU second: **{result['ratio_cpu']:.2f}** (target ≥ 0.8)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"ingest-scale-{rows}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))


def start_postgres() -> tuple[str, str]:
    workdir = tempfile.mkdtemp(prefix="xinyong-bench-pg.")
    url = subprocess.run([str(ROOT / "scripts" / "pg-test-server.sh"), "start", workdir], check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    return url, workdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--shape", choices=[*SHAPES, "both"], default="both")
    parser.add_argument("--rss-rows", type=int, default=0, help="also measure peak RSS importing this many rows")
    parser.add_argument("--scale", type=int, default=0, metavar="ROWS",
                        help="only the scaling run: the CLI imports 100,000 distinct-subject rows, then ROWS, each "
                             "into a fresh SQLite database; rows/s of each, their ratio and peak RSS")  # fmt: skip
    args = parser.parse_args()
    if args.scale:
        scale(args.scale, args.seed)
        return

    shapes = SHAPES if args.shape == "both" else (args.shape,)
    inputs = {}
    for shape in shapes:
        inputs[shape] = make_csv(args.rows, args.seed, shape)
        print(f"Input ({shape}): {inputs[shape][0].name} ({inputs[shape][0].stat().st_size / 1e6:.0f} MB)")
    results = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            for shape, (path, department) in inputs.items():
                results.append(bench_database("SQLite", f"sqlite:///{tmp}/bench.db", shape, path, department,
                                              args.rows, args.rounds))  # fmt: skip
    if args.db in ("postgresql", "both"):
        url, workdir = start_postgres()
        try:
            for shape, (path, department) in inputs.items():
                results.append(bench_database("PostgreSQL", url, shape, path, department, args.rows, args.rounds))
        finally:
            subprocess.run([str(ROOT / "scripts" / "pg-test-server.sh"), "stop", workdir], check=False)
    rss = measure_rss(args.rss_rows, args.seed) if args.rss_rows else None

    print("\n| database | shape | rows | raw load rows/s | plain insert rows/s | pipeline rows/s "
          "| pipeline / raw | pipeline / plain | schema floor rows/s | floor / raw | CPU s: storing, worker |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['database']} | {r['shape']} | {r['rows']:,} | {r['raw_rows_per_s']:,} "
              f"| {r['baseline_rows_per_s']:,} | {r['pipeline_rows_per_s']:,} | **{r['ratio']:.2f}** "
              f"| {r['ratio_plain']:.2f} | {r['floor_rows_per_s']:,} | **{r['floor_ratio']:.2f}** "
              f"| {r['storing_cpu_s']:.2f}, {r['worker_cpu_s']:.2f} |")  # fmt: skip
    if rss:
        print(f"\n1,000,000-row peak RSS: {rss}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest.json").write_text(json.dumps({"results": results, "rss": rss}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
