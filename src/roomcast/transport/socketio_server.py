"""Socket.IO v5 on top of Engine.IO: namespaces, events and acks, rooms, broadcast.

Namespaces are plugged in as :class:`NamespaceHandler` objects. A broadcast to a room
is encoded once and the same frame goes to every connection in it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from roomcast.core.recovery import RecoveryBuffer, SavedSession
from roomcast.errors import RoomcastError
from roomcast.protocol import socketio as sio
from roomcast.protocol.errors import ProtocolError
from roomcast.transport.engine_session import EngineSession
from roomcast.transport.frames import SharedText

__all__ = ["ConnectRefused", "NamespaceHandler", "SioConnection", "SioServer"]

log = logging.getLogger(__name__)

#: Connections to namespaces that do not exist that one session may ask for; an app's
#: client knows its few namespaces, so past this it is scanning, and it is closed.
MAX_UNKNOWN_NAMESPACES = 16


# Seconds a session refused by the engine (over an abuse limit) waits for its connect.
REFUSED_GRACE = 5.0


class ConnectRefused(RoomcastError):
    """Raised by a namespace's ``on_connect`` to refuse; the client gets ``connect_error``."""

    code = "forbidden"


class NamespaceHandler(Protocol):
    """What an application implements for one namespace."""

    async def on_connect(self, conn: SioConnection, auth: dict[str, Any], recovered: bool) -> None:
        """Accept (return) or refuse (raise RoomcastError) a connection."""

    async def on_event(
        self, conn: SioConnection, event: str, args: list[Any]
    ) -> list[Any] | sio.EncodedJSON | None:
        """Handle an event; the returned list is sent as the ack's arguments."""

    def on_disconnect(self, conn: SioConnection, reason: str) -> None:
        """The connection left the namespace, for ``reason``."""


@dataclass(eq=False, slots=True)
class SioConnection:
    """One client's connection to one namespace (a Socket.IO "socket")."""

    server: SioServer
    session: EngineSession
    namespace: str
    sid: str
    pid: str | None
    auth: dict[str, Any]
    rooms: set[str] = field(default_factory=set)
    #: Application state kept with the connection (and restored on recovery).
    data: dict[str, Any] = field(default_factory=dict)
    connected: bool = True

    def emit(self, event: str, *args: Any) -> None:
        """Send an event to this connection only."""
        frames = sio.encode(sio.SioPacket(sio.PacketType.EVENT, self.namespace, [event, *args]))
        self.session.send_many(_as_engine_messages(frames))

    def join(self, room: str) -> None:
        self.server.join(self, room)

    def leave(self, room: str) -> None:
        self.server.leave(self, room)

    def disconnect(self) -> None:
        """Leave the namespace from the server side; the client is told."""
        self.server.disconnect(self, "server namespace disconnect", notify=True)


def _as_engine_messages(frames: list[str | bytes]) -> list[str | bytes]:
    """Socket.IO frames as Engine.IO message frames (text gets the ``4`` prefix)."""
    return ["4" + frame if isinstance(frame, str) else frame for frame in frames]


@dataclass(slots=True)
class _Client:
    """Per Engine.IO session: its decoder and its namespace connections."""

    decoder: sio.Decoder
    connections: dict[str, SioConnection] = field(default_factory=dict)
    connect_timer: asyncio.TimerHandle | None = None
    #: Runs while a binary packet waits for its attachments.
    attachment_timer: asyncio.TimerHandle | None = None
    unknown_namespaces: int = 0


