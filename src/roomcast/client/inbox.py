"""Messages waiting to be read by the application, oldest first."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from roomcast.client.errors import again
from roomcast.core.errors import RoomcastError

__all__ = ["Inbox"]

log = logging.getLogger(__name__)


class Inbox:
    """A bounded queue of messages from which a reader may take one room's only.

    It fills from the moment the client connects, so nothing sent between a ``join``
    and the first read is missed. When full, the oldest message is dropped (and logged):
    a client that never reads must not grow without bound.
    """

    def __init__(self, maxlen: int) -> None:
        self._items: deque[dict[str, Any]] = deque()
        self._maxlen = maxlen
        self._waiters: list[asyncio.Future[None]] = []
        self._closed: RoomcastError | None = None
        self._overflowing = False

    def put(self, message: dict[str, Any]) -> None:
        if len(self._items) >= self._maxlen:
            self._items.popleft()
            if not self._overflowing:
                log.warning("inbox full (%d messages unread): dropping the oldest", self._maxlen)
            self._overflowing = True
        else:
            self._overflowing = False
        self._items.append(message)
        self._wake()

    @property
    def closed(self) -> bool:
        return self._closed is not None

    def close(self, error: RoomcastError) -> None:
        """Wake readers: once the inbox is empty they get ``error``."""
        self._closed = error
        self._wake()

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def _take(self, room: str | None) -> dict[str, Any] | None:
        for index, message in enumerate(self._items):
            if room is None or message.get("room") == room:
                del self._items[index]
                return message
        return None

    async def get(self, room: str | None = None) -> dict[str, Any]:
        """The oldest message (of ``room`` if given), waiting for one if there is none."""
        while (message := self._take(room)) is None:
            if self._closed is not None:
                raise again(self._closed)
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
        return message
