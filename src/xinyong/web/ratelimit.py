"""A per-client, in-memory rate limit for the public look-ups (anti-scraping).

A fixed window per client address: cheap, and enough to make bulk harvesting slow. In-memory means per
process; several workers each keep their own counts, which only loosens the limit by that factor.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import Depends, Request

from xinyong.errors import DomainError
from xinyong.web.client import client_address


class RateLimited(DomainError):
    code = "rate-limited"
    status_code = 429
    message_template = "查询过于频繁，请 {retry_after} 秒后再试"

    @property
    def retry_after(self) -> int:
        return int(self.details.get("retry_after", 60))  # type: ignore[call-overload]


class TooManyAttempts(DomainError):
    code = "too-many-attempts"
    status_code = 429
    message_template = "尝试过于频繁，请稍后再试"


class RateLimiter:
    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = max(1, window_seconds)
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._clock = time.monotonic  # replaceable in tests
        self._last_purge = 0

    def hit(self, client: str) -> None:
        """Count one request; raises RateLimited when the client is over its limit in this window."""
        if self.limit <= 0:
            return
        now = self._clock()
        window = int(now // self.window)
        with self._lock:
            if window != self._last_purge:
                # Old windows are useless: forget them so memory stays bounded by active clients.
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
                self._last_purge = window
            start, count = self._counts.get(client, (window, 0))
            if start != window:
                count = 0
            count += 1
            self._counts[client] = (window, count)
        if count > self.limit:
            retry = int((window + 1) * self.window - now) + 1
            raise RateLimited(retry_after=retry)


async def limit(request: Request) -> None:
    """Dependency: count this request against the client's budget of public look-ups."""
    limiter: RateLimiter = request.app.state.portal_limiter
    limiter.hit(client_address(request))


Limited = Depends(limit)


class AttemptLimiter:
    """Sign-in attempts per key (a client address) in a sliding window, per process; the account's own
    lockout, kept in the database, is what holds across processes."""

    def __init__(self, attempts: int, window_seconds: float = 900) -> None:
        self.attempts = attempts
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        if self.attempts <= 0:
            return True
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.attempts:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for stale in [k for k, v in self._hits.items() if not v or now - v[-1] > self.window]:
                    del self._hits[stale]
            return True
