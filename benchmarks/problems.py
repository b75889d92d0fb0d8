"""Batch report benchmark: a file that yields a flood of problems, imported and then read back.

    python benchmarks/problems.py                      # SQLite, 100,000 unknown columns, 3 rounds
    python benchmarks/problems.py --pg postgresql://…  # the same on a PostgreSQL database (emptied first)
    python benchmarks/problems.py --error-rows 30000   # also 30,000 rows that each fail two checks

The file is a valid penalty CSV of a few rows whose header also holds 100,000 columns the catalogue does not
know (0.9 MB): each is reported as `unknown-column`. The benchmark imports it with `import_file`, then
times what a department does next: the console's batch page (first and last page), the JSON report
(`GET /api/v1/batches/{id}`) and the problems CSV, each through the ASGI app in this process. Medians of
the rounds are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from xinyong import clock, migrate  # noqa: E402
from xinyong.app import create_app  # noqa: E402
from xinyong.auth import service as auth_service  # noqa: E402
from xinyong.auth.rules import Actor, Role  # noqa: E402
from xinyong.codes import make_uscc  # noqa: E402
from xinyong.config import Settings  # noqa: E402
from xinyong.db import make_engine, make_sessionmaker  # noqa: E402
from xinyong.departments import service as departments_service  # noqa: E402
from xinyong.protect import protector as make_protector  # noqa: E402
from xinyong.records import service as records_service  # noqa: E402
from xinyong.records.models import BatchProblem  # noqa: E402
from xinyong.web.deps import SESSION_COOKIE  # noqa: E402

KEY = "benchmark-master-key-0123456789abcdef0123"
TODAY = date(2025, 10, 15)
DEPT_CODE = make_uscc("1", "1", "330521", "00000001")
DEPT_NAME = "安吉县市场监督管理局"


def penalty_row(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "CF_XDR_MC": f"安吉县测试{n}号科技有限公司", "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": make_uscc("9", "1", "330521", f"{10000000 + n:08d}"), "CF_WSH": f"安市监罚〔2025〕{n}号",
        "CF_WFXW": "未按规定公示年度报告", "CF_SY": "经查，当事人未按规定公示年度报告。",
        "CF_YJ": "《企业信息公示暂行条例》第十八条", "CF_CFLB": "警告;罚款", "CF_NR": "警告，罚款人民币贰仟元整",
        "CF_NR_FK": "0.2", "CF_JDRQ": "2025-09-29", "CF_CFJG": DEPT_NAME, "CF_CFJGDM": DEPT_CODE,
        "CF_SJLY": DEPT_NAME, "CF_SJLYDM": DEPT_CODE,
    }  # fmt: skip
    row.update(overrides)
    return row


def make_file(path: Path, unknown_columns: int, error_rows: int) -> Path:
    rows = [penalty_row(n) for n in range(1, 11)]
    # Rows that each fail two checks (a missing 文书号, a wrong date): a per-column flood of row problems.
    rows += [penalty_row(100 + n, CF_WSH="", CF_JDRQ="2025-13-01") for n in range(error_rows)]
    known = list(rows[0])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(known + [f"X_{n:06d}" for n in range(unknown_columns)])
        for row in rows:
            writer.writerow([row[c] for c in known])
    return path


def fresh_database(url: str) -> None:
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    migrate.upgrade(url)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def run_round(url: str, path: Path) -> dict[str, float]:
    fresh_database(url)
    settings = Settings(database_url=url, secret_key=KEY, portal_rate_limit_requests=0)
    engine = make_engine(url)
    session = make_sessionmaker(engine)()
    system = Actor.system("benchmark")
    department = departments_service.add_department(session, code=DEPT_CODE, name=DEPT_NAME)
    user = auth_service.create_user(session, username="bench-admin", password="Benchmark-pass-42",
                                    role=Role.PLATFORM_ADMIN, department=None, actor=system, settings=settings)  # fmt: skip
    _, cookie = auth_service.start_session(session, user, settings=settings, client="benchmark")
    _, token = departments_service.issue_api_key(session, department=department, name="benchmark")
    session.commit()
    figures: dict[str, float] = {}
    started = time.perf_counter()
    result = records_service.import_file(
        session, path, settings=settings, protector=make_protector(settings), record_type="penalty",
        department=department, actor="benchmark", today=TODAY,
    )  # fmt: skip
    figures["import s"] = time.perf_counter() - started
    figures["problems stored"] = session.scalar(
        select(func.count()).select_from(BatchProblem).where(BatchProblem.batch_id == result.batch_id)
    ) or 0
    session.close()
    app = create_app(settings)
    clock_today = clock.today
    clock.today = lambda: TODAY  # type: ignore[assignment]
    try:
        with TestClient(app) as client:
            client.cookies.set(SESSION_COOKIE, cookie)
            api = {"Authorization": f"Bearer {token}"}
            page = f"/admin/batches/{result.batch_id}"
            first = client.get(page)
            assert first.status_code == 200, first.text[:500]
            figures["page KB"] = len(first.content) / 1024
            figures["batch page s"] = timed(lambda: client.get(page))
            figures["last page s"] = timed(lambda: client.get(page, params={"page": 10_000}))
            figures["API report s"] = timed(lambda: client.get(f"/api/v1/batches/{result.batch_id}", headers=api))
            figures["API report MB"] = len(client.get(f"/api/v1/batches/{result.batch_id}", headers=api).content) / 2**20
            figures["problems CSV s"] = timed(lambda: client.get(f"{page}/problems.csv"))
    finally:
        clock.today = clock_today  # type: ignore[assignment]
        app.state.engine.dispose()
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unknown-columns", type=int, default=100_000)
    parser.add_argument("--error-rows", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", help="PostgreSQL URL of a database to use (its public schema is dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="xinyong-problems-") as work:
        path = make_file(Path(work) / "flood.csv", args.unknown_columns, args.error_rows)
        url = args.pg or f"sqlite:///{Path(work) / 'bench.db'}"
        print(f"file: {path.stat().st_size / 2**20:.2f} MB, {args.unknown_columns:,} unknown columns, "
              f"{args.error_rows:,} rows with errors; database: {url.split(':', 1)[0]}")  # fmt: skip
        rounds = []
        for number in range(args.rounds):
            if url.startswith("sqlite"):
                for suffix in ("", "-wal", "-shm"):
                    Path(work, "bench.db" + suffix).unlink(missing_ok=True)
            rounds.append(run_round(url, path))
            print(f"round {number + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in rounds[-1].items()), flush=True)
    print("\n| measure | median |\n|---|---|")
    for name in rounds[0]:
        print(f"| {name} | {statistics.median(r[name] for r in rounds):,.3f} |")


if __name__ == "__main__":
    main()
