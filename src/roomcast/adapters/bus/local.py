"""The in-process bus: a publication reaches this process's subscribers, in order, at once."""

from __future__ import annotations

import inspect
import logging

from roomcast.core.errors import Unavailable
from roomcast.ports import BusHandler

__all__ = ["LocalBus"]

log = logging.getLogger(__name__)


class LocalBus:
    """Fan-out inside one process; handlers are called synchronously, so order is kept."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[BusHandler]] = {}
        self._running = False

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False
        self._handlers.clear()

    async def publish(self, channel: str, payload: bytes) -> None:
        if not self._running:
            raise Unavailable("the bus is stopped")
        for handler in tuple(self._handlers.get(channel, ())):
            try:
                result = handler(channel, payload)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # a task boundary: one subscriber must not stop the others
                log.exception("bus subscriber failed on %s", channel)

    async def subscribe(self, channel: str, handler: BusHandler) -> None:
        self._handlers.setdefault(channel, []).append(handler)

    async def unsubscribe(self, channel: str, handler: BusHandler) -> None:
        handlers = self._handlers.get(channel, [])
        if handler in handlers:
            handlers.remove(handler)
