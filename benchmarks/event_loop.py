"""Event-loop benchmark: how long a page of no work (`GET /healthz`) takes on a server process while, on the same
process, portal sign-ins verify their passwords and write their sessions, and while a credit check waits for
another connection's write lock (an import's chunk, on SQLite).

    .venv/bin/python benchmarks/event_loop.py               # SQLite, 3 rounds
    .venv/bin/python benchmarks/event_loop.py --rounds 5 --sign-ins 20

Every request of a process is answered on one event loop: work an asynchronous handler does there (an Argon2
verification, about a tenth of a second; a wait in SQLite's busy handler) holds up every other request of the
process. The app runs in-process (Starlette's test client: one event loop in a thread of its own); the main
thread asks `/healthz` every 10 ms while another thread signs in N times (real Argon2 parameters), then while a
check is sent during a 1.5 s hold of the write lock by a connection of the benchmark's own. The baseline is
`/healthz` alone, in the same round. Medians over the rounds of each round's p50, p95 and maximum.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import select  # noqa: E402

from xinyong import heap, migrate  # noqa: E402
from xinyong.accounts import service as accounts_service  # noqa: E402
from xinyong.actors import Actor  # noqa: E402
from xinyong.app import create_app  # noqa: E402
from xinyong.audit import keys as audit_keys  # noqa: E402
from xinyong.codes import make_uscc  # noqa: E402
from xinyong.config import Settings  # noqa: E402
from xinyong.db import make_engine, make_sessionmaker  # noqa: E402
from xinyong.demo import generator  # noqa: E402
from xinyong.departments import service as departments_service  # noqa: E402
from xinyong.lists import service as lists_service  # noqa: E402
from xinyong.measures import service as measures_service  # noqa: E402
from xinyong.notify.models import OutboxItem  # noqa: E402
from xinyong.protect import protector as make_protector  # noqa: E402
from xinyong.records import service as records_service  # noqa: E402
from xinyong.web.csrf import FORM_COOKIE  # noqa: E402

KEY = "benchmark-master-key-0123456789abcdef0123"
PASSWORD = "Benchmark-pass-2026"
FORM_TOKEN = "benchmark-form-token-0123456789"
HOLD_SECONDS = 1.5
OUT = Path(__file__).resolve().parent / "out"


def prepare(directory: Path, importing: tuple[str, str] | None = None) -> tuple[Settings, str, str]:
    """A fresh, migrated database with one registered organisation whose account is confirmed, the built-in
    list types and measures, a key that may check, and the importing department (code, name) when given.
    Returns the settings, the code and the key."""
    url = f"sqlite:///{directory / 'loop.sqlite'}"
    migrate.upgrade(url)
    settings = Settings(database_url=url, secret_key=KEY, secret_key_file=directory / "unused.key",
                        portal_rate_limit_requests=0, login_rate_limit_attempts=0)  # fmt: skip
    protector = make_protector(settings)
    engine = make_engine(url)
    session = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings).without_checkpoints())()
    system = Actor.system("benchmark")
    department_code = make_uscc("1", "1", "330521", "00000001")
    department = departments_service.add_department(session, code=department_code, name="基准测试局")
    if importing is not None:
        departments_service.add_department(session, code=importing[0], name=importing[1])
    code = make_uscc("9", "1", "330521", "B0000001")
    name = "德清县基准测试有限公司"
    row = {"XK_XDR_MC": name, "XK_XDR_LB": "法人及非法人组织", "XK_XDR_SHXYM": code, "XK_XKWS": "食品经营许可决定书",
           "XK_WSH": "德市监许〔2026〕1号", "XK_XKLB": "普通", "XK_NR": "食品经营许可", "XK_JDRQ": "2026-11-02",
           "XK_YXQZ": "2026-11-02", "XK_YXQZI": "2031-11-01", "XK_XKJG": "基准测试局", "XK_XKJGDM": department_code,
           "XK_LYDW": "基准测试局", "XK_LYDWDM": department_code}  # fmt: skip
    result = records_service.import_rows(session, [row], settings=settings, protector=protector, record_type="license",
                                         department=department, actor="benchmark", today=date(2026, 11, 3))  # fmt: skip
    assert result.rejected == 0, result
    account = accounts_service.sign_up(session, code=code, name=name, contact="loop@example.cn", password=PASSWORD,
                                       protector=protector, settings=settings)  # fmt: skip
    message = session.scalars(select(OutboxItem).order_by(OutboxItem.id.desc())).first()
    assert message is not None
    accounts_service.verify(session, account_id=account.id, code=message.payload["body"].split("验证码为 ")[1][:6],
                            protector=protector)  # fmt: skip
    lists_service.load_types_file(session, lists_service.BUILTIN_TYPES, actor=system)
    measures_service.load_measures_file(session, measures_service.DEFAULT_MEASURES, actor=system, settings=settings)
    _, key = departments_service.issue_api_key(session, department=department, name="审批系统",
                                               scopes=["api:checks:write"])  # fmt: skip
    session.commit()
    session.close()
    engine.dispose()
    return settings, code, key


def ping_while(client: TestClient, running: Callable[[], bool]) -> list[float]:
    """Seconds each `/healthz` took, asked every 10 ms while `running()`."""
    pings = []
    while running():
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        pings.append(time.perf_counter() - started)
        time.sleep(0.01)
    return pings


def in_background(work: Callable[[], Any]) -> tuple[threading.Thread, threading.Event, list[Any]]:
    done = threading.Event()
    results: list[Any] = []

    def run() -> None:
        try:
            results.append(work())
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done, results


def summary(pings: list[float]) -> dict[str, float]:
    ordered = sorted(pings)
    return {"n": len(ordered), "p50_ms": statistics.median(ordered) * 1000,
            "p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, "max_ms": ordered[-1] * 1000}  # fmt: skip


def one_round(client: TestClient, path: str, code: str, key: str, sign_ins: int) -> dict[str, dict[str, float]]:
    started = time.perf_counter()
    baseline = ping_while(client, lambda: time.perf_counter() - started < 1.0)

    def signing_in() -> list[int]:
        statuses = []
        for _ in range(sign_ins):  # the same client, so the same event loop; each time signed out (no session cookie)
            statuses.append(client.post("/account/login", headers={"cookie": f"{FORM_COOKIE}={FORM_TOKEN}"},
                                        data={"csrf_token": FORM_TOKEN, "code": code, "password": PASSWORD}).status_code)  # fmt: skip
        return statuses

    thread, done, results = in_background(signing_in)
    during_sign_ins = ping_while(client, lambda: not done.is_set())
    thread.join()
    if not results or set(results[0]) != {303}:
        raise SystemExit(f"the sign-ins were not all accepted: {results}")

    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(HOLD_SECONDS, lambda: (holder.execute("ROLLBACK"), holder.close())).start()
    thread, done, results = in_background(lambda: client.post(
        "/api/v1/checks", json={"code": code, "matter": "政府采购"}, headers={"Authorization": f"Bearer {key}"}))
    during_check = ping_while(client, lambda: not done.is_set())
    thread.join()
    if not results or results[0].status_code != 200:
        raise SystemExit(f"the check failed: {results}")
    return {"alone": summary(baseline), "during_sign_ins": summary(during_sign_ins),
            "during_a_check_waiting_for_the_lock": summary(during_check)}  # fmt: skip


def penalty_file(directory: Path, rows: int) -> tuple[Path, str, str]:
    """A penalty CSV of `rows` valid rows from the demo generator (a subject for every four rows), and the
    deciding department's code and name."""
    rng = random.Random(7)
    departments = generator.generate_departments(rng)
    department = next(d for d in departments if generator.decides(d, "penalty"))
    subjects = list(generator.generate_subjects(max(1000, rows // 4), rng))
    produced = generator.penalty_rows(subjects, departments, rows, rng, today=date(2026, 11, 20), department=department)
    path = directory / "penalties.csv"
    generator.write_csv(path, (row for row, _, _ in produced), generator.PENALTY_COLUMNS)
    return path, department.code, department.name


def during_an_import(client: TestClient, settings: Settings, file: tuple[Path, str, str], code: str, key: str
                     ) -> dict[str, Any]:  # fmt: skip
    """`xinyong records import` of the file in a process of its own (as an office's import runs), while the
    main thread asks `/healthz` every 10 ms and another thread alternates a portal sign-in and a credit check
    until the import has finished: their answers are counted by status."""
    path, department_code, _ = file
    environment = {**os.environ, "XINYONG_DATABASE_URL": settings.database_url, "XINYONG_SECRET_KEY": KEY,
                   "XINYONG_SECRET_KEY_FILE": str(settings.secret_key_file)}  # fmt: skip
    started = time.perf_counter()
    out, err = (path.with_suffix(suffix).open("w+") for suffix in (".out", ".err"))  # a pipe left unread fills up
    importer = subprocess.Popen([sys.executable, "-m", "xinyong", "records", "import", str(path), "--type", "penalty",
                                 "--department", department_code, "--json"], env=environment,
                                stdout=out, stderr=err, text=True)  # fmt: skip
    answers: dict[str, dict[int, int]] = {"sign-in": {}, "check": {}}

    def ask() -> None:
        while importer.poll() is None:
            signed = client.post("/account/login", headers={"cookie": f"{FORM_COOKIE}={FORM_TOKEN}"},
                                 data={"csrf_token": FORM_TOKEN, "code": code, "password": PASSWORD})  # fmt: skip
            answers["sign-in"][signed.status_code] = answers["sign-in"].get(signed.status_code, 0) + 1
            checked = client.post("/api/v1/checks", json={"code": code, "matter": "政府采购"},
                                  headers={"Authorization": f"Bearer {key}"})  # fmt: skip
            answers["check"][checked.status_code] = answers["check"].get(checked.status_code, 0) + 1

    thread, done, _ = in_background(ask)
    pings = ping_while(client, lambda: not done.is_set())
    thread.join()
    importer.wait()
    elapsed = time.perf_counter() - started
    out.seek(0)
    err.seek(0)
    if importer.returncode != 0:
        raise SystemExit(f"the import failed: {err.read()[-2000:]}")
    return {"healthz": summary(pings), "import_seconds": elapsed, "import": json.loads(out.read()),
            "answers": answers}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sign-ins", type=int, default=10)
    parser.add_argument("--import-rows", type=int, default=20000, help="rows of the import run beside (0: none)")
    parser.add_argument("--no-settle", action="store_true",
                        help="leave the app's start-up objects in the garbage collector's full passes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        file = penalty_file(Path(tmp), args.import_rows) if args.import_rows else None
        settings, code, key = prepare(Path(tmp), file[1:] if file else None)
        app = create_app(settings)
        if not args.no_settle:
            heap.settle()  # as `xinyong serve` does
        rounds = []
        with TestClient(app, follow_redirects=False) as client:
            for _ in range(args.rounds):
                rounds.append(one_round(client, str(Path(tmp) / "loop.sqlite"), code, key, args.sign_ins))
            beside = during_an_import(client, settings, file, code, key) if file else None
        app.state.engine.dispose()
    medians = {case: {figure: statistics.median(r[case][figure] for r in rounds) for figure in rounds[0][case]}
               for case in rounds[0]}  # fmt: skip
    base = medians["alone"]["p50_ms"]
    print(f"{'/healthz while':<40} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p50 / alone':>12}")
    for case, figures in medians.items():
        print(f"{case:<40} {figures['n']:>5.0f} {figures['p50_ms']:>8.1f} {figures['p95_ms']:>8.1f} "
              f"{figures['max_ms']:>8.1f} {figures['p50_ms'] / base:>12.1f}")  # fmt: skip
    if beside is not None:
        figures = beside["healthz"]
        print(f"{'during an import of ' + str(args.import_rows) + ' rows':<40} {figures['n']:>5.0f} "
              f"{figures['p50_ms']:>8.1f} {figures['p95_ms']:>8.1f} {figures['max_ms']:>8.1f} "
              f"{figures['p50_ms'] / base:>12.1f}")  # fmt: skip
        print(f"  the import: {beside['import_seconds']:.1f} s, {beside['import'].get('status')}; answers meanwhile "
              f"(status: count): sign-ins {beside['answers']['sign-in']}, checks {beside['answers']['check']}")  # fmt: skip
    OUT.mkdir(exist_ok=True)
    (OUT / "event_loop.json").write_text(json.dumps({"rounds": rounds, "medians": medians, "beside_an_import": beside},
                                                    indent=2, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
