"""Many timers of one kind, rounded down to a tick, sharing one event-loop timer per tick.

Every Engine.IO session always has a heartbeat due. One loop timer each would cost an
idle connection about 0.5 KiB (a uvloop ``TimerHandle`` and its libuv timer) and one
allocation per ping; here a session is one entry in a list until its tick comes.
Cancelling is lazy: :meth:`add` returns the tick, the owner remembers it, and an entry
whose owner has since moved on (or closed) is ignored when it falls due.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import Generic, TypeVar

from roomcast.log_context import detached

__all__ = ["TimerWheel"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class TimerWheel(Generic[T]):
    """Calls ``due(item, tick)`` for each item when its delay has passed, up to a tick early.

    Early rather than late: a session must be closed by the time its ping timeout ends.
    """

    __slots__ = ("_due", "_slots", "_tick")

    def __init__(self, tick: float, due: Callable[[T, int], None]) -> None:
        self._tick = tick
        self._due = due
        self._slots: dict[int, list[T]] = {}

    def add(self, delay: float, item: T) -> int:
        """Schedule ``item``; returns the tick it is due at (its cancellation token)."""
        loop = asyncio.get_running_loop()
        tick = math.floor((loop.time() + delay) / self._tick)
        items = self._slots.get(tick)
        if items is None:
            items = self._slots[tick] = []
            # Detached: the tick fires for many owners, not for the one that added first.
            loop.call_at(tick * self._tick, self._fire, tick, context=detached())
        items.append(item)
        return tick

    def _fire(self, tick: int) -> None:
        for item in self._slots.pop(tick, ()):
            try:
                self._due(item, tick)
            except Exception:  # one failing owner must not stop the others' timers
                log.exception("timer callback failed for %r", item)

    def __len__(self) -> int:
        return sum(map(len, self._slots.values()))
