"""Whole WebSocket frames written straight onto the socket, for both WebSocket protocols.

Both :class:`~roomcast.transport.ws_protocol.FramedWebSocketProtocol` (behind ASGI) and
:class:`~roomcast.transport.ws_connection.WebSocketConnection` (without it) offer this
synchronous write to the Engine.IO session, which falls back to its writer task when the
write is refused.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

__all__ = ["DirectWrite"]


class _Flag(Protocol):
    def is_set(self) -> bool: ...


class _WriteState(Protocol):
    """What ``write_now`` reads of the protocol it is mixed into."""

    @property
    def transport(self) -> asyncio.Transport: ...
    @property
    def writable(self) -> _Flag: ...
    @property
    def disconnected(self) -> bool: ...
    @property
    def close_sent(self) -> bool: ...


class DirectWrite:
    """Adds ``write_now`` to a WebSocket protocol with the attributes of ``_WriteState``."""

    __slots__ = ()

    def write_now(self: _WriteState, data: bytes) -> bool:
        """Write complete frames at once; False when closed or when the socket is full."""
        if (
            not self.writable.is_set()
            or self.disconnected
            or self.close_sent
            or self.transport.is_closing()
        ):
            return False
        self.transport.write(data)
        return True
