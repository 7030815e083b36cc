"""Failed authentication attempts, counted per client address over a sliding minute."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque

_MAX_ADDRESSES = 10_000  # the oldest addresses are forgotten past this, so memory stays bounded


class FailureLimiter:
    """Blocks an address after ``max_failures`` failed attempts within ``window`` seconds.

    Thread safe. Memory is bounded: at most ``max_failures`` timestamps for each of the
    10,000 most recently failing addresses.
    """

    def __init__(self, max_failures: int, window: float = 60.0) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> float:
        """Seconds until ``address`` may try again; 0 when it is not blocked."""
        now = time.monotonic()
        with self._lock:
            stamps = self._failures.get(address)
            if stamps is None:
                return 0.0
            while stamps and stamps[0] <= now - self.window:
                stamps.popleft()
            if len(stamps) < self.max_failures:
                return 0.0
            return max(stamps[0] + self.window - now, 0.0)

    def fail(self, address: str) -> bool:
        """Count a failed attempt; returns True when this one blocks the address."""
        with self._lock:
            stamps = self._failures.pop(address, None) or deque(maxlen=self.max_failures)
            stamps.append(time.monotonic())
            self._failures[address] = stamps
            while len(self._failures) > _MAX_ADDRESSES:
                self._failures.popitem(last=False)
            return len(stamps) == self.max_failures
