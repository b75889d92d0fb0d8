"""A small time-bounded cache for expensive parts of public pages (the home page's counts)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class TTLCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        hit = self._values.get(key)
        if hit and now - hit[0] < self.seconds:
            return hit[1]
        value = compute()
        if len(self._values) > 256:
            self._values.clear()
        self._values[key] = (now, value)
        return value
