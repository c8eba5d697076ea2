"""An accepted WebSocket connection without ASGI: websockets' sans-I/O framing on a transport.

uvicorn's WebSocket protocol keeps, for the life of each connection, an attribute dict,
the ASGI scope with every request header, the handshake request (held by the websockets
parser) and the ASGI call chain's frames: several KiB per idle connection. An Engine.IO
WebSocket needs none of them once its handshake is answered, so
:mod:`roomcast.transport.fast_upgrade` hands such connections to this protocol instead.

It offers the app side of uvicorn's protocol that :class:`EngineServer` uses: ``receive()``
and ``send(message)`` with the same ASGI message shapes (``websocket.send``,
``websocket.close``, and the pre-framed ``roomcast.websocket.frame``), plus the
synchronous ``write_now``. Its behaviour on close, errors, back-pressure and server
shutdown is uvicorn's. There is no WebSocket-level keepalive: Engine.IO has its own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol

from roomcast.transport.asgi import Message
from roomcast.transport.direct_write import DirectWrite
from roomcast.transport.frames import FRAME_MESSAGE
from roomcast.transport.slim_sync import SlimEvent, SlimQueue

__all__ = ["WebSocketConnection"]

log = logging.getLogger("uvicorn.error")

#: Seconds to wait for the peer's reply to our close frame, as uvicorn does.
CLOSE_TIMEOUT = 10.0


class WebSocketConnection(DirectWrite, asyncio.Protocol):
    """One open WebSocket (handshake done): messages in through a queue, frames out."""

    __slots__ = (
        "_close_timer",
        "_connections",
        "_fragments",
        "_read_paused",
        "_text",
        "close_sent",
        "conn",
        "disconnected",
        "queue",
        "transport",
        "writable",
    )

    def __init__(
        self, transport: asyncio.Transport, conn: ServerProtocol, connections: set[Any]
    ) -> None:
        """Take over ``transport``; ``connections`` is uvicorn's set, for its shutdown."""
        self.transport = transport
        self.conn = conn
        self.queue: SlimQueue[Message] = SlimQueue()
        self.writable = SlimEvent()
        self.writable.set()
        self.close_sent = False
        self.disconnected = False
        self._close_timer: asyncio.TimerHandle | None = None
        self._read_paused = False
        self._fragments: list[bytes] | None = None  # parts of a fragmented message
        self._text = False
        self._connections = connections
        connections.add(self)

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_lost(self, exc: Exception | None) -> None:
        self.queue.put_nowait({"type": "websocket.disconnect", "code": 1005})
        self._connections.discard(self)
        self.disconnected = True
        # A send waiting for the buffer to drain would wait forever: it never drains now.
        self.writable.set()
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if exc is None:
            self.transport.close()

    def eof_received(self) -> None:
        return None  # the transport closes itself

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        conn.receive_data(data)
        if conn.parser_exc is not None:  # bad framing, a message over the size limit...
            assert conn.close_sent is not None
            self._closed_by_us(conn.close_sent.code, conn.close_sent.reason)
            return
        for event in conn.events_received():
            assert isinstance(event, Frame)  # the handshake request never reaches us
            opcode = event.opcode
            if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
                self._text = opcode is Opcode.TEXT
                if event.fin:
                    self._deliver(bytes(event.data))
                else:
                    self._fragments = [bytes(event.data)]
            elif opcode is Opcode.CONT:
                if self._fragments is not None:
                    self._fragments.append(bytes(event.data))
                    if event.fin:
                        data, self._fragments = b"".join(self._fragments), None
                        self._deliver(data)
            elif opcode is Opcode.PING:
                self._write_pending()  # the library has queued the pong
            elif opcode is Opcode.CLOSE:
                self._close_received()
            # An unsolicited pong needs nothing: this side sends no pings.

    def shutdown(self) -> None:
        """Called by uvicorn on server shutdown: close with 1012 (service restart)."""
        if self.close_sent:
            if self._close_timer is not None:
                self._close_timer.cancel()
                self._close_timer = None
            self.transport.close()
            return
        self.queue.put_nowait({"type": "websocket.disconnect", "code": 1012})
        self.conn.send_close(1012)
        self._write_pending()
        self.transport.close()

    # -- incoming --------------------------------------------------------------------------

    def _deliver(self, data: bytes) -> None:
        if self.close_sent:
            return  # past our close: read on until the peer's close reply, drop the rest
        if self._text:
            try:
                message: Message = {"type": "websocket.receive", "text": data.decode()}
            except UnicodeDecodeError:
                log.info("invalid UTF-8 in a text message; closing with 1007")
                # The framing is intact: close with the handshake, reading on for the
                # peer's reply. Cutting the TCP connection at once made a peer that was
                # still sending see a reset (1006) instead of our 1007.
                self._begin_close(1007, "")
                return
        else:
            message = {"type": "websocket.receive", "bytes": data}
        self.queue.put_nowait(message)
        # One message at a time: the app resumes reading once it has taken the queue.
        if not self._read_paused:
            self._read_paused = True
            self.transport.pause_reading()

    def _close_received(self) -> None:
        if self.close_sent:  # the peer's reply to our close: the handshake is complete
            if self._close_timer is not None:
                self._close_timer.cancel()
                self._close_timer = None
                self.transport.close()
            return
        if not self.transport.is_closing():
            close = self.conn.close_rcvd
            assert close is not None
            self.queue.put_nowait(
                {"type": "websocket.disconnect", "code": close.code, "reason": close.reason}
            )
            self._write_pending()  # the library has queued the close reply
            self.transport.close()

    def _closed_by_us(self, code: int, reason: str) -> None:
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self._write_pending()
        self.close_sent = True
        self.transport.close()

    async def receive(self) -> Message:
        """The next ASGI WebSocket message: a receive, or the disconnect."""
        message = await self.queue.get()
        if self._read_paused and self.queue.empty():
            self._read_paused = False
            self.transport.resume_reading()
        return message

    # -- outgoing --------------------------------------------------------------------------

    def _write_pending(self) -> None:
        self.transport.write(b"".join(self.conn.data_to_send()))

    async def send(self, message: Message) -> None:
        """Send ``roomcast.websocket.frame``, ``websocket.send`` or ``websocket.close``."""
        await self.writable.wait()
        kind = message["type"]
        if kind == FRAME_MESSAGE:
            # Frames are never fragmented, so a whole frame may go between the library's own.
            if self.disconnected or self.close_sent or self.transport.is_closing():
                raise ClientDisconnected()
            self.transport.write(message["frame"])
            return
        if self.disconnected:
            raise ClientDisconnected()
        if self.close_sent:
            raise RuntimeError(f"Unexpected ASGI message {kind!r} after closing.")
        try:
            if kind == "websocket.send":
                data = message.get("bytes")
                if data is not None:
                    self.conn.send_binary(data)
                else:
                    self.conn.send_text(message["text"].encode())
                self._write_pending()
            elif kind == "websocket.close":
                if not self.transport.is_closing():
                    self._begin_close(message.get("code", 1000), message.get("reason", "") or "")
            else:
                raise RuntimeError(f"Unexpected ASGI message {kind!r} on an open WebSocket.")
        except InvalidState:
            raise ClientDisconnected() from None

    def _begin_close(self, code: int, reason: str) -> None:
        """Send our close frame and read on for the peer's reply (for CLOSE_TIMEOUT at most)."""
        self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self._write_pending()
        self.close_sent = True
        if self._read_paused:  # read on, for the peer's close reply
            self._read_paused = False
            self.transport.resume_reading()
        loop = asyncio.get_running_loop()
        self._close_timer = loop.call_later(CLOSE_TIMEOUT, self.transport.close)

    def app_done(self) -> None:
        """The app is done with the connection: close it, unless our close awaits its reply."""
        if self._close_timer is None:
            self.transport.close()
