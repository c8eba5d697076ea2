"""How many wrong console passwords one client address may try: a few a minute.

A sliding window of failures per address. Only wrong passwords count, so a facilitator
who signs in again and again is never locked out; a guesser gets ``MAX_FAILURES`` tries
a minute. The check comes before the (deliberately slow) scrypt hash, so a flood of
guesses costs the server almost nothing. Time is passed in.
"""

from __future__ import annotations

from collections import deque

__all__ = ["SignInThrottle"]

MAX_FAILURES = 5
WINDOW_S = 60.0
# Bounded memory even under a flood from many addresses: the stalest are forgotten first.
MAX_ADDRESSES = 10_000


class SignInThrottle:
    """Counts failed sign-ins per client address within a sliding window."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, address: str, now: float) -> float:
        """Seconds until ``address`` may try again; 0 when it may try now."""
        failures = self._prune(address, now)
        if len(failures) < self.max_failures:
            return 0.0
        return max(0.0, failures[0] + self.window_s - now)

    def failed(self, address: str, now: float) -> None:
        """Record a wrong password from ``address``."""
        failures = self._prune(address, now)
        failures.append(now)
        self._failures[address] = failures
        while len(self._failures) > self._max_addresses:
            del self._failures[next(iter(self._failures))]  # dicts keep insertion order

    def succeeded(self, address: str) -> None:
        """Forget ``address``'s failures: the facilitator got in."""
        self._failures.pop(address, None)

    def _prune(self, address: str, now: float) -> deque[float]:
        failures = self._failures.pop(address, None) or deque()
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if failures:
            self._failures[address] = failures  # re-inserted: now the most recent
        return failures
