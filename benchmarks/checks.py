"""Credit-check benchmark: check by code server-side, sustained HTTP checks beside a trivial endpoint, and a
batch of 10,000 subjects, at county scale (1,000,000 subjects, 5,000,000 records, 50,000 list entries).

    .venv/bin/python benchmarks/checks.py                      # SQLite, reuses benchmarks/out/ data
    .venv/bin/python benchmarks/checks.py --http-seconds 60 --concurrency 8
    .venv/bin/python benchmarks/checks.py --pg URL             # PostgreSQL filled by benchmarks/portal.py --pg URL

The subjects and records come from the portal benchmark's cached database
(benchmarks/out/portal-1000000-5000000-1.sqlite, built by benchmarks/portal.py); it is copied, migrated to
the current heads and given the built-in list types, the sample measure list and 50,000 published list
entries on random subjects (direct bulk inserts of the rows the services write). The copy is cached too.
With `--pg URL`, the PostgreSQL database that `benchmarks/portal.py --pg URL` filled is given the same
additions in place (once; a marker file under benchmarks/out/ remembers it).

- server-side: POST /api/v1/checks is called in-process; each request's handling time is measured by a
  middleware (like benchmarks/portal.py), next to GET /healthz in the same run.
- HTTP: uvicorn on 127.0.0.1 in a process of its own; `wrk` (Debian's package, installed when missing) drives
  keep-alive HTTP/1.1 connections for a bounded time, first against /healthz, then against the check
  endpoint; socket errors and non-2xx answers are counted.
- batch: `run_batch` with 10,000 codes (a tenth of them listed), in process, and once over HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
SOURCE = OUT / "portal-1000000-5000000-1.sqlite"
KEY = "benchmark-master-key-" + "0123456789abcdef" * 2
CHECKPOINTS = OUT / "audit-checkpoints.jsonl"  # the benchmark databases' own, never the platform's
MATTER = "政府采购"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prepare(target: Path, entries: int, seed: int, pg: str | None = None) -> tuple[str, str]:
    """The benchmark database and an API key with api:checks:write; built once, then reused. With `pg`, that
    database (already holding the portal benchmark's subjects and records) instead of a copy at `target`."""
    from xinyong import migrate
    from xinyong.audit import keys as audit_keys
    from xinyong.auth.rules import Actor
    from xinyong.config import Settings
    from xinyong.db import make_engine, make_sessionmaker
    from xinyong.departments import service as departments_service
    from xinyong.departments.models import Department
    from xinyong.lists import service as lists_service
    from xinyong.lists.models import EntryState, ListEntry, ListOrigin, ListType
    from xinyong.measures import service as measures_service
    from xinyong.subjects.models import Subject

    url = pg or f"sqlite:///{target}"
    ready = target.with_suffix(".ready")
    if ready.exists():
        return url, ready.read_text().strip()
    if not pg and not target.exists():
        if not SOURCE.exists():
            raise SystemExit(f"{SOURCE} is missing: run benchmarks/portal.py first (it builds the subjects and records)")
        log(f"copying {SOURCE.name} ({SOURCE.stat().st_size / 1e9:.1f} GB)")
        partial = target.with_suffix(".partial")
        shutil.copyfile(SOURCE, partial)
        partial.rename(target)
    migrate.upgrade(url)
    engine = make_engine(url)
    settings = Settings(database_url=url, secret_key=KEY, audit_checkpoint_file=CHECKPOINTS)
    factory = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))
    system = Actor.system("benchmark")
    rng = random.Random(seed)
    with factory() as session:
        lists_service.load_types_file(session, lists_service.BUILTIN_TYPES, actor=system)
        measures_service.load_measures_file(session, measures_service.DEFAULT_MEASURES, actor=system, settings=settings)
        dept = session.scalars(select(Department).order_by(Department.id)).first()
        assert dept is not None
        _, token = departments_service.issue_api_key(session, department=dept, name="benchmark",
                                                     scopes=["api:checks:write"], actor=system)  # fmt: skip
        session.commit()
        types = {t.key: t for t in session.scalars(select(ListType))}
        max_id = session.scalar(select(Subject.id).order_by(Subject.id.desc()).limit(1)) or 0
        log(f"list entries: {entries:,} on random subjects")
        today = date.today()
        now = datetime.now(UTC)
        chosen: set[int] = set()
        while len(chosen) < entries:
            chosen.add(1 + int(rng.random() * max_id))
        keys = ["serious-dishonesty", "court-dishonest-debtors", "major-tax-dishonesty", "honor", "watch"]
        rows = []
        for n, subject_id in enumerate(sorted(chosen)):
            key = keys[n % len(keys)]
            t = types[key]
            start = today - timedelta(days=int(rng.random() * 600))
            rows.append({
                "list_type_id": t.id, "subject_id": subject_id, "subject_name": f"subject {subject_id}",
                "department_id": dept.id, "origin": t.origin.value, "state": EntryState.PUBLISHED.value,
                "reasons": "基准测试数据", "basis": t.legal_basis, "is_published_late": False,
                "valid_from": start, "valid_until": lists_service.rules.validity_end(start, t.duration_months),
                "source": t.source, "source_ref": f"BENCH-{n}" if t.origin is ListOrigin.IMPORTED else None,
                "decision_no": None if t.origin is ListOrigin.IMPORTED else f"BENCH-{n}", "decided_on": start,
                "published_on": start, "created_at": now, "updated_at": now,
            })  # fmt: skip
        session.execute(insert(ListEntry.__table__), rows)
        session.execute(text("ANALYZE"))
        session.commit()
    engine.dispose()
    ready.write_text(token)
    return url, token


