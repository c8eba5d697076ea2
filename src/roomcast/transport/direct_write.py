"""Whole WebSocket frames written straight onto the socket, for both WebSocket protocols.

Both :class:`~roomcast.transport.ws_protocol.FramedWebSocketProtocol` (behind ASGI) and
:class:`~roomcast.transport.ws_connection.WebSocketConnection` (without it) offer this
synchronous write to the Engine.IO session, which falls back to its writer task when the
write is refused. They also tell the session how many bytes the socket's buffer holds and
let it abort the socket: a peer that stopped reading is cut off at once, not after a close
handshake it will never answer (closing waits for the buffer to drain, which never happens).
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

    def buffered_bytes(self: _WriteState) -> int:
        """Bytes written but not yet taken by the kernel."""
        return self.transport.get_write_buffer_size()

    def abort(self: _WriteState) -> None:
        """Drop the connection now, discarding what is buffered."""
        self.transport.abort()
