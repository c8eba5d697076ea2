"""``asyncio.Queue`` and ``asyncio.Event`` for one connection, without their preallocated deques.

Every asyncio queue holds three deques and an event another; each empty deque already
takes a 64-slot block (about 0.7 KiB). Kept per WebSocket connection, they cost several
KiB of an idle connection's memory. These two do the same job with a list and one future,
allocated only when someone waits. The queue serves one consumer at a time.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

__all__ = ["SlimEvent", "SlimQueue"]

T = TypeVar("T")


class SlimQueue(Generic[T]):
    """An unbounded FIFO with ``put_nowait``, ``await get()``, ``empty`` and ``qsize``."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> T:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        return self._items.pop(0)  # short: the reader pauses while anything is queued

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


class SlimEvent:
    """A flag with ``set``, ``clear``, ``is_set`` and ``await wait()``, any number of waiters."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter
        return True