def sample_codes(url: str, count: int, seed: int) -> tuple[list[str], list[str]]:
    """USCCs of subjects on a list and of random subjects."""
    from xinyong.db import make_engine

    rng = random.Random(seed + 7)
    engine = make_engine(url)
    with engine.connect() as conn:
        listed = [r[0] for r in conn.execute(text(
            "SELECT s.uscc FROM list_entries e JOIN subjects s ON s.id = e.subject_id WHERE s.uscc IS NOT NULL "
            "ORDER BY e.id LIMIT :n"), {"n": count})]  # fmt: skip
        max_id = conn.execute(text("SELECT max(id) FROM subjects")).scalar() or 0
        anyone: list[str] = []
        while len(anyone) < count:
            ids = [1 + int(rng.random() * max_id) for _ in range(500)]
            anyone += [r[0] for r in conn.execute(text(
                f"SELECT uscc FROM subjects WHERE uscc IS NOT NULL AND id IN ({','.join(map(str, ids))})"))]  # fmt: skip
    engine.dispose()
    rng.shuffle(listed)
    return listed, anyone[:count]


def server_side(url: str, token: str, listed: list[str], anyone: list[str], samples: int, cache_mb: int
                ) -> dict[str, dict[str, float]]:  # fmt: skip
    from fastapi.testclient import TestClient

    from xinyong.app import create_app
    from xinyong.config import Settings

    app = create_app(Settings(database_url=url, secret_key=KEY, portal_rate_limit_requests=0, sqlite_cache_mb=cache_mb,
                              audit_checkpoint_file=CHECKPOINTS))  # fmt: skip

    @app.middleware("http")
    async def timer(request, call_next):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        response = await call_next(request)
        response.headers["x-server-ms"] = f"{(time.perf_counter() - start) * 1000:.3f}"
        return response

    headers = {"Authorization": f"Bearer {token}"}
    codes = [c for pair in zip(listed, anyone, strict=False) for c in pair][:samples]
    warmup = [c for pair in zip(listed[-50:], anyone[-50:], strict=False) for c in pair]  # not among `codes`
    timings: dict[str, list[float]] = {}
    hits = 0
    with TestClient(app) as client:
        for code in warmup:  # the code paths, the indexes' upper levels, the reference cache
            client.get("/healthz")
            client.post("/api/v1/checks", json={"code": code, "matter": MATTER}, headers=headers)
        # First pass: each subject's first check (its rows read from disk unless cached); second pass: the same
        # subjects again (their pages in memory, as on a server whose memory holds the database).
        for label in ("first check of a subject", "repeat check of a subject"):
            base, check = timings.setdefault(f"baseline GET /healthz ({label})", []), timings.setdefault(
                f"check by code POST /api/v1/checks ({label})", [])  # fmt: skip
            for code in codes:
                response = client.get("/healthz")
                base.append(float(response.headers["x-server-ms"]))
                response = client.post("/api/v1/checks", json={"code": code, "matter": MATTER}, headers=headers)
                assert response.status_code == 200, response.text
                hits += bool(response.json()["memberships"])
                check.append(float(response.headers["x-server-ms"]))
    app.state.engine.dispose()
    log(f"server-side: {hits} of {2 * len(codes)} checks hit a list")
    return {label: summary(values) for label, values in timings.items()}


