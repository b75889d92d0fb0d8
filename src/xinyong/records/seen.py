"""The 文书号 already seen in one file, for the duplicate check, in bounded memory.

A dict of a million 64-bit digests and row numbers costs about 100 MB in Python objects; here the digests
are spread by their top 14 bits over 16,384 pairs of sorted arrays (the digest, the row it first appeared on:
12 bytes an entry), and each entry is put in place in its bucket (bisection, then a short move of the bucket's
tail). A 1,000,000-row file needs about 15 MB. At 10,000,000 rows a bucket holds about 600 entries and a row
costs 2.2 µs, against 0.9 µs at 100,000. Merging every 65,536 entries into one sorted pair instead, as before,
cost time that grew with the square of the file: 20 µs a row at 10,000,000 (docs/performance.md).
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left


def digest(doc_no: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_no.encode(), digest_size=8).digest(), "big")


class SeenDocNos:
    def __init__(self, bucket_bits: int = 14) -> None:
        self._shift = 64 - bucket_bits
        self._keys = [array("Q") for _ in range(1 << bucket_bits)]  # sorted digests, by their top bucket_bits
        self._rows = [array("I") for _ in range(1 << bucket_bits)]  # the row each first appeared on, aligned
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def first_row(self, key: int) -> int | None:
        bucket = key >> self._shift
        keys = self._keys[bucket]
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            return int(self._rows[bucket][at])
        return None

    def add(self, key: int, row: int) -> None:
        """Record `key` first seen on `row` (callers check first_row before)."""
        bucket = key >> self._shift
        keys = self._keys[bucket]
        at = bisect_left(keys, key)
        keys.insert(at, key)
        self._rows[bucket].insert(at, row)
        self._count += 1
