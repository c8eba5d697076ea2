"""Each room's messages once, in offset order, whatever order they arrive in (sans-I/O).

Messages come from three places that overlap: live broadcasts, the messages of a
``join`` ack, and the ack of a ``join`` with ``since`` after a reconnect or a gap.
Offsets are gapless per room, so "delivered up to N" is all a room needs to remember.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RoomOrder"]


class RoomOrder:
    """One room's delivery point: messages up to ``delivered`` have been handed on.

    Created with ``delivered=None`` while the first join is in flight: live messages
    are held until :meth:`start` says where the stream begins.
    """

    __slots__ = ("_ahead", "delivered")

    def __init__(self, delivered: int | None) -> None:
        self.delivered = delivered
        self._ahead: dict[int, dict[str, Any]] = {}

    @property
    def started(self) -> bool:
        return self.delivered is not None

    @property
    def has_gap(self) -> bool:
        """Messages are held that cannot be delivered until missing ones arrive."""
        return self.started and bool(self._ahead)

    def start(self, delivered: int) -> list[dict[str, Any]]:
        """Begin after offset ``delivered``; returns the held messages now in order."""
        self.delivered = delivered
        return self._drain()

    def accept(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """Take a message; returns those that can now be delivered, in order."""
        offset = message.get("offset")
        if not isinstance(offset, int) or isinstance(offset, bool):
            return []
        if self.delivered is not None and offset <= self.delivered:
            return []  # a duplicate
        self._ahead.setdefault(offset, message)
        return self._drain() if self.delivered is not None else []

    def _drain(self) -> list[dict[str, Any]]:
        assert self.delivered is not None
        ready: list[dict[str, Any]] = []
        for offset in [o for o in self._ahead if o <= self.delivered]:
            del self._ahead[offset]
        while (message := self._ahead.pop(self.delivered + 1, None)) is not None:
            ready.append(message)
            self.delivered += 1
        return ready