def summary(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100)
    return {"n": len(values), "p50": round(statistics.median(values), 3), "p95": round(cuts[94], 3),
            "p99": round(cuts[98], 3), "max": round(max(values), 3)}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_wrk() -> str:
    """wrk (Debian's package), the HTTP load generator: keep-alive HTTP/1.1 connections, as a department system's
    client pool would hold them (ab speaks HTTP/1.0 and uvicorn closes those after each answer)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk from Debian")
        subprocess.run(["apt-get", "update"], check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is needed for the HTTP part: apt-get install -y wrk")
    return found


def http_load(url: str, token: str, codes: list[str], seconds: int, concurrency: int, workers: int, cache_mb: int
              ) -> dict[str, dict[str, float]]:  # fmt: skip
    """Sustained load over loopback with wrk, bounded by time, first on the trivial endpoint, then on the check
    (one code: wrk repeats one body); errors and non-2xx answers are counted."""
    wrk = _ensure_wrk()
    port = _free_port()
    env = {"XINYONG_DATABASE_URL": url, "XINYONG_SECRET_KEY": KEY, "XINYONG_PORTAL_RATE_LIMIT_REQUESTS": "0",
           "XINYONG_LOG_LEVEL": "WARNING", "XINYONG_SQLITE_CACHE_MB": str(cache_mb), "PATH": "/usr/bin:/bin"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "xinyong.app:app_from_env", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    results: dict[str, dict[str, float]] = {}
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.2)
        with tempfile.TemporaryDirectory() as tmp:
            script, body = Path(tmp) / "check.lua", Path(tmp) / "body.json"
            body.write_text(json.dumps({"code": codes[0], "matter": MATTER}, ensure_ascii=False), encoding="utf-8")
            script.write_text(
                'wrk.method = "POST"\n'
                f'wrk.body = io.open("{body}", "rb"):read("*a")\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
                f'wrk.headers["Authorization"] = "Bearer {token}"\n',
                encoding="utf-8",
            )
            base = f"http://127.0.0.1:{port}"
            probe = urllib.request.Request(f"{base}/api/v1/checks", data=body.read_bytes(), method="POST",
                                           headers={"Content-Type": "application/json",
                                                    "Authorization": f"Bearer {token}"})  # fmt: skip
            with urllib.request.urlopen(probe, timeout=30) as answer:
                assert json.load(answer)["outcome"] == "found", "the benchmark's check must find its subject"
            common = ["-t", "1", "-c", str(concurrency), "--latency"]
            for target in (f"{base}/healthz", f"{base}/api/v1/checks"):  # warm up every worker
                extra = ["-s", str(script)] if target.endswith("checks") else []
                subprocess.run([wrk, *common, "-d", "3s", *extra, target], capture_output=True, check=False)
            for label, args in (
                ("baseline GET /healthz", [f"{base}/healthz"]),
                ("check by code POST /api/v1/checks", ["-s", str(script), f"{base}/api/v1/checks"]),
            ):  # fmt: skip
                log(f"HTTP: {label} for {seconds} s, {concurrency} connections")
                run = subprocess.run([wrk, *common, "-d", f"{seconds}s", *args], capture_output=True, text=True,
                                     check=False)  # fmt: skip
                results[label] = parse_wrk(run.stdout)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def _ms(value: str) -> float:
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0), ("h", 3_600_000.0)):
        if value.endswith(unit):
            return round(float(value[: -len(unit)]) * factor, 3)
    return float(value)


def parse_wrk(output: str) -> dict[str, float]:
    values: dict[str, float] = {"errors": 0.0, "non_2xx": 0.0}
    for line in output.splitlines():
        line = line.strip()
        words = line.split()
        if " requests in " in line:
            values["requests"] = float(words[0])
            values["seconds"] = _ms(words[3].rstrip(",")) / 1000
        elif line.startswith("Requests/sec:"):
            values["per_second"] = float(words[1])
        elif line.startswith("Non-2xx or 3xx responses:"):
            values["non_2xx"] = float(words[-1])
        elif line.strip().startswith("Socket errors:"):
            values["errors"] = float(sum(int(w.rstrip(",")) for w in words if w.rstrip(",").isdigit()))
        elif words[:1] in (["50%"], ["99%"]):
            values[f"p{words[0].rstrip('%')}_ms"] = _ms(words[1])
    return values


def batch(url: str, token: str, listed: list[str], anyone: list[str], size: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from xinyong.app import create_app
    from xinyong.audit import keys as audit_keys
    from xinyong.auth.rules import Actor, Permission
    from xinyong.checks import service
    from xinyong.config import Settings
    from xinyong.db import make_engine, make_sessionmaker
    from xinyong.protect import protector

    settings = Settings(database_url=url, secret_key=KEY, audit_checkpoint_file=CHECKPOINTS)
    codes = listed[: size // 10] + anyone[: size - size // 10]
    items = [service.CheckItem(code=c) for c in codes]
    engine = make_engine(url)
    actor = Actor(label="benchmark", kind="api-key", permissions=frozenset({Permission.API_CHECKS_WRITE}))
    timings = []
    for _ in range(3):
        with audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))() as session:
            start = time.perf_counter()
            _, docs = service.run_batch(session, items, matter=MATTER, actor=actor, settings=settings,
                                        protector=protector(settings), today=date.today())  # fmt: skip
            session.commit()
            timings.append(time.perf_counter() - start)
    engine.dispose()
    assert len(docs) == size
    app = create_app(Settings(database_url=url, secret_key=KEY, portal_rate_limit_requests=0,
                              audit_checkpoint_file=CHECKPOINTS))  # fmt: skip
    with TestClient(app) as client:
        start = time.perf_counter()
        response = client.post("/api/v1/checks/batch?format=csv", headers={"Authorization": f"Bearer {token}"},
                               json={"matter": MATTER, "items": [{"code": c} for c in codes]})  # fmt: skip
        http_seconds = time.perf_counter() - start
        assert response.status_code == 200, response.text[:300]
    app.state.engine.dispose()
    return {"size": size, "in_process_s_median": round(statistics.median(timings), 3),
            "in_process_s_max": round(max(timings), 3), "http_csv_s": round(http_seconds, 3),
            "hits": sum(bool(d["memberships"]) for d in docs)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--http-seconds", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--sqlite-cache-mb", type=int, default=1024,
                        help="XINYONG_SQLITE_CACHE_MB of the servers (this machine's OS drops idle file pages within "
                             "seconds; the connection's own cache is what keeps the data read in memory)")  # fmt: skip
    parser.add_argument("--pg", help="PostgreSQL URL of a database filled by benchmarks/portal.py --pg URL")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-server-side", action="store_true")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.pg:
        from sqlalchemy.engine import make_url

        pg = make_url(args.pg)
        host = (pg.host or "local").replace(".", "_")
        target = OUT / f"checks-pg-{host}-{pg.port}-{pg.database}-{args.entries}-{args.seed}"
    else:
        target = OUT / f"checks-1000000-5000000-{args.entries}-{args.seed}.sqlite"
    url, token = prepare(target, args.entries, args.seed, args.pg)
    listed, anyone = sample_codes(url, max(args.samples, args.batch), args.seed)
    report: dict[str, object] = {"database": "postgresql" if args.pg else target.name, "date": date.today().isoformat(),
                                 "load_average": os.getloadavg()}  # fmt: skip

    def save() -> None:  # after every stage, so that a failure later keeps what was measured
        (OUT / ("checks-pg.json" if args.pg else "checks.json")).write_text(json.dumps(report, ensure_ascii=False, indent=2))

    if not args.skip_server_side:
        log("server-side timings")
        if not args.pg:
            report["sqlite_cache_mb"] = args.sqlite_cache_mb
        report["server_side_ms"] = server_side(url, token, listed, anyone, args.samples, args.sqlite_cache_mb)
        save()
    if args.batch:
        log("batch")
        report["batch"] = batch(url, token, listed, anyone, args.batch)
        save()
    if not args.skip_http:
        report["http"] = http_load(url, token, listed, args.http_seconds, args.concurrency, args.workers,
                                   args.sqlite_cache_mb)  # fmt: skip
        save()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
