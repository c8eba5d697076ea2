"""One Socket.IO session on namespace ``/`` over an Engine.IO v4 WebSocket.

It does the handshake, answers the server's pings, gives up on a server that stays
silent for longer than ``pingInterval + pingTimeout``, matches acks to calls and hands
events on. It does not reconnect: :class:`~roomcast.client.AsyncClient` opens a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from roomcast.client.errors import ConnectionFailed, error_from_wire
from roomcast.protocol import socketio as sio
from roomcast.protocol.engineio import Packet as EnginePacket
from roomcast.protocol.engineio import PacketType, decode_packet, encode_packet
from roomcast.protocol.errors import ProtocolError

__all__ = ["SERVER_DISCONNECT", "Connection", "Lost", "websocket_url"]

#: Why a connection ended when the server left the namespace on purpose: do not come back.
SERVER_DISCONNECT = "server disconnect"
# The server is the user's own and its messages are bounded by its settings; a resumed
# join can carry 500 messages of up to 64 KiB of data each, far over websockets' 1 MiB.
MAX_FRAME = 64 * 1024 * 1024
_PONG = encode_packet(EnginePacket(PacketType.PONG))

EventHandler = Callable[[str, list[Any]], None]
CloseHandler = Callable[[str], None]


class Lost(Exception):
    """The connection ended before a call was answered; the caller may retry on a new one."""


def websocket_url(url: str) -> str:
    """The Engine.IO WebSocket endpoint for a server's base URL (http, https, ws or wss)."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"the server URL must be http(s)://host[:port], got {url!r}")
    path = parts.path.rstrip("/") + "/socket.io/"
    return urlunsplit((scheme, parts.netloc, path, "EIO=4&transport=websocket", ""))


