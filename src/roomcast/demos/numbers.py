"""``roomcast demo numbers``: a random number every second; the page keeps the last ten.

The classic "background thread emits a random number" tutorial, as a producer.
"""

from __future__ import annotations

import random

from roomcast.producers import Producer, producer

__all__ = ["ROOM", "numbers_producer"]

ROOM = "numbers"


def numbers_producer(every: float = 1.0) -> Producer:
    """A producer of ``{"n": <0-100, two decimals>}`` every ``every`` seconds."""

    @producer(ROOM, every=every, keep_last=1000, client_posts=False)
    def numbers() -> dict[str, float]:
        return {"n": round(random.uniform(0, 100), 2)}

    return numbers