class SioServer:
    """The Engine.IO handler that speaks Socket.IO."""

    def __init__(
        self,
        *,
        connect_timeout: float,
        recovery_window: float = 0.0,
        max_attachments: int = 10,
        max_packet: int | None = None,
        attachment_timeout: float = 20.0,
        clock: Any = time.monotonic,
    ) -> None:
        """``max_packet`` bounds a binary packet with its attachments (bytes);
        ``attachment_timeout`` is how long its attachments may take to come."""
        self.namespaces: dict[str, NamespaceHandler] = {}
        self.connect_timeout = connect_timeout
        self.max_attachments = max_attachments
        self.max_packet = max_packet
        self.attachment_timeout = attachment_timeout
        self._rooms: dict[tuple[str, str], set[SioConnection]] = {}
        self._live: dict[str, SioConnection] = {}  # by private id, for recovery
        self._clock = clock
        self.deliveries = 0  # broadcast packets handed to connections, for /metrics
        self.refused: Counter[str] = Counter()  # refused connections by error code
        self.recovery = (
            RecoveryBuffer(recovery_window, epoch=secrets.token_hex(4))
            if recovery_window > 0
            else None
        )

    def register(self, namespace: str, handler: NamespaceHandler) -> None:
        self.namespaces[namespace] = handler

    # -- rooms and broadcast ---------------------------------------------------------------

    def join(self, conn: SioConnection, room: str) -> None:
        conn.rooms.add(room)
        self._rooms.setdefault((conn.namespace, room), set()).add(conn)

    def leave(self, conn: SioConnection, room: str) -> None:
        conn.rooms.discard(room)
        members = self._rooms.get((conn.namespace, room))
        if members is not None:
            members.discard(conn)
            if not members:
                del self._rooms[(conn.namespace, room)]

    def room_count(self) -> int:
        """Rooms (of every namespace) with at least one connection in them."""
        return len(self._rooms)

    def room_size(self, namespace: str, room: str) -> int:
        return len(self._rooms.get((namespace, room), ()))

    def broadcast(self, namespace: str, room: str, event: str, *args: Any) -> None:
        """Send an event to every connection in ``room``, encoded and framed once.

        With connection-state recovery on, the event carries a recovery offset as its
        last argument (as socket.io 4.6+ does) and is kept for replay.
        """
        self.broadcast_encoded(namespace, room, event, ",".join(map(sio.dumps, args)))

    def broadcast_encoded(self, namespace: str, room: str, event: str, args_json: str) -> None:
        """:meth:`broadcast` with the arguments already JSON-encoded, comma-separated."""
        head = "[" + sio.dumps(event) + ("," + args_json if args_json else "")
        if self.recovery is not None:
            offset = self.recovery.next_offset()
            text = "4" + sio.encode_event(
                namespace, sio.EncodedJSON(head + "," + sio.dumps(offset) + "]")
            )
            self.recovery.record(offset, namespace, room, text, self._clock())
        else:
            text = "4" + sio.encode_event(namespace, sio.EncodedJSON(head + "]"))
        members = self._rooms.get((namespace, room))
        if not members:
            return
        self.deliveries += len(members)
        frame = SharedText(text)  # WebSocket-framed once, on first send
        # A slow connection may close (and leave the room) while we iterate.
        for conn in tuple(members):
            conn.session.send(frame)

    # -- Engine.IO handler -----------------------------------------------------------------

    async def on_open(self, session: EngineSession) -> None:
        client = _Client(
            sio.Decoder(max_attachments=self.max_attachments, max_size=self.max_packet)
        )
        session.context = client
        loop = asyncio.get_running_loop()
        # A refused session only waits for its connect, to answer it with the refusal.
        timeout = self.connect_timeout
        if session.refusal is not None:
            timeout = min(timeout, REFUSED_GRACE)
        client.connect_timer = loop.call_later(timeout, self._connect_timed_out, session)

    def _connect_timed_out(self, session: EngineSession) -> None:
        client: _Client = session.context
        if not client.connections:
            session.close("connect timeout")

    async def on_message(self, session: EngineSession, data: str | bytes) -> None:
        client: _Client | None = session.context
        if client is None or session.closed:
            return
        try:
            packet = client.decoder.feed(data)
        except ProtocolError as error:
            log.info("closing session %s: %s", session.sid, error)
            session.close("parse error")
            return
        if packet is None:
            if client.attachment_timer is None:
                client.attachment_timer = asyncio.get_running_loop().call_later(
                    self.attachment_timeout, self._attachments_overdue, session
                )
            return
        if client.attachment_timer is not None:
            client.attachment_timer.cancel()
            client.attachment_timer = None
        await self._dispatch(session, client, packet)

    def _attachments_overdue(self, session: EngineSession) -> None:
        # Attachments follow their packet at once; ones that never come must not keep
        # the packet (up to max_packet bytes) for as long as the client answers pings.
        client: _Client = session.context
        client.attachment_timer = None
        if client.decoder.waiting_for_attachments:
            log.info("closing session %s: binary attachments did not come", session.sid)
            session.close("parse error")

    def on_close(self, session: EngineSession, reason: str) -> None:
        client: _Client | None = session.context
        if client is None:
            return
        if client.connect_timer is not None:
            client.connect_timer.cancel()
        if client.attachment_timer is not None:
            client.attachment_timer.cancel()
        for conn in list(client.connections.values()):
            self.disconnect(conn, reason, notify=False)

    # -- packets ---------------------------------------------------------------------------

    async def _dispatch(
        self, session: EngineSession, client: _Client, packet: sio.SioPacket
    ) -> None:
        kind = packet.type
        conn = client.connections.get(packet.namespace)
        if kind is sio.PacketType.CONNECT:
            if conn is None:
                await self._connect(session, client, packet)
        elif conn is None:
            log.debug("packet for unconnected namespace %s ignored", packet.namespace)
        elif kind in (sio.PacketType.EVENT, sio.PacketType.BINARY_EVENT):
            await self._event(conn, packet)
        elif kind is sio.PacketType.DISCONNECT:
            self.disconnect(conn, "client namespace disconnect", notify=False)
        # Acks from clients answer server emits with acks, which Roomcast does not make.

    async def _connect(
        self, session: EngineSession, client: _Client, packet: sio.SioPacket
    ) -> None:
        namespace = packet.namespace
        handler = self.namespaces.get(namespace)
        if handler is None:
            client.unknown_namespaces += 1
            if client.unknown_namespaces > MAX_UNKNOWN_NAMESPACES:
                log.info("closing session %s: too many unknown namespaces", session.sid)
                session.close("parse error")
                return
            self._send(
                session,
                sio.SioPacket(
                    sio.PacketType.CONNECT_ERROR, namespace, {"message": "Invalid namespace"}
                ),
            )
            return
        if session.refusal is not None:  # counted where it was decided, by the engine
            self._refuse(session, namespace, session.refusal)
            return
        auth: dict[str, Any] = dict(packet.data or {})
        saved = self._restore(namespace, auth)
        if saved is not None:
            conn = SioConnection(
                self, session, namespace, saved.sid, saved.pid, auth, data=saved.data
            )
        else:
            pid = secrets.token_urlsafe(12) if self.recovery is not None else None
            conn = SioConnection(self, session, namespace, secrets.token_urlsafe(15), pid, auth)
        try:
            await handler.on_connect(conn, auth, saved is not None)
        except RoomcastError as error:
            self.refused[error.code] += 1
            log.info("refused a connection to namespace %s: %s", namespace, error.code)
            self._refuse(session, namespace, error)
            return
        if session.closed:
            return
        client.connections[namespace] = conn
        if client.connect_timer is not None:  # in a namespace: the deadline is met
            client.connect_timer.cancel()
            client.connect_timer = None
        if conn.pid is not None:
            self._live[conn.pid] = conn
        reply: dict[str, Any] = {"sid": conn.sid}
        if conn.pid is not None:
            reply["pid"] = conn.pid
        self._send(session, sio.SioPacket(sio.PacketType.CONNECT, namespace, reply))
        if saved is not None:
            for room in saved.rooms:
                self.join(conn, room)
            session.send_many(list(saved.missed))

    def _refuse(self, session: EngineSession, namespace: str, error: RoomcastError) -> None:
        self._send(
            session,
            sio.SioPacket(
                sio.PacketType.CONNECT_ERROR,
                namespace,
                # JS clients read err.message and err.data; Python clients get the object.
                {**error.to_wire(), "data": error.to_wire()},
            ),
        )

    def _restore(self, namespace: str, auth: dict[str, Any]) -> SavedSession | None:
        pid = auth.pop("pid", None)
        offset = auth.pop("offset", None)
        if self.recovery is None or not isinstance(pid, str):
            return None
        stale = self._live.get(pid)
        if stale is not None and stale.namespace == namespace:
            # The client is back before its old transport was seen to close: end the
            # old one now, so its session is saved and can be restored below.
            stale.session.close("replaced by reconnection", notify_client=False)
        return self.recovery.restore(
            pid, offset if isinstance(offset, str) else None, namespace, self._clock()
        )

    async def _event(self, conn: SioConnection, packet: sio.SioPacket) -> None:
        event, *args = packet.data
        handler = self.namespaces[conn.namespace]
        try:
            result = await handler.on_event(conn, str(event), args)
        except Exception:  # a task boundary: one bad event must not end the connection
            log.exception("handler for event %r failed", event)
            result = [{"ok": False, "error": {"code": "internal", "message": "server error"}}]
        if packet.id is not None and result is not None and not conn.session.closed:
            ack = sio.SioPacket(sio.PacketType.ACK, conn.namespace, result, packet.id)
            try:
                frames = sio.encode(ack)
            except ProtocolError as error:  # e.g. an echo of data nested too deeply
                log.warning("ack for event %r cannot be encoded: %s", event, error)
                ack.data = [{"ok": False, "error": {"code": "internal", "message": "server error"}}]
                frames = sio.encode(ack)
            conn.session.send_many(_as_engine_messages(frames))

    def _send(self, session: EngineSession, packet: sio.SioPacket) -> None:
        session.send_many(_as_engine_messages(sio.encode(packet)))

    def disconnect(self, conn: SioConnection, reason: str, *, notify: bool) -> None:
        """Remove ``conn`` from its namespace; keep it for recovery if it merely dropped."""
        if not conn.connected:
            return
        conn.connected = False
        client: _Client | None = conn.session.context
        if client is not None and client.connections.get(conn.namespace) is conn:
            del client.connections[conn.namespace]
        if conn.pid is not None and self._live.get(conn.pid) is conn:
            del self._live[conn.pid]
        if notify:
            self._send(conn.session, sio.SioPacket(sio.PacketType.DISCONNECT, conn.namespace))
        rooms = set(conn.rooms)
        for room in rooms:
            self.leave(conn, room)
        # Leaving the namespace on purpose ends the session; anything else (a lost or
        # closed transport, a timeout, a restart) may be recovered, as in socket.io.
        dropped = reason not in ("client namespace disconnect", "server namespace disconnect")
        if self.recovery is not None and conn.pid is not None and dropped:
            self.recovery.save(
                SavedSession(conn.sid, conn.pid, conn.namespace, rooms, conn.data),
                self._clock(),
            )
        handler = self.namespaces.get(conn.namespace)
        if handler is not None:
            try:
                handler.on_disconnect(conn, reason)
            except Exception:  # a task boundary: disconnect bookkeeping must finish
                log.exception("on_disconnect failed for %s", conn.sid)
