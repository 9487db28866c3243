"""Admission control: per-key rate limits and a bounded request queue (both answer fast when full)."""

from __future__ import annotations

import threading
import time


class RateLimiter:
    """A token bucket per API key: `per_minute` requests a minute, bursts up to `per_minute`.

    >>> limiter = RateLimiter(60)
    >>> limiter.take("key-a")   # None: allowed; a float: seconds to wait before retrying
    """

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        if self.capacity <= 0:
            return None
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


class QueueFull(Exception):
    pass


class Admission:
    """Counts requests admitted (waiting + generating); refuses new ones past `workers + queue_size`."""

    def __init__(self, workers: int, queue_size: int):
        self.capacity = workers + queue_size
        self.pending = 0
        self.running = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self.pending >= self.capacity:
                raise QueueFull(f"the server is at capacity ({self.capacity} requests admitted)")
            self.pending += 1

    def start(self) -> None:
        with self._lock:
            self.running += 1

    def leave(self, started: bool) -> None:
        with self._lock:
            self.pending -= 1
            if started:
                self.running -= 1

    @property
    def queue_depth(self) -> int:
        """Requests admitted but not generating yet."""
        return max(0, self.pending - self.running)
