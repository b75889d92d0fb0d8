"""How many problems a batch stores one by one, and the count of the rest.

A file can produce far more problems than anyone reads: a header of 100,000 stray columns, or a systematic
mistake repeated on every row of a million. Each batch stores at most `per_column` problems of one code in one
column and at most `per_batch` in all; beyond that a problem is only counted, by (severity, code, column), and
the report says "另有 N 条同类问题未逐条列出". The row counts (rejected, warnings) are unaffected: they count
rows and problems, not what was stored. A note on the whole file (row 0) is always stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from xinyong.records.validation import Problem

# Codes whose `column` is the file's own header text, not a catalogue code: each such header is a column of its
# own, so they are capped together, as if in one column.
HEADER_TEXT_CODES = frozenset({"unknown-column"})


def omitted_message(count: int) -> str:
    return f"另有 {count:,} 条同类问题未逐条列出"


class ProblemCaps:
    def __init__(self, *, per_column: int, per_batch: int) -> None:
        self.per_column = per_column
        self.per_batch = per_batch
        self.stored = 0
        self._groups: Counter[tuple[str, str | None]] = Counter()
        self._omitted: Counter[tuple[str, str, str | None]] = Counter()
        self.changed = False  # omitted counts changed since the last `omitted()`

    def admit(self, problems: Iterable[Problem]) -> list[Problem]:
        """The problems to store one by one; the others are counted."""
        kept: list[Problem] = []
        groups, per_column = self._groups, self.per_column
        for problem in problems:
            if problem.row == 0:
                kept.append(problem)
                self.stored += 1
                continue
            column = None if problem.code in HEADER_TEXT_CODES else problem.column
            group = (problem.code, column)
            if groups[group] < per_column and self.stored < self.per_batch:
                groups[group] += 1
                self.stored += 1
                kept.append(problem)
            else:
                self._omitted[(problem.severity, problem.code, column)] += 1
                self.changed = True
        return kept

    def omitted(self) -> list[dict[str, Any]]:
        """What was counted and not stored, as the batch keeps it: errors first, then by code and column."""
        self.changed = False
        return [
            {"severity": severity, "code": code, "column": column, "count": count}
            for (severity, code, column), count in sorted(
                self._omitted.items(), key=lambda item: (item[0][0] != "error", item[0][1], item[0][2] or "")
            )
        ]
