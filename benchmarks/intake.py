"""库对接 benchmark: pulling a department's table against importing the same rows as a file.

    python benchmarks/intake.py                      # 20,000 rows, SQLite, 3 rounds
    python benchmarks/intake.py --rows 50000 --rounds 5 --chunk 5000

The rows are the ingestion benchmark's generated penalties (benchmarks/ingest.py). The baseline is the file way:
the CSV imported with `records.service.import_file` into a fresh, migrated platform database. The pull reads the
same rows from a SQLite table of the department (one column per field, an integer watermark) with `xinyong
exchange pull`'s code (`intake.pull.pull`), chunk by chunk, into another fresh database. Rounds alternate; the
medians and their ratio are printed as a Markdown table and written to benchmarks/out/.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ingest import KEY, OUT, TODAY, fresh_database, make_csv, run_pipeline  # noqa: E402

from xinyong.audit import keys as audit_keys  # noqa: E402
from xinyong.catalog import load_catalog  # noqa: E402
from xinyong.config import Settings  # noqa: E402
from xinyong.db import make_engine, make_sessionmaker  # noqa: E402
from xinyong.departments import service as departments_service  # noqa: E402
from xinyong.intake import pull, rules  # noqa: E402
from xinyong.protect import protector as make_protector  # noqa: E402


def department_table(csv_path: Path, db_path: Path) -> list[str]:
    """The CSV as a department's table: one text column per field, `id` and an integer watermark `version`."""
    db_path.unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{db_path}")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = [h.lower() for h in header]
        table = sa.Table("xzcf", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("version", sa.Integer, index=True), *(sa.Column(c, sa.Text) for c in columns))  # fmt: skip
        with engine.begin() as conn:
            table.create(conn)
            batch = []
            for n, cells in enumerate(reader, start=1):
                batch.append({"id": n, "version": n, **dict(zip(columns, cells, strict=False))})
                if len(batch) >= 5000:
                    conn.execute(table.insert(), batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
    engine.dispose()
    return header


def run_pull(url: str, source: rules.Source, code: str, name: str, rows: int) -> float:
    fresh_database(url)
    settings = Settings(database_url=url, secret_key=KEY, audit_checkpoint_file=OUT / "audit-checkpoints.jsonl")
    engine = make_engine(url)
    session = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))()
    departments_service.add_department(session, code=code, name=name)
    session.commit()
    started = time.perf_counter()
    result = pull.pull(session, source, settings=settings, protector=make_protector(settings), secrets_path=None,
                       today=TODAY)  # fmt: skip
    elapsed = time.perf_counter() - started
    session.close()
    engine.dispose()
    if result.rows != rows or result.rejected:
        raise SystemExit(f"pull did not complete cleanly: {result}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    csv_path, department = make_csv(args.rows, args.seed)
    header = department_table(csv_path, OUT / "department.db")
    mapping = OUT / "intake-penalty.mapping.toml"
    mapping.write_text('record_type = "penalty"\n[columns]\n' + "".join(f'{h} = "{h.lower()}"\n' for h in header),
                       encoding="utf-8")  # fmt: skip
    config = OUT / "intake-sources.toml"
    config.write_text(f"""[sources.bench]
department = "{department.code}"
url = "sqlite:///{OUT / 'department.db'}"
table = "xzcf"
watermark = "version"
key = "id"
mapping = "{mapping.name}"
chunk_rows = {args.chunk}
""", encoding="utf-8")  # fmt: skip
    source = rules.load_sources(config, load_catalog())["bench"]
    url = f"sqlite:///{OUT / 'intake-platform.db'}"
    files, pulls = [], []
    for round_no in range(args.rounds):
        files.append(run_pipeline(url, csv_path, department)[0])
        pulls.append(run_pull(url, source, department.code, department.name, args.rows))
        print(f"  round {round_no + 1}: file {args.rows / files[-1]:,.0f} rows/s, pull {args.rows / pulls[-1]:,.0f} rows/s",
              flush=True)  # fmt: skip
    file_rate, pull_rate = args.rows / statistics.median(files), args.rows / statistics.median(pulls)
    result = {"rows": args.rows, "rounds": args.rounds, "chunk_rows": args.chunk, "file_rows_per_s": round(file_rate),
              "pull_rows_per_s": round(pull_rate), "pull_vs_file": round(pull_rate / file_rate, 2)}  # fmt: skip
    (OUT / "intake.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print("| rows | chunk | file (import_file) rows/s | pull rows/s | pull ÷ file |")
    print("|---|---|---|---|---|")
    print(f"| {args.rows:,} | {args.chunk:,} | {file_rate:,.0f} | {pull_rate:,.0f} | {result['pull_vs_file']} |")


if __name__ == "__main__":
    main()
