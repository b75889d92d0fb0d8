"""A settled server process stays settled after an import has run in it (the import freezes the heap while it
runs and made everything collectable again when it ended, the server's start-up objects too)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from xinyong import heap


@pytest.fixture(autouse=True)
def unsettled() -> Iterator[None]:
    heap._settled = False  # whatever an earlier test of this process settled
    gc.unfreeze()
    try:
        yield
    finally:
        heap._settled = False
        gc.unfreeze()


def test_a_run_keeps_the_heap_out_of_full_passes_while_it_runs_and_only_then() -> None:
    with heap.frozen_while_running():
        assert gc.get_freeze_count() > 0
        with heap.frozen_while_running():  # a second run beside the first
            pass
        assert gc.get_freeze_count() > 0  # the first is still running
    assert gc.get_freeze_count() == 0


def test_a_run_in_a_settled_process_leaves_it_settled() -> None:
    kept = heap.settle()
    assert kept > 0
    with heap.frozen_while_running():
        garbage: list[object] = []
        garbage.append(garbage)  # a cycle made during the run, dropped before it ends
        del garbage
    assert gc.get_freeze_count() >= kept * 0.9  # settled again, without the run's garbage
