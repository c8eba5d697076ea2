"""Token buckets: ``rate`` events a second sustained, ``burst`` at once. Time is passed in.

:class:`TokenBucket` limits one thing (a connection's events); :class:`KeyedBuckets` one
bucket per key (an API key, a client address), with bounded memory.
"""

from __future__ import annotations

import math

__all__ = ["KeyedBuckets", "TokenBucket", "retry_after_header"]


class TokenBucket:
    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._stamp = now

    def allow(self, now: float, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if there are enough; False means the event is over the limit."""
        return self.take(now, cost) == 0.0

    def take(self, now: float, cost: float = 1.0) -> float:
        """Take ``cost`` tokens and return 0, or return the seconds until there are enough."""
        if now > self._stamp:  # a clock that went back must not credit the same time twice
            self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
            self._stamp = now
        if self._tokens < cost:
            return (cost - self._tokens) / self._rate
        self._tokens -= cost
        return 0.0


# Bounded memory under a flood from many addresses: the least recently seen are forgotten.
# Forgetting a key only gives it a full bucket again, so this bounds memory, not fairness.
MAX_KEYS = 10_000


class KeyedBuckets:
    """One :class:`TokenBucket` per key, made full on first use."""

    def __init__(self, rate: float, burst: int, max_keys: int = MAX_KEYS) -> None:
        self.rate = rate
        self.burst = burst
        self._max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, now: float) -> float:
        """Take a token from ``key``'s bucket: 0, or the seconds until one is there."""
        bucket = self._buckets.pop(key, None) or TokenBucket(self.rate, self.burst, now)
        self._buckets[key] = bucket  # (re-)inserted last: the most recently seen
        while len(self._buckets) > self._max_keys:
            del self._buckets[next(iter(self._buckets))]  # dicts keep insertion order
        return bucket.take(now)


def retry_after_header(seconds: float) -> str:
    """Whole seconds for an HTTP ``Retry-After`` header: never 0 while refused."""
    return str(max(1, math.ceil(seconds)))
