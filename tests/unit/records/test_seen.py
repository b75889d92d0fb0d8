"""The duplicate-文书号 index answers like a dict, in a fraction of the memory."""

from __future__ import annotations

import random
import tracemalloc

from xinyong.records.seen import SeenDocNos, digest


def test_answers_like_a_dict():
    seen, reference = SeenDocNos(bucket_bits=2), {}  # four buckets: hundreds of entries put in place in each
    rng = random.Random(7)
    for row in range(2, 2_000):
        doc_no = f"安市监罚〔2025〕{rng.randrange(1_500)}号"
        key = digest(doc_no)
        assert seen.first_row(key) == reference.get(key)
        if key not in reference:
            seen.add(key, row)
            reference[key] = row
    assert len(seen) == len(reference)
    assert seen.first_row(digest("从未出现的文书号")) is None
    for key, row in reference.items():
        assert seen.first_row(key) == row


def test_digests_at_the_ends_of_the_range_and_of_a_bucket():
    seen = SeenDocNos(bucket_bits=3)
    edges = [0, 1, (1 << 61) - 1, 1 << 61, (1 << 64) - 2, (1 << 64) - 1]
    for row, key in enumerate(reversed(edges), start=2):
        assert seen.first_row(key) is None
        seen.add(key, row)
    assert [seen.first_row(key) for key in edges] == [7, 6, 5, 4, 3, 2]
    assert seen.first_row(2) is None


def test_a_million_entries_take_tens_of_megabytes_not_a_hundred():
    tracemalloc.start()
    seen = SeenDocNos()
    for row in range(1_000_000):
        seen.add(digest(str(row)), row + 2)
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert current < 30 * 1024 * 1024
    assert seen.first_row(digest("999999")) == 1_000_001
