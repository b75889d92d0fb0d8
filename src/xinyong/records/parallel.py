"""Reading and validating a large file in a second process while the first one stores.

Validation is pure, so it can run beside the database work on the other core. The worker opens the file
itself (an open iterator cannot cross processes), validates chunk by chunk and sends the results through
a bounded queue, which keeps memory flat however long the file is. A whole-file problem raised in the
worker (wrong encoding in row N, missing columns) travels back, after the rows before it, and is raised
again in the caller, so both paths store and report the same. The spawn start method is used: a forked
child would inherit the parent's database connections.

The caller may read and validate the first rows itself (`FileJob.skip_rows`, which the worker then skips),
so that it has a chunk to store while the worker's interpreter is still starting.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import sys
import threading
import traceback
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import cast

from xinyong.catalog import load_catalog
from xinyong.errors import FileRejected
from xinyong.records.readers import open_table
from xinyong.records.validation import ChunkValidator, CleanRow, Problem, validated_chunks

QUEUE_CHUNKS = 3  # chunks in flight: bounds the memory of a run
POLL_SECONDS = 1.0


@dataclass(frozen=True)
class FileJob:
    path: Path
    record_type: str
    catalog_dirs: tuple[Path, ...]
    department_code: str
    today: date
    max_bytes: int
    max_xlsx_uncompressed: int
    chunk_rows: int
    filename: str | None
    skip_rows: int = 0  # rows the caller validates itself: read and passed over, not validated nor sent


@dataclass
class FileHead:
    format: str
    encoding: str | None
    file_problems: list[Problem]


def _sender(out: multiprocessing.Queue):  # type: ignore[no-untyped-def, type-arg]
    """put() that gives up when the parent is gone (killed mid-import), instead of blocking forever."""
    parent = os.getppid()

    def put(item: object) -> None:
        while True:
            try:
                out.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                if os.getppid() != parent:
                    os._exit(1)

    return put


def _worker(job: FileJob, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    put = _sender(out)
    try:
        record_type = load_catalog(job.catalog_dirs).get(job.record_type)
        with open_table(
            job.path, max_bytes=job.max_bytes, max_xlsx_uncompressed=job.max_xlsx_uncompressed, filename=job.filename
        ) as table:
            if not table.headers:
                raise FileRejected("empty-file", "文件为空或没有表头")
            validator = ChunkValidator(record_type, table.headers, department_code=job.department_code, today=job.today)
            put(("head", FileHead(table.format, table.encoding, validator.file_problems)))
            # Everything loaded so far lives as long as this process: the collector's full passes, set off by
            # the rows of every chunk, need not walk it again each time.
            gc.freeze()
            # A file that breaks midway (a bad byte): the rows before the break are sent first, then the error.
            for chunk in validated_chunks(validator, islice(table.rows, job.skip_rows, None), job.chunk_rows):
                put(("chunk", chunk))
        put(("done", None))
    except FileRejected as exc:
        put(("rejected", (exc.problem_code, exc.reason, exc.details.get("row"))))
    except BaseException:  # anything else: report it rather than leave the caller waiting
        put(("crashed", traceback.format_exc(limit=5)))


_main_lock = threading.Lock()


@contextmanager
def _without_main_module() -> Iterator[None]:
    """Start a process without it importing this program's main module first, as spawned processes do when the
    parent's `__main__` has a file or module name (the command line's, the web server's, a benchmark's: every
    package of the platform, 0.7 s of the worker's start). The worker needs nothing from it: its function and
    its job live in this module. The start reads `sys.modules["__main__"]` once, while the lock is held."""
    with _main_lock:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


class ParallelFile:
    """Context manager that starts the worker: then ``receive_head()`` once it has read the header (not
    needed before ``chunks()``, which takes it first)."""

    def __init__(self, job: FileJob) -> None:
        context = multiprocessing.get_context("spawn")
        self._queue = context.Queue(maxsize=QUEUE_CHUNKS)
        self._process = context.Process(target=_worker, args=(job, self._queue), daemon=True)
        self.head: FileHead | None = None

    def __enter__(self) -> ParallelFile:
        with _without_main_module():
            self._process.start()
        return self

    def receive_head(self) -> FileHead:
        if self.head is None:
            kind, value = self._receive()
            if kind != "head":
                self._raise(kind, value)
            self.head = value  # type: ignore[assignment]
        assert self.head is not None
        return self.head

    def __exit__(self, *exc: object) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(timeout=5)
        self._queue.close()

    def chunks(self) -> Iterator[list[CleanRow]]:
        self.receive_head()
        while True:
            kind, value = self._receive()
            if kind == "chunk":
                yield cast("list[CleanRow]", value)
            elif kind == "done":
                return
            else:
                self._raise(kind, value)

    def _receive(self) -> tuple[str, object]:
        while True:
            try:
                return self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not self._process.is_alive() and self._queue.empty():
                    raise RuntimeError("validation worker exited unexpectedly") from None

    @staticmethod
    def _raise(kind: str, value: object) -> None:
        if kind == "rejected":
            code, reason, row = cast("tuple[str, str, int | None]", value)
            raise FileRejected(code, reason, row=row)
        raise RuntimeError(f"validation worker failed:\n{value}")
