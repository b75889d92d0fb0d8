"""The duplicate-文书号 index answers like a dict across its merges, in a fraction of the memory."""

from __future__ import annotations

import random
import tracemalloc

from xinyong.records.seen import SeenDocNos, digest


def test_answers_like_a_dict_across_merges():
    seen, reference = SeenDocNos(), {}
    seen.FLUSH_AT = 100  # many merges
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


def test_a_million_entries_take_tens_of_megabytes_not_a_hundred():
    tracemalloc.start()
    seen = SeenDocNos()
    for row in range(1_000_000):
        seen.add(digest(str(row)), row + 2)
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert current < 30 * 1024 * 1024
    assert seen.first_row(digest("999999")) == 1_000_001