class Connection:
    """A connected Socket.IO session; use :meth:`open` to make one."""

    def __init__(
        self,
        ws: ClientConnection,
        silence_limit: float,
        on_event: EventHandler,
        on_close: CloseHandler,
    ) -> None:
        self._ws = ws
        self._silence_limit = silence_limit
        self._on_event = on_event
        self._on_close = on_close
        self._decoder = sio.Decoder()
        self._ids = itertools.count()
        self._acks: dict[int, asyncio.Future[list[Any]]] = {}
        self._send_lock = asyncio.Lock()  # a binary event's frames must not interleave
        self._reason: str | None = None
        self._ended = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        auth: dict[str, Any],
        *,
        within: float,
        on_event: EventHandler,
        on_close: CloseHandler,
    ) -> Connection:
        """Connect to namespace ``/`` with ``auth``.

        ``on_event(name, args)`` gets the server's events; ``on_close(reason)`` is called
        once when the session ends, before the calls waiting on it raise :class:`Lost`.

        Raises :class:`ConnectionFailed` if the server cannot be reached in ``within``
        seconds, and the error of its code (e.g. ``BadRequest``) if it refuses.
        """
        endpoint = websocket_url(url)
        try:
            async with asyncio.timeout(within):
                ws = await connect(
                    endpoint,
                    open_timeout=None,  # the timeout above covers the whole handshake
                    ping_interval=None,  # Engine.IO has its own heartbeat
                    compression=None,  # Roomcast turns it off; do not offer it
                    max_size=MAX_FRAME,
                    close_timeout=2,
                )
                try:
                    conn = await cls._handshake(ws, auth, on_event, on_close)
                except BaseException:
                    await ws.close()
                    raise
        except TimeoutError:
            raise ConnectionFailed(f"no answer from {url} within {within:g} s") from None
        except (OSError, WebSocketException) as error:
            raise ConnectionFailed(f"cannot connect to {url}: {error}") from None
        except ProtocolError as error:
            raise ConnectionFailed(f"{url} does not speak Engine.IO v4: {error}") from None
        conn._reader = asyncio.create_task(conn._read(), name="roomcast-client-reader")
        return conn

    @classmethod
    async def _handshake(
        cls,
        ws: ClientConnection,
        auth: dict[str, Any],
        on_event: EventHandler,
        on_close: CloseHandler,
    ) -> Connection:
        opening = decode_packet(await ws.recv())
        if opening.type is not PacketType.OPEN or not isinstance(opening.data, str):
            raise ProtocolError("the first packet is not an open packet")
        try:
            params = json.loads(opening.data)
            silence_limit = (params["pingInterval"] + params["pingTimeout"]) / 1000
        except (ValueError, KeyError, TypeError):
            raise ProtocolError("the open packet has no pingInterval and pingTimeout") from None
        conn = cls(ws, silence_limit, on_event, on_close)
        await conn._send(sio.SioPacket(sio.PacketType.CONNECT, data=auth))
        while True:
            packet = await conn._receive()
            if packet is None:
                continue
            if packet.type is sio.PacketType.CONNECT:
                return conn
            if packet.type is sio.PacketType.CONNECT_ERROR:
                raise error_from_wire(packet.data, "the server refused the connection: ")

    # -- calls -----------------------------------------------------------------------------

    async def call(self, event: str, payload: Any) -> list[Any]:
        """Emit ``event`` with ``payload`` and return the ack's arguments; raises :class:`Lost`."""
        if self._reason is not None:
            raise Lost(self._reason)
        ack_id = next(self._ids)
        answer: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = answer
        try:
            await self._send(sio.SioPacket(sio.PacketType.EVENT, data=[event, payload], id=ack_id))
            return await answer
        finally:
            self._acks.pop(ack_id, None)
            if answer.done() and not answer.cancelled():
                answer.exception()  # retrieved: a send that failed leaves it unawaited

    async def _send(self, packet: sio.SioPacket) -> None:
        frames = sio.encode(packet)
        try:
            async with self._send_lock:
                for frame in frames:
                    # Engine.IO message packets: text gets the "4" type, binary goes as is.
                    await self._ws.send("4" + frame if isinstance(frame, str) else frame)
        except ConnectionClosed:
            raise Lost("connection closed") from None

    # -- reading ---------------------------------------------------------------------------

    async def _receive(self) -> sio.SioPacket | None:
        """The next Socket.IO packet, or None after an Engine.IO packet of its own.

        Raises :class:`Lost` when the server closes the session.
        """
        frame = await self._ws.recv()
        packet = decode_packet(frame)
        if packet.type is PacketType.MESSAGE:
            return self._decoder.feed(packet.data)
        if packet.type is PacketType.PING:
            await self._ws.send(_PONG)
        elif packet.type is PacketType.CLOSE:
            raise Lost("server closed the session")
        return None

    async def _read(self) -> None:
        reason = "transport closed"
        try:
            while True:
                # The server pings every pingInterval; silence past pingTimeout more means
                # it is gone, even if no TCP error says so.
                async with asyncio.timeout(self._silence_limit):
                    packet = await self._receive()
                if packet is None:
                    continue
                if packet.type in (sio.PacketType.EVENT, sio.PacketType.BINARY_EVENT):
                    name, *args = packet.data
                    self._on_event(str(name), args)
                elif packet.type in (sio.PacketType.ACK, sio.PacketType.BINARY_ACK):
                    answer = self._acks.get(packet.id) if packet.id is not None else None
                    if answer is not None and not answer.done():
                        answer.set_result(packet.data)
                elif packet.type is sio.PacketType.DISCONNECT:
                    reason = SERVER_DISCONNECT
                    return
        except TimeoutError:
            reason = "ping timeout"
        except Lost as lost:
            reason = str(lost)
        except ConnectionClosed:
            reason = "transport closed"
        except ProtocolError as error:
            reason = f"parse error: {error}"
        finally:
            if reason == "ping timeout":
                # Nothing answers on a dead connection: a closing handshake would only wait.
                self._ws.transport.abort()
            self._end(reason)
            await self._ws.close()

    def _end(self, reason: str) -> None:
        if self._reason is not None:
            return
        self._reason = reason
        self._on_close(reason)
        for answer in self._acks.values():
            if not answer.done():
                answer.set_exception(Lost(reason))
        self._ended.set()

    @property
    def closed(self) -> bool:
        return self._reason is not None

    async def wait_closed(self) -> str:
        """Wait until the session ends; returns why."""
        await self._ended.wait()
        assert self._reason is not None
        return self._reason

    async def close(self) -> None:
        """Leave the namespace and close the WebSocket."""
        if self._reason is None:
            with contextlib.suppress(Lost):  # already gone: nothing to tell
                await self._send(sio.SioPacket(sio.PacketType.DISCONNECT))
            self._end("client closed")
        await self._ws.close()
        if self._reader is not None:
            await self._reader
