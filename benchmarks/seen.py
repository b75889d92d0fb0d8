"""The in-file duplicate check of 文书号 (`records.seen.SeenDocNos`) as a file grows: CPU per row for the rows
of a file whose every 文书号 is new (the normal case), at each size, against two baselines run in the same
process: a plain dict (fastest, but about 100 bytes a row, which a 10⁷-row import cannot afford) and the
previous design, kept here (recent entries merged every 65,536 into one pair of sorted arrays, whose merges grow
with the square of the file).

    .venv/bin/python benchmarks/seen.py                                  # 10⁵, 10⁶ and 4·10⁶ rows, 3 rounds
    .venv/bin/python benchmarks/seen.py --sizes 100000 10000000 --rounds 1

Each round looks up and adds every row's digest, as the import does (`first_row`, then `add`); the three kinds
take turns; medians of the rounds' CPU seconds (time.process_time) are reported as µs a row. Issue 18's scaling
target asks the import's rows/s at 10⁷ to stay within 20 % of 10⁵: the last column is the row's cost at this
size over its cost at the smallest.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from array import array
from bisect import bisect_left
from heapq import merge

from xinyong.records.seen import SeenDocNos


class MergedEveryFlush:
    """The previous SeenDocNos: recent entries in a dict, merged every FLUSH_AT into two sorted arrays."""

    FLUSH_AT = 65_536

    def __init__(self) -> None:
        self._recent: dict[int, int] = {}
        self._keys = array("Q")
        self._rows = array("L")

    def first_row(self, key: int) -> int | None:
        row = self._recent.get(key)
        if row is not None:
            return row
        at = bisect_left(self._keys, key)
        if at < len(self._keys) and self._keys[at] == key:
            return int(self._rows[at])
        return None

    def add(self, key: int, row: int) -> None:
        self._recent[key] = row
        if len(self._recent) >= self.FLUSH_AT:
            keys, rows = array("Q"), array("L")
            for k, r in merge(zip(self._keys, self._rows, strict=True), sorted(self._recent.items())):
                keys.append(k)
                rows.append(r)
            self._keys, self._rows = keys, rows
            self._recent.clear()


class PlainDict:
    def __init__(self) -> None:
        self._rows: dict[int, int] = {}

    def first_row(self, key: int) -> int | None:
        return self._rows.get(key)

    def add(self, key: int, row: int) -> None:
        self._rows[key] = row


KINDS = {"dict": PlainDict, "previous": MergedEveryFlush, "SeenDocNos": SeenDocNos}


def run(kind: str, keys: list[int]) -> float:
    seen = KINDS[kind]()
    first_row, add = seen.first_row, seen.add
    started = time.process_time()
    for row, key in enumerate(keys, start=2):
        if first_row(key) is None:
            add(key, row)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 4_000_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", nargs="+", choices=list(KINDS), default=list(KINDS))
    args = parser.parse_args()
    smallest: dict[str, float] = {}
    print("| rows | kind | µs a row (median) | rounds | ÷ dict | ÷ smallest size |")
    print("|---:|---|---:|---|---:|---:|")
    for size in args.sizes:
        rng = random.Random(size)
        keys = [rng.getrandbits(64) for _ in range(size)]
        assert len(set(keys)) == size  # every 文书号 new
        times: dict[str, list[float]] = {kind: [] for kind in args.kinds}
        for round_no in range(args.rounds):
            order = args.kinds[round_no % len(args.kinds):] + args.kinds[:round_no % len(args.kinds)]
            for kind in order:
                times[kind].append(run(kind, keys))
        per_row = {kind: statistics.median(t) / size * 1e6 for kind, t in times.items()}
        for kind, micros in per_row.items():
            smallest.setdefault(kind, micros)
            ratio = f"{micros / per_row['dict']:.2f}" if "dict" in per_row else "—"
            rounds = " / ".join(f"{t:.2f}" for t in times[kind])
            print(f"| {size:,} | {kind} | {micros:.2f} | {rounds} s | {ratio} | {micros / smallest[kind]:.2f} |",
                  flush=True)


if __name__ == "__main__":
    main()
