"""The Engine.IO v4 endpoint as an ASGI app: long-polling, WebSocket and the upgrade.

The layer above (Socket.IO) plugs in as an :class:`EngineHandler`. Sessions live in
this process only; with several nodes, clients use WebSocket so no stickiness is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from typing import Protocol
from urllib.parse import parse_qs

from roomcast.core.errors import RateLimited, code_for_status
from roomcast.core.limits import AddressSessions
from roomcast.log_context import CONNECTION_ID, detached
from roomcast.protocol.engineio import (
    Packet,
    PacketType,
    decode_packet,
    decode_payload,
    encode_packet,
    open_packet,
)
from roomcast.protocol.errors import ProtocolError
from roomcast.transport.asgi import (
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    read_body,
    respond,
)
from roomcast.transport.engine_session import NOOP, EngineSession, Frame
from roomcast.transport.frames import (
    FRAME_EXTENSION,
    FRAME_MESSAGE,
    SharedText,
    wire_bytes,
    wire_frame,
)
from roomcast.transport.origins import OriginPolicy
from roomcast.transport.timer_wheel import TimerWheel
from roomcast.transport.ws_connection import WebSocketConnection

__all__ = ["EngineHandler", "EngineServer", "parse_query"]

log = logging.getLogger(__name__)

_UPGRADE_TIMEOUT = 10.0


def _asgi_message(frame: Frame) -> dict[str, object]:
    """A queued frame as a plain ASGI WebSocket send."""
    if isinstance(frame, SharedText):
        return {"type": "websocket.send", "text": frame.text}
    if isinstance(frame, str):
        return {"type": "websocket.send", "text": frame}
    return {"type": "websocket.send", "bytes": frame}


class EngineHandler(Protocol):
    """What the layer above Engine.IO implements."""

    async def on_open(self, session: EngineSession) -> None: ...

    async def on_message(self, session: EngineSession, data: str | bytes) -> None: ...

    def on_close(self, session: EngineSession, reason: str) -> None: ...


def parse_query(raw: bytes) -> dict[str, str]:
    """Each key's first value, as ``parse_qs`` reads them, without it for plain queries.

    Every new connection's query is read: ``parse_qs`` takes 3.3 us for
    ``EIO=4&transport=websocket``, this 0.6 us; only escapes need its decoding.
    """
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return {key: values[0] for key, values in parse_qs(text).items()}
    query: dict[str, str] = {}
    for field in text.split("&"):
        key, _, value = field.partition("=")
        if value:  # parse_qs leaves out blank values, and fields without "="
            query.setdefault(key, value)
    return query


def _remote(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


#: WebSocket close codes: a refused handshake, and a server about to restart.
_POLICY_VIOLATION = 1008
_SERVICE_RESTART = 1012


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def code(self) -> str:
        return code_for_status(self.status)


class EngineServer:
    """ASGI app serving Engine.IO sessions at whatever path it is mounted on."""

    def __init__(
        self,
        handler: EngineHandler,
        *,
        ping_interval: float,
        ping_timeout: float,
        max_payload: int,
        send_buffer: int,
        origins: OriginPolicy,
        allow_polling: bool = True,
        addresses: AddressSessions | None = None,
        send_buffer_bytes: int = 4 * 1024 * 1024,
    ) -> None:
        self.handler = handler
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.max_payload = max_payload
        self.send_buffer = send_buffer
        self.send_buffer_bytes = send_buffer_bytes
        self.origins = origins
        self.allow_polling = allow_polling
        self.addresses = addresses  # sessions per client address, if limited
        self.refused: Counter[str] = Counter()  # refused requests and sessions, for /metrics
        self.sessions: dict[str, EngineSession] = {}
        #: Long-polling sessions the client closed (a close packet in a POST) while no GET
        #: of theirs was waiting: a GET sent at the same time as that POST may arrive just
        #: after it, and gets a noop as if it had come first, not an unknown-session 400
        #: (the official suite sends the two together). Kept for --ping-timeout at most.
        self._closed_polls: dict[str, EngineSession] = {}
        #: Set by :meth:`drain`: packets that arrive from then on are not handled.
        self.draining = False
        self._handling = 0  # packets being handled now, in every session
        self._handled: asyncio.Event | None = None  # set when _handling drops to 0, draining
        self._polling_busy: set[tuple[str, str]] = set()
        self._dirty: list[EngineSession] = []
        # Heartbeats due within a tick share one loop timer; a tick is a small fraction of
        # the ping interval and timeout, so pings and timeouts are at most that early.
        tick = min(0.5, max(0.005, min(ping_interval, ping_timeout) / 25))
        self.ping_wheel: TimerWheel[EngineSession] = TimerWheel(tick, EngineSession.ping_due)
        self.pong_wheel: TimerWheel[EngineSession] = TimerWheel(tick, EngineSession.pong_overdue)

    # -- lifecycle -------------------------------------------------------------------------

    def forget(self, session: EngineSession) -> None:
        """Called by a session as it closes."""
        if self.sessions.get(session.sid) is session:
            del self.sessions[session.sid]
            if self.addresses is not None and session.refusal is None:
                self.addresses.close(session.remote)
        try:
            self.handler.on_close(session, session.close_reason)
        except Exception:  # a task boundary: the handler must not break closing
            log.exception("on_close handler failed for session %s", session.sid)

    def mark_dirty(self, session: EngineSession) -> None:
        """Flush ``session`` with the others at the end of this pass of the event loop."""
        if not self._dirty:
            # Detached: the flush is for every dirty session, not the one that came first.
            asyncio.get_running_loop().call_soon(self._flush_dirty, context=detached())
        self._dirty.append(session)

    def _flush_dirty(self) -> None:
        dirty, self._dirty = self._dirty, []
        for session in dirty:
            try:
                session.flush()
            except Exception:  # one broken socket must not keep the others' frames queued
                log.exception("flushing session %s failed", session.sid)
                session.close("transport error", notify_client=False)

    async def drain(self, grace: float) -> None:
        """Stop handling packets; wait up to ``grace`` s for those being handled to finish.

        A ``send`` whose write has started is then acked before its connection closes, and
        one that arrives later is not written: whatever a client was not told, it may send
        again, and nothing it was told is lost.
        """
        self.draining = True
        if self._handling:
            self._handled = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self._handled.wait()
        await asyncio.sleep(0)  # the flush of dirty sessions writes the last acks

    def close_all(self, reason: str) -> None:
        """Close every session, telling clients (they reconnect, e.g. after a restart)."""
        for session in list(self.sessions.values()):
            session.close(reason)

    def _new_session(self, transport: str, remote: str) -> EngineSession:
        sid = secrets.token_urlsafe(15)
        session = EngineSession(
            self, sid, "websocket" if transport == "websocket" else "polling", remote
        )
        if self.addresses is not None:
            try:
                self.addresses.open(remote)
            except RateLimited as error:
                # Opened all the same, so that the client hears why at its Socket.IO connect
                # (a refused handshake would look like a network error, and be retried).
                session.refusal = error
                self.refused[error.code] += 1
        self.sessions[sid] = session
        return session

    def _handshake(self, session: EngineSession, upgrades: list[str]) -> str:
        packet = open_packet(
            session.sid,
            upgrades=upgrades,
            ping_interval_ms=round(self.ping_interval * 1000),
            ping_timeout_ms=round(self.ping_timeout * 1000),
            max_payload=self.max_payload,
        )
        frame = encode_packet(packet)
        assert isinstance(frame, str)
        return frame

    # -- ASGI ------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)

    def _check_query(self, scope: Scope, transport_expected: str | None) -> dict[str, str]:
        query = parse_query(scope.get("query_string", b""))
        if query.get("EIO") != "4":
            raise _Refused(400, "unsupported protocol version: this server speaks EIO=4")
        transport = query.get("transport")
        if transport not in ("polling", "websocket"):
            raise _Refused(400, "transport must be 'polling' or 'websocket'")
        if transport_expected is not None and transport != transport_expected:
            raise _Refused(400, f"transport {transport!r} needs a {transport_expected} request")
        if transport == "polling" and not self.allow_polling:
            raise _Refused(400, "long-polling is turned off on this server; use WebSocket")
        rejected = self.origins.rejected_origin(scope)
        if rejected is not None:
            raise _Refused(
                403, f"origin {rejected} is not allowed; add it to the server's --origins"
            )
        if self.draining and "sid" not in query:
            raise _Refused(503, "the server is shutting down; connect again in a moment")
        return query

    # -- long-polling ----------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        cors = self.origins.cors_headers(scope)
        method = scope["method"]
        if method == "OPTIONS":
            await respond(
                send,
                204,
                b"",
                headers=[
                    *cors,
                    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                    (b"access-control-allow-headers", b"content-type"),
                ],
            )
            return
        try:
            query = self._check_query(scope, "polling")
            sid = query.get("sid")
            if sid is None:
                if method != "GET":
                    raise _Refused(400, "a new session starts with a GET request")
                session = self._new_session("polling", _remote(scope))
                CONNECTION_ID.set(session.sid)
                await respond(send, 200, self._handshake(session, ["websocket"]), headers=cors)
                session.start_heartbeat()
                await self.handler.on_open(session)
                return
            session = self._session(sid, method)
            CONNECTION_ID.set(sid)
            if session.transport != "polling":
                raise _Refused(400, "this session has been upgraded to WebSocket")
            if method == "GET":
                await self._poll(session, send, cors)
            elif method == "POST":
                await self._push(session, receive, send, cors)
            else:
                raise _Refused(400, f"method {method} is not used by Engine.IO")
        except _Refused as refused:
            self.refused[refused.code] += 1
            await respond(
                send,
                refused.status,
                {"code": refused.code, "message": refused.message},
                headers=cors,
            )

    def _session(self, sid: str, method: str) -> EngineSession:
        session = self.sessions.get(sid)
        if session is None and method == "GET":
            session = self._closed_polls.pop(sid, None)  # its last poll (see __init__)
        if session is None:
            raise _Refused(400, "unknown or closed session id")
        return session

    async def _poll(
        self, session: EngineSession, send: Send, cors: list[tuple[bytes, bytes]]
    ) -> None:
        key = (session.sid, "GET")
        if key in self._polling_busy:
            session.close("duplicate poll")
            raise _Refused(400, "a poll request is already pending for this session")
        self._polling_busy.add(key)
        try:
            await self._settle_upgrade(session)
            if session.transport != "polling":
                raise _Refused(400, "this session has been upgraded to WebSocket")
            await session.wait_for_frames()
            # A poll left over from before an upgrade must not take WebSocket frames.
            body = (session.polling_payload() if session.transport == "polling" else "") or NOOP
        finally:
            self._polling_busy.discard(key)
        await respond(send, 200, body, headers=cors)

    @staticmethod
    async def _settle_upgrade(session: EngineSession) -> None:
        """Give an upgrade whose last packet is already on the wire a moment to finish.

        A client sends its upgrade packet and may then poll at once; the WebSocket task
        may not have read that packet yet. Briefly yielding lets it, so the poll is
        refused as the protocol requires rather than answered on the old transport.
        """
        for _ in range(10):
            if not session.upgrading:
                return
            await asyncio.sleep(0.005)

    async def _push(
        self, session: EngineSession, receive: Receive, send: Send, cors: list[tuple[bytes, bytes]]
    ) -> None:
        key = (session.sid, "POST")
        if key in self._polling_busy:
            session.close("overlapping post")
            raise _Refused(400, "a post request is already in progress for this session")
        self._polling_busy.add(key)
        try:
            try:
                body = await read_body(receive, self.max_payload)
            except BodyTooLarge:
                self.refused["too_large"] += 1
                session.close("payload too large")
                await respond(
                    send,
                    413,
                    {"code": "too_large", "message": "payload over maxPayload"},
                    headers=cors,
                )
                return
            try:
                packets = decode_payload(body.decode("utf-8"))
            except (UnicodeDecodeError, ProtocolError) as error:
                session.close("parse error")
                raise _Refused(400, f"malformed payload: {error}") from None
            for packet in packets:
                await self._on_packet(session, packet)
        finally:
            self._polling_busy.discard(key)
        await respond(send, 200, "ok", content_type="text/html", headers=cors)

    # -- WebSocket -------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        try:
            query = self._check_query(scope, "websocket")
        except _Refused as refused:
            log.info("refused WebSocket from %s: %s", scope.get("client"), refused.message)
            self.refused[refused.code] += 1
            code = _SERVICE_RESTART if refused.status == 503 else _POLICY_VIOLATION
            await send({"type": "websocket.close", "code": code, "reason": refused.message[:120]})
            return
        sid = query.get("sid")
        if sid is not None:
            session = self.sessions.get(sid)
            if session is not None:
                CONNECTION_ID.set(sid)
            await send({"type": "websocket.accept"})
            if session is None or session.transport != "polling" or session.upgrading:
                # Accepted, then closed: a refused handshake would look like a network error.
                await send({"type": "websocket.close", "code": 1008, "reason": "unknown session"})
                return
            if not await self._upgrade(session, receive, send):
                return
        else:
            session = self._new_session("websocket", _remote(scope))
            CONNECTION_ID.set(session.sid)
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": self._handshake(session, [])})
            session.start_heartbeat()
            await self.handler.on_open(session)
        extension = scope.get("extensions", {}).get(FRAME_EXTENSION)
        if extension is not None and "write" in extension:
            session.buffered = extension.get("buffered")
            session.abort = extension.get("abort")
        write = extension.get("write") if extension is not None else None
        await self._run_websocket(session, extension is not None, write, receive, send)

    # -- WebSocket without ASGI (see fast_upgrade) -----------------------------------------

    def takes_websocket(self, query_string: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether :meth:`open_websocket` may serve this upgrade request.

        Only a new session that passes every check: refusals and upgrades from
        long-polling take the ASGI path, which answers them as it always has.
        """
        try:
            query = self._check_query(
                {"query_string": query_string, "headers": headers}, "websocket"
            )
        except _Refused:
            return False
        return "sid" not in query

    def open_websocket(
        self, connection: WebSocketConnection, remote: str, preamble: bytes
    ) -> asyncio.Task[None]:
        """Open a session on an accepted WebSocket; the task runs it until it closes.

        ``preamble`` (the handshake response) goes out in the same write as the open packet.
        """
        session = self._new_session("websocket", remote)
        connection.transport.write(preamble + wire_frame(self._handshake(session, [])))
        session.start_heartbeat()
        return asyncio.get_running_loop().create_task(self._serve_websocket(session, connection))

    async def _serve_websocket(
        self, session: EngineSession, connection: WebSocketConnection
    ) -> None:
        CONNECTION_ID.set(session.sid)  # this task's context: every line it logs
        try:
            session.buffered = connection.buffered_bytes
            session.abort = connection.abort
            await self.handler.on_open(session)
            await self._run_websocket(
                session, True, connection.write_now, connection.receive, connection.send
            )
        except Exception:  # a task boundary, as uvicorn's around an ASGI app
            log.exception("WebSocket session %s failed", session.sid)
        finally:
            connection.app_done()

    async def _upgrade(self, session: EngineSession, receive: Receive, send: Send) -> bool:
        """The probe exchange; True once the session has moved to this WebSocket."""
        session.upgrading = True
        try:
            async with asyncio.timeout(_UPGRADE_TIMEOUT):
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return False  # closed already (by the peer, or for bad framing or size)
                if message.get("text") != "2probe":
                    await send({"type": "websocket.close", "code": 1002})
                    return False
                await send({"type": "websocket.send", "text": "3probe"})
                session.interrupt_poll()
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return False
                if message.get("text") != "5":
                    await send({"type": "websocket.close", "code": 1002})
                    return False
        except TimeoutError:
            await send({"type": "websocket.close", "code": 1002})
            return False
        finally:
            session.upgrading = False
        if session.closed:
            await send({"type": "websocket.close", "code": 1000})
            return False
        session.transport = "websocket"
        # Frames queued for the last poll (the noop among them) belong to polling.
        session.drop_noops()
        return True

    async def _run_websocket(
        self,
        session: EngineSession,
        framed: bool,
        write: Callable[[bytes], bool] | None,
        receive: Receive,
        send: Send,
    ) -> None:
        """Read packets until the session closes.

        ``framed``: ``send`` takes pre-framed bytes; ``write``: the synchronous write, if any.
        """
        writer: asyncio.Task[None] | None = None

        def ensure_writer() -> None:
            nonlocal writer
            if writer is None or writer.done():
                writer = asyncio.create_task(self._write_websocket(session, send, framed))

        if framed and write is not None:
            # Direct writes; a writer task only when back-pressure or closing needs one.
            session.direct_write = write
            session.ensure_writer = ensure_writer
            if session.queue:
                ensure_writer()
        else:
            ensure_writer()
        try:
            while not session.closed:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    session.close("transport close", notify_client=False)
                    break
                text = message.get("text")
                frame: str | bytes | None = text if text is not None else message.get("bytes")
                if frame is None:
                    continue
                try:
                    packet = decode_packet(frame)
                except ProtocolError:
                    session.close("parse error", notify_client=False)
                    break
                await self._on_packet(session, packet)
        finally:
            if not session.closed:
                session.close("transport error", notify_client=False)
            if writer is not None:
                await writer

    async def _write_websocket(self, session: EngineSession, send: Send, framed: bool) -> None:
        try:
            while True:
                await session.wait_for_frames()
                session.writer_busy = True
                frames = session.take_frames()
                if framed:
                    # Everything queued goes out in one write: broadcasts as the bytes
                    # framed once for all subscribers, the rest framed here.
                    data = wire_bytes(frames)
                    session.taken_bytes = len(data)
                    await send({"type": FRAME_MESSAGE, "frame": data})
                else:
                    session.taken_bytes = sum(map(len, frames))
                    for frame in frames:
                        await send(_asgi_message(frame))
                session.writer_busy = False
                session.taken_bytes = 0
                if session.closed:
                    await send({"type": "websocket.close", "code": 1000})
                    return
                if session.direct_write is not None and not session.queue:
                    return  # drained: direct writes take over again
        except Exception as error:  # noqa: BLE001 -- task boundary: the peer is gone or the socket broke
            log.debug("WebSocket writer of %s stopped: %r", session.sid, error)
            session.close("transport error", notify_client=False)

    # -- packets ---------------------------------------------------------------------------

    async def _on_packet(self, session: EngineSession, packet: Packet) -> None:
        if self.draining:
            return  # shutting down: the client sends it again after reconnecting
        self._handling += 1
        try:
            await self._handle_packet(session, packet)
        finally:
            self._handling -= 1
            if not self._handling and self._handled is not None:
                self._handled.set()

    async def _handle_packet(self, session: EngineSession, packet: Packet) -> None:
        kind = packet.type
        if kind is PacketType.MESSAGE:
            await self.handler.on_message(session, packet.data)
        elif kind is PacketType.PONG:
            session.on_pong()
        elif kind is PacketType.CLOSE:
            session.close("client close", notify_client=False)
            if session.transport == "polling" and (session.sid, "GET") not in self._polling_busy:
                self._closed_polls[session.sid] = session  # for a GET just behind (__init__)
                asyncio.get_running_loop().call_later(
                    self.ping_timeout, self._closed_polls.pop, session.sid, None
                )
        elif kind is PacketType.PING:
            # In Engine.IO v4 only the server pings ("2probe" of an upgrade is read by
            # _upgrade); answering client pings would let one client make us write
            # without limit. The reference server closes the session too.
            session.close("invalid heartbeat direction", notify_client=False)
        elif kind is PacketType.OPEN:
            session.close("parse error", notify_client=False)
        # NOOP and a stray UPGRADE need nothing.
