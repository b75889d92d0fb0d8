"""Portal benchmark: code look-up, name search and profile page at county scale, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/portal.py --subjects 1000000 --records 5000000 [--pg URL]
    .venv/bin/python benchmarks/portal.py --only code --repeat --skip-sqlite --pg URL --pg-filled --pg-prewarm

The data set is built once and cached under benchmarks/out/ (a SQLite file; PostgreSQL is filled from
it). Rows are written by direct bulk inserts of the shapes the ingestion pipeline stores (not through
the validator, which would take hours at this size); subjects come from the demo generator, and the
name index is rebuilt with the same code as `xinyong disclosure reindex`. Timings are server-side: the
app is called in-process (ASGI) and each request's handling time is measured, next to a trivial page.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
KEY = "benchmark-master-key-" + "0123456789abcdef" * 2


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build(url: str, subjects: int, records: int, seed: int) -> None:
    from xinyong import migrate
    from xinyong.codes import normalize_name
    from xinyong.db import make_engine, make_sessionmaker
    from xinyong.demo import generator
    from xinyong.departments.models import Department
    from xinyong.records.models import Record
    from xinyong.subjects import names as search
    from xinyong.subjects.models import Subject

    migrate.upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = date.today()
    with factory() as session:
        depts = generator.generate_departments(rng)
        session.execute(insert(Department.__table__), [
            {"code": d.code, "name": d.name, "region": "330521", "is_active": True, "created_at": now} for d in depts
        ])  # fmt: skip
        session.commit()
        dept_ids = list(session.scalars(select(Department.id)))
        log(f"subjects: generating {subjects:,}")
        batch: list[dict[str, object]] = []
        kinds = {"法人及非法人组织": "organisation", "个体工商户": "individual_business", "自然人": "person"}
        for n, s in enumerate(generator.generate_subjects(subjects, rng), start=1):
            is_person = s.kind == "自然人"
            batch.append({
                "kind": kinds[s.kind], "name": s.name, "name_norm": normalize_name(s.name), "uscc": s.uscc,
                "id_hash": f"{n:064x}" if is_person else None, "id_sealed": None,
                "id_masked": (s.id_number[:4] + "*" * 10 + s.id_number[-4:]) if is_person and s.id_number else None,
                "legal_representative": s.legal_representative, "created_at": now, "updated_at": now,
            })  # fmt: skip
            if len(batch) >= 20_000:
                session.execute(insert(Subject.__table__), batch)
                session.commit()
                batch = []
                if n % 200_000 == 0:
                    log(f"subjects: {n:,}")
        if batch:
            session.execute(insert(Subject.__table__), batch)
            session.commit()
        log("name index: rebuilding")
        session.execute(text("DELETE FROM subject_grams"))
        search.rebuild_index(session, batch=50_000)
        session.commit()
        max_id = session.scalar(select(func.max(Subject.id))) or 0
        log(f"records: generating {records:,}")
        tiers = (("一般", 12, "罚款", 0.7), ("轻微", 3, "警告", 0.15), ("严重", 36, "吊销许可证件", 0.15))
        batch = []
        for n in range(1, records + 1):
            decision = today - timedelta(days=int(rng.random() * 3 * 365))
            subject_id = 1 + int(rng.random() * max_id)
            if rng.random() < 0.4:
                rtype, tier, until, payload = "license", None, None, {
                    "XK_WSH": f"德审批许〔{decision.year}〕{n}号", "XK_XKWS": "行政许可决定书", "XK_XKLB": "普通",
                    "XK_NR": "食品经营许可", "XK_JDRQ": decision.isoformat(),
                }  # fmt: skip
            else:
                r = rng.random()
                tier, months, category, _ = tiers[0] if r < 0.7 else tiers[1] if r < 0.85 else tiers[2]
                from xinyong.records.rules import add_months

                until = add_months(decision, months) - timedelta(days=1)
                rtype, payload = "penalty", {
                    "CF_WSH": f"德市监罚决〔{decision.year}〕{n}号", "CF_WFXW": "未按规定公示年度报告",
                    "CF_SY": "经查，当事人未按规定公示年度报告。", "CF_YJ": "《企业信息公示暂行条例》第十八条",
                    "CF_CFLB": category, "CF_NR": category, "CF_JDRQ": decision.isoformat(),
                }  # fmt: skip
            batch.append({
                "record_type": rtype, "department_id": dept_ids[n % len(dept_ids)], "doc_no": f"B{n}",
                "subject_id": subject_id, "subject_name": "", "subject_kind": "organisation", "status": "revoked" if n % 500 == 0 else "active",
                "decision_date": decision, "valid_from": None, "valid_until": None, "tier": tier,
                "publish_until": until, "payload": payload, "categories": payload.get("CF_CFLB"), "sealed": None, "content_hash": f"{n:032x}", "version": 1,
                "reported_on": decision, "deadline": decision, "is_late": False, "batch_id": None,
                "created_at": now, "updated_at": now,
            })  # fmt: skip
            if len(batch) >= 20_000:
                session.execute(insert(Record.__table__), batch)
                session.commit()
                batch = []
                if n % 500_000 == 0:
                    log(f"records: {n:,}")
        if batch:
            session.execute(insert(Record.__table__), batch)
            session.commit()
        # Subject names and kinds on records, as ingestion writes them.
        session.execute(text("UPDATE records SET subject_name = (SELECT name FROM subjects WHERE subjects.id = records.subject_id), "
                             "subject_kind = (SELECT kind FROM subjects WHERE subjects.id = records.subject_id)"))
        session.commit()
        if engine.dialect.name == "sqlite":
            session.execute(text("ANALYZE"))
        else:
            session.execute(text("ANALYZE"))
        session.commit()
    engine.dispose()


def measure(url: str, samples: int, seed: int, only: list[str] | None = None, interleave: bool = False,
            sqlite_cache_mb: int = 64, repeat: bool = False) -> dict[str, dict[str, float]]:  # fmt: skip
    from fastapi.testclient import TestClient

    from xinyong import migrate

    migrate.upgrade(url)  # a cached data set may predate later migrations

    from xinyong.app import create_app
    from xinyong.config import Settings
    from xinyong.db import make_engine

    rng = random.Random(seed + 1)
    engine = make_engine(url)
    with engine.connect() as conn:
        max_id = conn.execute(text("SELECT max(id) FROM subjects")).scalar() or 0
        picks = []
        while len(picks) < samples:
            row = conn.execute(text("SELECT name_norm, uscc FROM subjects WHERE id = :i AND uscc IS NOT NULL"),
                               {"i": 1 + int(rng.random() * max_id)}).first()  # fmt: skip
            if row:
                picks.append(row)
    engine.dispose()

    timings: dict[str, list[float]] = {}
    app = create_app(Settings(database_url=url, secret_key=KEY, portal_rate_limit_requests=0,
                              sqlite_cache_mb=sqlite_cache_mb,
                              audit_checkpoint_file=OUT / "audit-checkpoints.jsonl"))  # fmt: skip

    @app.middleware("http")
    async def timer(request, call_next):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["x-server-ms"] = f"{(time.perf_counter() - start) * 1000:.3f}"
        return response

    def fragment(name: str, size: int) -> str:
        start = int(rng.random() * max(1, len(name) - size + 1))
        return name[start : start + size]

    cases = {
        "baseline (trivial page /lists)": lambda p: "/lists",
        "code lookup (/api/v1/subjects?q=USCC)": lambda p: f"/api/v1/subjects?q={p.uscc}",
        "name search, 2 chars (/search)": lambda p: f"/search?q={fragment(p.name_norm, 2)}",
        "name search, 3-4 chars (/search)": lambda p: f"/search?q={fragment(p.name_norm, 3 + int(rng.random() * 2))}",
        "name search API, 2 chars": lambda p: f"/api/v1/subjects?q={fragment(p.name_norm, 2)}",
        "profile page (/subjects/USCC)": lambda p: f"/subjects/{p.uscc}",
        # The public listing of one type, newest first: a random one of its 50 pages, then one month of it.
        "listing (/disclosure/penalty?page=N)": lambda p: f"/disclosure/penalty?page={1 + int(rng.random() * 50)}",
        "listing, one month (/disclosure/penalty?date_from=…)": lambda p: "/disclosure/penalty?date_from={}&date_to={}"
        .format(*_month(rng)),
    }
    if only:
        cases = {label: make for label, make in cases.items() if label.startswith("baseline") or any(
            word in label for word in only)}  # fmt: skip
    def timed(label: str, path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, (label, response.status_code)
        timings.setdefault(label, []).append(float(response.headers["x-server-ms"]))

    with TestClient(app) as client:
        if interleave:
            # Cases take turns, one request each: the bursts of a shared machine fall on all of them alike,
            # but each case also evicts the others' pages from the caches.
            for make in cases.values():
                for p in picks[:20]:  # warm-up
                    client.get(make(p))
            for p in picks:
                for label, make in cases.items():
                    timed(label, make(p))
        else:
            for label, make in cases.items():
                for p in picks[:20]:  # warm-up
                    client.get(make(p))
                paths = [make(p) for p in picks]  # the same requests on the repeat pass
                for path in paths:
                    timed(label, path)
                if repeat:  # the same subjects again: what a server holding its data in memory answers
                    for path in paths:
                        timed(f"{label}, repeat", path)
    app.state.engine.dispose()
    return {
        label: {"p50": statistics.median(v), "p95": statistics.quantiles(v, n=20)[18], "max": max(v), "n": len(v)}
        for label, v in timings.items()
    }


def _month(rng: random.Random) -> tuple[str, str]:
    """A month within the data set's three years of decisions, as the listing's date filter takes it."""
    start = date.today() - timedelta(days=30 + int(rng.random() * (3 * 365 - 30)))
    return start.isoformat(), (start + timedelta(days=30)).isoformat()


# What a code look-up reads: the subject by its code, and the index its published-record count is answered from.
PREWARM = ("subjects", "uq_subjects_uscc", "ix_records_subject_published", "publication_stops")


def prewarm(url: str) -> None:
    from xinyong.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        buffers = conn.execute(text("SHOW shared_buffers")).scalar()
        for relation in PREWARM:
            pages = conn.execute(text("SELECT pg_prewarm(CAST(:r AS regclass))"), {"r": relation}).scalar()
            log(f"prewarmed {relation}: {pages:,} pages (shared_buffers {buffers})")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--pg", help="PostgreSQL URL of an empty database to fill from scratch and measure")
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--pg-filled", action="store_true",
                        help="the --pg database was filled by an earlier run: measure it without rebuilding")
    parser.add_argument("--only", action="append", metavar="WORD",
                        help="measure only the cases whose label contains WORD (and the baseline); repeatable")
    parser.add_argument("--sqlite-cache-mb", type=int, default=64,
                        help="the server's XINYONG_SQLITE_CACHE_MB (page cache per connection; 64 is the default)")
    parser.add_argument("--pg-prewarm", action="store_true",
                        help="load the code look-up's relations into PostgreSQL's shared buffers first (pg_prewarm), "
                             "as a server with autoprewarm has them after a restart")  # fmt: skip
    parser.add_argument("--repeat", action="store_true",
                        help="time each case a second time over the same requests, reported separately")
    parser.add_argument("--interleave", action="store_true",
                        help="cases take turns request by request, instead of one case after the other")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    name = f"portal-{args.subjects}-{args.records}-{args.seed}"
    results = {}
    sqlite_file = OUT / f"{name}.sqlite"
    sqlite_url = f"sqlite:///{sqlite_file}"
    if args.skip_sqlite:
        pass
    elif not (OUT / f"{name}.ready").exists():
        sqlite_file.unlink(missing_ok=True)
        started = time.monotonic()
        build(sqlite_url, args.subjects, args.records, args.seed)
        (OUT / f"{name}.ready").write_text(f"{time.monotonic() - started:.0f}s\n")
        log(f"sqlite build: {time.monotonic() - started:.0f}s")
    if not args.skip_sqlite:
        results["sqlite"] = measure(sqlite_url, args.samples, args.seed, args.only, args.interleave,
                                    args.sqlite_cache_mb, args.repeat)  # fmt: skip
    if args.pg:
        if not args.pg_filled:
            started = time.monotonic()
            build(args.pg, args.subjects, args.records, args.seed)
            log(f"postgresql build: {time.monotonic() - started:.0f}s")
        if args.pg_prewarm:
            prewarm(args.pg)
        results["postgresql"] = measure(args.pg, args.samples, args.seed, args.only, args.interleave,
                                        repeat=args.repeat)  # fmt: skip
    report = {"subjects": args.subjects, "records": args.records, "sqlite_cache_mb": args.sqlite_cache_mb,
              "load_average": os.getloadavg(), "results": results}  # fmt: skip
    (OUT / f"{name}{'-pg' if args.skip_sqlite else ''}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    for backend, rows in results.items():
        print(f"\n{backend}: {args.subjects:,} subjects, {args.records:,} records (ms, server-side)")
        for label, r in rows.items():
            print(f"  {label:55s} p50 {r['p50']:7.2f}  p95 {r['p95']:7.2f}  max {r['max']:7.2f}  n={r['n']}")
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
