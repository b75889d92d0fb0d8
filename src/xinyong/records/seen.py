"""The 文书号 already seen in one file, for the duplicate check, in bounded memory.

A dict of a million 64-bit digests and row numbers costs about 100 MB in Python objects; here recent
entries sit in a small dict and are merged, every FLUSH_AT entries, into two sorted arrays (12 bytes an
entry) searched by bisection: a 1,000,000-row file needs about 12 MB.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from heapq import merge


def digest(doc_no: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_no.encode(), digest_size=8).digest(), "big")


class SeenDocNos:
    FLUSH_AT = 65_536

    def __init__(self) -> None:
        self._recent: dict[int, int] = {}
        self._keys = array("Q")  # sorted digests
        self._rows = array("L")  # the row each first appeared on, aligned with _keys

    def __len__(self) -> int:
        return len(self._recent) + len(self._keys)

    def first_row(self, key: int) -> int | None:
        row = self._recent.get(key)
        if row is not None:
            return row
        at = bisect_left(self._keys, key)
        if at < len(self._keys) and self._keys[at] == key:
            return int(self._rows[at])
        return None

    def add(self, key: int, row: int) -> None:
        """Record `key` first seen on `row` (callers check first_row before)."""
        self._recent[key] = row
        if len(self._recent) >= self.FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        keys, rows = array("Q"), array("L")
        add_key, add_row = keys.append, rows.append
        for key, row in merge(zip(self._keys, self._rows, strict=True), sorted(self._recent.items())):
            add_key(key)
            add_row(row)
        self._keys, self._rows = keys, rows
        self._recent.clear()
