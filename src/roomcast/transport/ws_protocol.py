"""uvicorn's WebSocket protocol with one addition: sending frames that are already built.

A broadcast to a thousand connections would otherwise be UTF-8 encoded and framed a
thousand times. With this protocol the ASGI app may send
``{"type": "roomcast.websocket.frame", "frame": <bytes>}``; the bytes go to the socket
as they are, after the same back-pressure wait as an ordinary send.

The extension also offers ``write(data) -> bool``: a synchronous write of complete frames
that succeeds only when the connection is open and not back-pressured (with
``buffered() -> int`` and ``abort()``, see :mod:`roomcast.transport.direct_write`). It lets a
broadcast reach a thousand sockets in one pass of the event loop instead of waking a
thousand writer tasks; on ``False`` the app falls back to the awaited send. Apps see the
``roomcast.websocket.frame`` scope extension only when it is available.

Its receive queue and writable flag are the slim ones of :mod:`roomcast.transport.slim_sync`,
and it lets go of the handshake once accepted: an idle connection costs several KiB less.
"""

from __future__ import annotations

import logging
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from roomcast.transport.direct_write import DirectWrite
from roomcast.transport.frames import FRAME_EXTENSION, FRAME_MESSAGE
from roomcast.transport.slim_sync import SlimEvent, SlimQueue

__all__ = ["FramedWebSocketProtocol"]

log = logging.getLogger("uvicorn.error")


class FramedWebSocketProtocol(WebSocketsSansIOProtocol, DirectWrite):
    """The sans-I/O websockets protocol of uvicorn, accepting pre-framed messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Same interface as the asyncio originals, as uvicorn uses them.
        self.queue = SlimQueue()  # type: ignore[assignment]
        self.writable = SlimEvent()  # type: ignore[assignment]
        self.writable.set()

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][FRAME_EXTENSION] = {
                "write": self.write_now,
                "buffered": self.buffered_bytes,
                "abort": self.abort,
            }

    def send_receive_event_to_app(self) -> None:
        # uvicorn answers invalid UTF-8 with close code 1007, as it should, but logs a
        # traceback at ERROR for it: any client could fill the log. Check first and
        # answer the same way with one line at INFO.
        if self.curr_msg_data_type == "text" and not self.close_sent:
            data = b"".join(self.frames)
            if not data.isascii():  # ASCII is valid UTF-8; isascii is much cheaper
                try:
                    data.decode()
                except UnicodeDecodeError:
                    log.info("invalid UTF-8 in a text message; closing with 1007")
                    self.frames = []
                    self.conn.send_close(1007)
                    self.handle_parser_exception()
                    return
        super().send_receive_event_to_app()

    async def send(self, message: Any) -> None:
        if message["type"] != FRAME_MESSAGE:
            await super().send(message)
            if message["type"] == "websocket.accept" and self.handshake_complete:
                # The handshake's request and response (headers and all, about 2 KiB)
                # are not used again; an idle connection need not keep them.
                self.request = self.response = None  # type: ignore[assignment]
            return
        await self.writable.wait()
        # Frames are never fragmented, so a whole frame may go between the library's own.
        if self.disconnected or self.close_sent or self.transport.is_closing():
            raise ClientDisconnected()
        self.transport.write(message["frame"])
