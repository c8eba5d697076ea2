"""The in-process bus: a publication reaches this process's subscribers, in order, at once."""

from __future__ import annotations

from collections.abc import Callable

from roomcast.adapters.bus.delivery import deliver
from roomcast.core.errors import Unavailable
from roomcast.ports import BusHandler

__all__ = ["LocalBus"]


class LocalBus:
    """Fan-out inside one process; handlers are called synchronously, so order is kept."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[BusHandler]] = {}
        self._running = False

    @property
    def healthy(self) -> bool:
        """Whether publications are delivered: from start to stop."""
        return self._running

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False
        self._handlers.clear()

    async def publish(self, channel: str, payload: bytes) -> None:
        if not self._running:
            raise Unavailable("the bus is stopped")
        await deliver(channel, payload, self._handlers.get(channel, ()))

    async def subscribe(self, channel: str, handler: BusHandler) -> None:
        self._handlers.setdefault(channel, []).append(handler)

    async def unsubscribe(self, channel: str, handler: BusHandler) -> None:
        handlers = self._handlers.get(channel, [])
        if handler in handlers:
            handlers.remove(handler)

    def on_recovered(self, listener: Callable[[], None]) -> None:
        """Never called: an in-process bus has no outages."""
