"""Throttling of failed logins, per client address, in memory.

After ``attempts`` failures within ``window`` seconds a client must wait until the oldest
one leaves the window; a success clears its record. Brute force then costs minutes, not
milliseconds, while a user who mistypes twice never notices.
"""

from __future__ import annotations

import time
from collections import deque


class LoginThrottle:
    """Counts recent failed logins per client."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, client: str, now: float | None = None) -> float:
        """Seconds ``client`` must wait before trying again (0: may try now)."""
        now = time.monotonic() if now is None else now
        failures = self._recent(client, now)
        if len(failures) < self.attempts:
            return 0.0
        return max(0.0, failures[0] + self.window - now)

    def failed(self, client: str, now: float | None = None) -> None:
        """Record a failed login of ``client``."""
        now = time.monotonic() if now is None else now
        self._recent(client, now).append(now)

    def succeeded(self, client: str) -> None:
        """Forget the failures of ``client``."""
        self._failures.pop(client, None)

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(client, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        # Keep memory bounded: forget clients with nothing recent.
        if len(self._failures) > 10_000:
            for key in [k for k, v in self._failures.items() if not v and k != client]:
                del self._failures[key]
        return failures
