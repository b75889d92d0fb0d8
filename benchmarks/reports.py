"""Credit report benchmark: the time to generate a signed PDF report for subjects with 0, 10 and 200 records, beside
the time to render the same subject's profile page, on the portal benchmark's data set.

    .venv/bin/python benchmarks/reports.py --subjects 1000000 --records 5000000 [--samples 30]
    .venv/bin/python benchmarks/reports.py --subjects 200000 --records 1000000

The data set is the portal benchmark's (`benchmarks/portal.py`: built once, cached under benchmarks/out/).
Subjects with exactly 0 and 10 records are sampled from it; the data set has almost none with 200, so that many
records (licences and penalties, as the portal benchmark writes them, document numbers `RPTBENCH-…`) are added
to a few subjects with none, once, and found again on later runs. Every report downloaded is registered, as on
a server. Timings are server-side, per request: the app is called in-process (ASGI); the report's request
includes reading the records, laying out, rendering and signing the PDF, and registering it. Beside the wall
time, the process's CPU time per request: on a shared machine the first includes waiting for a core. Target
(issue 15): p95 below 1 s for the 10-record subject on this machine.
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

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

import portal as portal_benchmark  # noqa: E402  (the data set and its cache)

OUT = portal_benchmark.OUT
BENCH_PREFIX = "RPTBENCH-"
BIG = 200


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _records_of(conn, subject_id: int) -> int:  # type: ignore[no-untyped-def]
    return int(conn.execute(text("SELECT count(*) FROM records WHERE subject_id = :s"), {"s": subject_id}).scalar())


def pick(url: str, want: int, samples: int, seed: int) -> list[str]:
    """USCCs of organisations with exactly `want` records, sampled at random."""
    from xinyong.db import make_engine

    rng = random.Random(seed * 1000 + want)
    engine = make_engine(url)
    found: list[str] = []
    with engine.connect() as conn:
        max_id = conn.execute(text("SELECT max(id) FROM subjects")).scalar() or 0
        for _ in range(200_000):
            if len(found) >= samples:
                break
            row = conn.execute(text("SELECT id, uscc FROM subjects WHERE id = :i AND uscc IS NOT NULL"),
                               {"i": 1 + int(rng.random() * max_id)}).first()  # fmt: skip
            if row and row.uscc not in found and _records_of(conn, row.id) == want:
                found.append(row.uscc)
    engine.dispose()
    if len(found) < samples:
        raise SystemExit(f"only {len(found)} subjects with {want} records found")
    return found


def ensure_big(url: str, count: int, seed: int) -> list[str]:
    """Subjects with BIG records each: added once (they are found again by their document numbers)."""
    from xinyong.db import make_engine
    from xinyong.records.models import Record
    from xinyong.records.rules import add_months

    engine = make_engine(url)
    with engine.begin() as conn:
        have = [r[0] for r in conn.execute(text(
            "SELECT s.uscc FROM subjects s JOIN records r ON r.subject_id = s.id "
            f"WHERE r.doc_no LIKE '{BENCH_PREFIX}%' GROUP BY s.uscc ORDER BY s.uscc"))]  # fmt: skip
        if len(have) >= count:
            engine.dispose()
            return have[:count]
        targets = pick(url, 0, count - len(have), seed + 7)
        rng = random.Random(seed + 11)
        now = datetime.now(UTC)
        today = date.today()
        dept_ids = [r[0] for r in conn.execute(text("SELECT id FROM departments ORDER BY id"))]
        for uscc in targets:
            subject_id, name, kind = conn.execute(text("SELECT id, name, kind FROM subjects WHERE uscc = :u"),
                                                  {"u": uscc}).one()  # fmt: skip
            rows = []
            for n in range(BIG):
                decision = today - timedelta(days=int(rng.random() * 3 * 365))
                is_licence = rng.random() < 0.4
                doc_no = f"{BENCH_PREFIX}{uscc}-{n}"
                if is_licence:
                    payload = {"XK_WSH": doc_no, "XK_XKWS": "行政许可决定书", "XK_XKLB": "普通", "XK_NR": "食品经营许可",
                               "XK_JDRQ": decision.isoformat()}  # fmt: skip
                    tier, until = None, None
                else:
                    payload = {"CF_WSH": doc_no, "CF_WFXW": "未按规定公示年度报告", "CF_SY": "经查，当事人未按规定公示年度报告。",
                               "CF_YJ": "《企业信息公示暂行条例》第十八条", "CF_CFLB": "罚款", "CF_NR": "罚款",
                               "CF_JDRQ": decision.isoformat()}  # fmt: skip
                    tier, until = "一般", add_months(decision, 12) - timedelta(days=1)
                rows.append({
                    "record_type": "license" if is_licence else "penalty", "department_id": dept_ids[n % len(dept_ids)],
                    "doc_no": doc_no, "subject_id": subject_id, "subject_name": name, "subject_kind": kind, "status": "active",
                    "decision_date": decision, "valid_from": None, "valid_until": None, "tier": tier,
                    "publish_until": until, "payload": payload, "categories": payload.get("CF_CFLB"), "sealed": None,
                    "content_hash": f"{n:032x}", "version": 1, "reported_on": decision, "deadline": decision,
                    "is_late": False, "batch_id": None, "created_at": now, "updated_at": now,
                })  # fmt: skip
            conn.execute(insert(Record.__table__), rows)
            have.append(uscc)
    engine.dispose()
    log(f"added {BIG} records to each of {len(targets)} subjects")
    return have[:count]


def measure(url: str, cases: dict[str, list[str]], key_dir: Path) -> dict[str, dict[str, float]]:
    from fastapi.testclient import TestClient

    from xinyong import migrate
    from xinyong.app import create_app
    from xinyong.config import Settings

    migrate.upgrade(url)  # the registry table, on a data set built before it
    settings = Settings(database_url=url, secret_key=portal_benchmark.KEY, portal_rate_limit_requests=0,
                        reports_signing_key_file=key_dir / "key.pem", reports_signing_cert_file=key_dir / "cert.pem")  # fmt: skip
    app = create_app(settings)

    @app.middleware("http")
    async def timer(request, call_next):  # type: ignore[no-untyped-def]
        start, cpu = time.perf_counter(), time.process_time()
        response = await call_next(request)
        response.headers["x-server-ms"] = f"{(time.perf_counter() - start) * 1000:.3f}"
        # The process's CPU time over the request (requests run one at a time): what the request costs a free core,
        # apart from the waits of a shared, loaded machine.
        response.headers["x-cpu-ms"] = f"{(time.process_time() - cpu) * 1000:.3f}"
        return response

    timings: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    sizes: dict[str, list[int]] = {}
    with TestClient(app) as client:
        for warm in next(iter(cases.values()))[:3]:  # fonts, the signing key, the templates
            client.get(f"/reports/public/{warm}")
            client.get(f"/subjects/{warm}")
        for label, codes in cases.items():
            for code in codes:
                for what, path in (("report PDF", f"/reports/public/{code}"), ("profile page", f"/subjects/{code}")):
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.status_code, response.text[:200])
                    timings.setdefault(f"{what}, {label}", []).append(float(response.headers["x-server-ms"]))
                    cpu.setdefault(f"{what}, {label}", []).append(float(response.headers["x-cpu-ms"]))
                    if what == "report PDF":
                        sizes.setdefault(label, []).append(len(response.content))
    app.state.engine.dispose()
    result = {}
    for name, values in timings.items():
        label = name.split(", ", 1)[1]
        result[name] = {"p50": statistics.median(values), "p95": _p95(values), "max": max(values), "n": len(values),
                        "cpu_p50": statistics.median(cpu[name]), "cpu_p95": _p95(cpu[name])}  # fmt: skip
        if name.startswith("report"):
            result[name]["kb"] = statistics.median(sizes[label]) / 1024
    return result


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=30, help="subjects per case (each: one report, one profile)")
    parser.add_argument("--pg", help="PostgreSQL URL of a database the portal benchmark filled (--pg-filled there)")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    name = f"portal-{args.subjects}-{args.records}-{args.seed}"
    if args.pg:
        url = args.pg
    else:
        url = f"sqlite:///{OUT / f'{name}.sqlite'}"
        if not (OUT / f"{name}.ready").exists():
            (OUT / f"{name}.sqlite").unlink(missing_ok=True)
            started = time.monotonic()
            portal_benchmark.build(url, args.subjects, args.records, args.seed)
            (OUT / f"{name}.ready").write_text(f"{time.monotonic() - started:.0f}s\n")
            log(f"build: {time.monotonic() - started:.0f}s")
    log("picking subjects")
    cases = {
        "0 records": pick(url, 0, args.samples, args.seed),
        "10 records": pick(url, 10, args.samples, args.seed),
        f"{BIG} records": ensure_big(url, max(3, args.samples // 3), args.seed),
    }
    log("measuring")
    results = measure(url, cases, OUT / "report-keys")
    report = {"subjects": args.subjects, "records": args.records, "database": "postgresql" if args.pg else "sqlite",
              "load_average": os.getloadavg(), "results": results}  # fmt: skip
    (OUT / f"reports-{name}{'-pg' if args.pg else ''}.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"\n{report['database']}: {args.subjects:,} subjects, {args.records:,} records (ms, server-side)")
    for label, r in results.items():
        extra = f"  PDF {r['kb']:.0f} KB" if "kb" in r else ""
        print(f"  {label:32s} p50 {r['p50']:8.1f}  p95 {r['p95']:8.1f}  max {r['max']:8.1f}  "
              f"CPU p50 {r['cpu_p50']:7.1f}  p95 {r['cpu_p95']:7.1f}  n={r['n']}{extra}")
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
