"""信用承诺 benchmark: what the commitment type's row rules cost at validation, and what the commitments provider
adds to a credit check by code — each against a baseline measured in the same run.

    .venv/bin/python benchmarks/commitments.py                     # 50,000 rows, 5,000 subjects, 5 rounds
    .venv/bin/python benchmarks/commitments.py --rows 20000 --subjects 2000 --checks 200

- validation: `RowValidator.validate` over generated commitment rows, with the type as declared (row rules on)
  and the same type without its `row_rules` (baseline); rounds alternate; CPU time, medians.
- checks: a fresh SQLite database holds `--subjects` companies with one commitment each (a fifth broken), imported
  through the pipeline; `run_check` by code (matter 告知承诺适用) with the commitments provider registered and
  unregistered (baseline); rounds alternate; per-check medians.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from xinyong import clock, migrate  # noqa: E402
from xinyong.actors import Actor  # noqa: E402
from xinyong.audit import keys as audit_keys  # noqa: E402
from xinyong.catalog import load_catalog  # noqa: E402
from xinyong.checks import extras  # noqa: E402
from xinyong.checks import service as checks_service  # noqa: E402
from xinyong.codes import make_uscc  # noqa: E402
from xinyong.commitments import hooks, rules  # noqa: E402
from xinyong.config import Settings  # noqa: E402
from xinyong.db import make_engine, make_sessionmaker  # noqa: E402
from xinyong.departments import service as departments_service  # noqa: E402
from xinyong.protect import protector as make_protector  # noqa: E402
from xinyong.records import service as records_service  # noqa: E402
from xinyong.records.validation import RowValidator  # noqa: E402

KEY = "benchmark-master-key-0123456789abcdef0123"
DEPT_CODE = make_uscc("1", "1", "330521", "00000001")


def rows(n: int, today: date) -> list[dict[str, str]]:
    made = today - timedelta(days=30)
    out = []
    for i in range(n):
        broken = i % 5 == 0
        row = {
            "承诺编码": f"330521{made:%Y%m%d}{i % 1_000_000:06d}", "承诺人名称": f"安吉县承诺{i}号有限公司",
            "承诺人类别": "法人及非法人组织", "统一社会信用代码": make_uscc("9", "1", "330521", f"{30000000 + i:08d}"),
            "承诺类型": "证明事项告知承诺型", "承诺事由": "食品经营许可", "承诺内容": "所填写的经营场所信息真实、准确。",
            "违诺责任": "承诺不实的，撤销许可决定并记入信用记录。", "承诺作出日期": made.isoformat(),
            "承诺有效期至": (made + timedelta(days=365)).isoformat(),
            "承诺履行状态": "全部未履行" if broken else "履行中", "承诺受理单位": "安吉县市场监督管理局",
            "承诺受理单位统一社会信用代码": DEPT_CODE, "公开类型": "可向社会公开",
            "数据来源单位": "安吉县市场监督管理局", "数据来源单位统一社会信用代码": DEPT_CODE,
        }  # fmt: skip
        if broken:
            row.update({"未履行的承诺内容": "未按期提交证明", "履行状态认定日期": (today - timedelta(days=2)).isoformat(),
                        "履行状态认定单位": "安吉县市场监督管理局"})  # fmt: skip
        out.append(row)
    return out


def validation(n: int, rounds: int, today: date) -> None:
    rtype = rules.commitment_type(load_catalog())
    bare = dataclasses.replace(rtype, row_rules=None)
    data = rows(n, today)
    headers = list(dict.fromkeys(k for r in data for k in r))
    cells = [[r.get(h, "") for h in headers] for r in data]
    timings: dict[str, list[float]] = {"with row rules": [], "baseline (no row rules)": []}
    for _ in range(rounds):
        for label, kind in (("baseline (no row rules)", bare), ("with row rules", rtype)):
            validator = RowValidator(kind, headers, department_code=DEPT_CODE, today=today)
            start = time.process_time()
            for number, row in enumerate(cells, start=2):
                clean = validator.validate(number, row)
                assert not clean.has_errors, clean.problems
            timings[label].append(time.process_time() - start)
    base = statistics.median(timings["baseline (no row rules)"])
    with_rules = statistics.median(timings["with row rules"])
    print(f"validation of {n:,} rows, CPU median of {rounds}: baseline {base:.3f} s, with row rules {with_rules:.3f} s, "
          f"ratio {with_rules / base:.2f}, {(with_rules - base) / n * 1e6:.1f} µs a row")  # fmt: skip


def checks(subjects: int, count: int, rounds: int, today: date) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'commitments.sqlite'}"
        migrate.upgrade(url)
        settings = Settings(database_url=url, secret_key=KEY, audit_checkpoint_file=Path(folder) / "checkpoints.jsonl")
        engine = make_engine(url)
        factory = audit_keys.attach(make_sessionmaker(engine), audit_keys.load(settings))
        protector = make_protector(settings)
        data = rows(subjects, today)
        with factory() as session:
            department = departments_service.add_department(session, code=DEPT_CODE, name="安吉县市场监督管理局")
            session.commit()
            result = records_service.import_rows(session, data, settings=settings, protector=protector,
                                                 record_type="commitment", department=department,
                                                 actor=Actor.system("benchmark"), today=today)  # fmt: skip
            assert result.created == subjects, result
            session.commit()
        codes = [r["统一社会信用代码"] for r in data]
        timings: dict[str, list[float]] = {"with commitments": [], "baseline (provider off)": []}
        actor = Actor.system("benchmark")
        for round_ in range(rounds):
            for label in ("baseline (provider off)", "with commitments"):
                if label.startswith("baseline"):
                    extras.unregister("commitments")
                else:
                    extras.register("commitments", hooks.commitments_in_check)
                with factory() as session:
                    for i in range(count):
                        code = codes[(round_ * count + i * 7) % len(codes)]
                        start = time.perf_counter()
                        checks_service.prepare_checks(session, [checks_service.CheckItem(code=code)],
                                                      matter="告知承诺适用", actor=actor, settings=settings,
                                                      protector=protector, today=today, detail=True)  # fmt: skip
                        timings[label].append(time.perf_counter() - start)
                    session.rollback()
        extras.register("commitments", hooks.commitments_in_check)
        engine.dispose()
    base = statistics.median(timings["baseline (provider off)"]) * 1000
    with_provider = statistics.median(timings["with commitments"]) * 1000
    print(f"check by code over {subjects:,} subjects, median of {count * rounds} checks each: baseline {base:.2f} ms, "
          f"with commitments {with_provider:.2f} ms, ratio {with_provider / base:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--subjects", type=int, default=5_000)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    today = clock.today()
    validation(args.rows, args.rounds, today)
    checks(args.subjects, args.checks, args.rounds, today)


if __name__ == "__main__":
    main()
