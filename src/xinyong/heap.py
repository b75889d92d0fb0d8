"""What the garbage collector's full passes walk in a long-lived process.

A full pass walks every object the collector tracks, and the event loop or the import that set it off waits
meanwhile: a server process holds some 350,000 such objects once its app is built (modules, routes, mappers,
templates, the catalogue), 0.17 s a pass on a quiet two-core machine. Objects that live for the whole process
are kept out of those passes (`gc.freeze`); they are not lost, only not looked at again."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_runs = 0  # runs inside `frozen_while_running`, in this process
_settled = False  # `settle` was called: what was frozen then stays frozen


def settle() -> int:
    """Keep what a server process built before serving out of every later full pass, and return how many objects
    that is. Garbage is collected first, so what is kept is only what lives anyway. For server processes only:
    a process that builds and drops many apps (the tests) would keep every one of them."""
    global _settled
    with _lock:
        gc.collect()
        gc.freeze()
        _settled = True
        return gc.get_freeze_count()


@contextmanager
def frozen_while_running() -> Iterator[None]:
    """Keep the objects that exist before a run (an import: each chunk allocates enough to set off a full pass
    about once a chunk) out of the full passes while it runs. When the last concurrent run of the process ends
    they are collectable again; in a settled server process they are then collected and settled once more,
    so that a run does not undo `settle`."""
    global _runs
    with _lock:
        if _runs == 0:
            gc.freeze()
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0:
                gc.unfreeze()
                if _settled:
                    gc.collect()
                    gc.freeze()
