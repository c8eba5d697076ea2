"""The chat wire contract of DESIGN.md on namespace ``/``: join, send, typing, read, history.

Each event is validated by the core, answered through its ack with ``{"ok": true, ...}``
or ``{"ok": false, "error": {"code", "message"}}`` — errors are mapped here, in one
place. Messages are stored before they are acked, then fanned out through the bus.
Presence, typing, read and timeline events reach the other processes through the
:class:`~roomcast.transport.cluster.ClusterLink`; what the bus misses is caught up from
the store (transport/catch_up.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from roomcast.canned import CannedReplies
from roomcast.console_auth import ConsoleAuth
from roomcast.core.cluster import connection_key
from roomcast.core.errors import BadRequest, Forbidden, RateLimited, RoomcastError
from roomcast.core.identity import member_id_for_name
from roomcast.core.limits import RoomLimits, check_join
from roomcast.core.links import verify_link
from roomcast.core.presence import PresenceRegistry
from roomcast.core.ratelimit import TokenBucket
from roomcast.core.validation import (
    Limits,
    parse_history,
    parse_join,
    parse_name,
    parse_read,
    parse_send,
    parse_state,
    parse_track,
    parse_typing,
)
from roomcast.ports import Bus, MessageDraft, Sender, Store, TimelineEvent, TimelineKind
from roomcast.protocol.socketio import EncodedJSON, dumps
from roomcast.transport.catch_up import CatchUp
from roomcast.transport.cluster import ClusterLink, RoomView
from roomcast.transport.console_events import (
    CONSOLE_ROOM,
    ConsoleContext,
    ConsoleEvents,
    console_member,
)
from roomcast.transport.rooms import MESSAGES_CHANNEL, RoomService
from roomcast.transport.socketio_server import SioConnection, SioServer
from roomcast.transport.timeline_recorder import TimelineRecorder

__all__ = ["ChatNamespace"]

log = logging.getLogger(__name__)

NAMESPACE = "/"
CONSOLE_NAME = "Facilitator"
RESUME_LIMIT = 500  # messages a join with `since` returns at once; `more` says if there are others

# A handler's result goes into the ack after "ok": true; EncodedJSON is the whole ack, ready.
Handler = Callable[[SioConnection, Any], Awaitable[dict[str, Any] | EncodedJSON]]


def _now_ms() -> int:
    return int(time.time() * 1000)


class ChatNamespace:
    """Namespace handler implementing the chat events for one server process."""

    def __init__(
        self,
        sio: SioServer,
        store: Store,
        bus: Bus,
        rooms: RoomService,
        *,
        limits: Limits,
        rate: float,
        burst: int,
        room_limits: RoomLimits | None = None,
        link_secret: Callable[[], bytes] | None = None,
        signed_links_only: bool = False,
        console_auth: ConsoleAuth | None = None,
        canned: CannedReplies | None = None,
        link_page: str | None = None,
        clock_ms: Callable[[], int] = _now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        node: str | None = None,
        heartbeat: float = 2.0,
        node_ttl: float = 6.0,
    ) -> None:
        self._sio = sio
        self._store = store
        self._bus = bus
        self._rooms = rooms
        self._limits = limits
        self._rate = rate
        self._burst = burst
        self._room_limits = room_limits or RoomLimits()
        self._load_link_secret = link_secret
        self._link_secret: bytes | None = None  # read (or made) by start()
        self._signed_links_only = signed_links_only
        self._clock_ms = clock_ms
        self._monotonic = monotonic
        self.presence = PresenceRegistry()
        self.events_in = 0  # for /metrics
        self.rejected: Counter[str] = Counter()  # answered errors by code, for /metrics
        self.recorder = TimelineRecorder(store, self._recorded)
        self.node = node or secrets.token_hex(6)  # this process, among those on the bus
        self.catch_up = CatchUp(store, self._deliver, self._listening)
        self.cluster = ClusterLink(
            bus,
            self.presence,
            RoomView(self._show_presence, self._show_relayed, self._show_timeline),
            self.catch_up,
            node=self.node,
            heartbeat=heartbeat,
            ttl=node_ttl,
            monotonic=monotonic,
        )
        self._console_auth = console_auth
        self._handlers: dict[str, Handler] = {
            "join": self._join,
            "leave": self._leave,
            "send": self._send,
            "typing": self._typing,
            "read": self._read,
            "history": self._history,
            "state": self._state,
            "track": self._track,
        }
        console = ConsoleEvents(
            ConsoleContext(
                store=store,
                rooms=rooms,
                presence=self.presence,
                recorder=self.recorder,
                limits=limits,
                link_secret=self._secret,
                canned=canned,
                clock_ms=clock_ms,
                broadcast_typing=self._broadcast_typing,
                link_page=link_page,
            )
        )
        self._check_handlers: dict[str, Handler] = {"echo": self._echo}
        # A console connection has every chat event and the console's own on top.
        self._console_handlers: dict[str, Handler] = {**self._handlers, **console.handlers}

    async def start(self) -> None:
        """Read the link secret (made at the first start) and follow published messages."""
        if self._load_link_secret is not None:
            self._link_secret = self._load_link_secret()
        self.recorder.start()
        self._rooms.deliver_here(self._on_published)
        await self._bus.subscribe(MESSAGES_CHANNEL, self._on_published)
        await self.cluster.start()

    async def stop(self) -> None:
        """Stop following messages; write the timeline events still queued."""
        await self.cluster.stop()
        await self.catch_up.stop()
        await self._bus.unsubscribe(MESSAGES_CHANNEL, self._on_published)
        await self.recorder.stop()

    def _secret(self) -> bytes:
        if self._link_secret is None:
            raise Forbidden("this server has no link secret")
        return self._link_secret

    def _on_published(self, channel: str, payload: bytes) -> None:
        # "<room>\n<message JSON>": room names have no newline, and the JSON is not decoded.
        room, _, message = payload.decode("utf-8").partition("\n")
        self._deliver(room, message)

    def _deliver(self, room: str, message: str) -> None:
        if self._listening(room) and not self.catch_up.first_time(room, message):
            return  # came live and from a catch-up (or a send was retried): sent already
        self._sio.broadcast_encoded(NAMESPACE, room, "message", message)
        self._to_console("message", message)

    def _listening(self, room: str) -> bool:
        """Whether a connection here has joined ``room``: then it is caught up after gaps."""
        return bool(self._sio.room_size(NAMESPACE, room))

    def _to_console(self, event: str, args_json: str) -> None:
        # Checked first: a broadcast nobody gets would still be kept for recovery.
        if self._sio.room_size(NAMESPACE, CONSOLE_ROOM):
            self._sio.broadcast_encoded(NAMESPACE, CONSOLE_ROOM, event, args_json)

    def _recorded(self, event: TimelineEvent) -> None:
        encoded = dumps(event.to_wire())
        self._show_timeline(encoded)
        self.cluster.relay_timeline(encoded)

    def _show_timeline(self, encoded: str) -> None:
        self._to_console("timeline", encoded)

    def _record(self, conn: SioConnection, room: str, kind: TimelineKind, data: Any = None) -> None:
        self.recorder.record(TimelineEvent(room, self._clock_ms(), kind, conn.data["member"], data))

    # -- connection lifecycle --------------------------------------------------------------

    async def on_connect(self, conn: SioConnection, auth: dict[str, Any], recovered: bool) -> None:
        conn.data["bucket"] = TokenBucket(self._rate, self._burst, self._monotonic())
        if recovered:
            # Runs once the server has re-joined the rooms and replayed what was missed,
            # so the client sees itself come back online after the replay.
            asyncio.get_running_loop().call_soon(self._restore_presence, conn)
            return
        if auth.get("console") is not None:
            self._connect_console(conn, auth)
            return
        if auth.get("check") is True:
            conn.data["handlers"] = self._check_handlers  # /check: round trips, no member
            return
        token = auth.get("token")
        if token is not None and self._link_secret is not None:
            claims = verify_link(self._link_secret, token, self._clock_ms())
            name = claims.name
            conn.data["link_room"] = claims.room  # a link opens its own room only
        elif self._signed_links_only:
            raise Forbidden(
                "This server accepts only personal links; ask the facilitator for yours."
            )
        else:
            try:
                name = parse_name(auth.get("name"))
            except BadRequest as error:
                raise BadRequest(f"connect with auth {{name}}: {error.message}") from None
        conn.data["member"] = Sender(member_id_for_name(name), name)
        conn.data["joined"] = {}
        conn.data["state"] = "online"

    def _connect_console(self, conn: SioConnection, auth: dict[str, Any]) -> None:
        if self._console_auth is None or not self._console_auth.ticket_ok(auth["console"]):
            raise Forbidden("sign in to the console again: this ticket is not valid")
        name = auth.get("name")
        conn.data["member"] = console_member(CONSOLE_NAME if name is None else parse_name(name))
        conn.data["handlers"] = self._console_handlers
        conn.data["joined"] = {}
        conn.data["state"] = "online"
        conn.join(CONSOLE_ROOM)

    def _restore_presence(self, conn: SioConnection) -> None:
        member: Sender = conn.data["member"]
        for room, watch in conn.data.get("joined", {}).items():
            if not watch and conn.connected:
                self._presence_add(conn, room, member)
                self._record(conn, room, "reconnect")

    def on_disconnect(self, conn: SioConnection, reason: str) -> None:
        member: Sender | None = conn.data.get("member")
        if member is None:
            return
        for room, watch in conn.data.get("joined", {}).items():
            if watch:
                continue
            self._record(conn, room, "leave", {"reason": reason})
            if self.presence.room(room).remove(member.id, self._key(conn)):
                self._broadcast_presence(room)

    async def on_event(
        self, conn: SioConnection, event: str, args: list[Any]
    ) -> list[Any] | EncodedJSON | None:
        # Chosen at connect: a member's, the console's or the check page's events.
        handler = conn.data.get("handlers", self._handlers).get(event)
        self.events_in += 1
        try:
            if not conn.data["bucket"].allow(self._monotonic()):
                raise RateLimited("too many events; slow down")
            if handler is None:
                if event in self._console_handlers:
                    raise Forbidden(f"{event!r} is for the facilitator console only")
                raise BadRequest(f"unknown event {event!r}")
            result = await handler(conn, args[0] if args else None)
        except RoomcastError as error:
            self.rejected[error.code] += 1
            return [{"ok": False, "error": error.to_wire()}]
        if isinstance(result, EncodedJSON):
            return result
        return [{"ok": True, **result}]

    # -- events ----------------------------------------------------------------------------

    async def _join(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_join(payload)
        room = request.room
        member: Sender = conn.data["member"]
        _check_link_room(conn, room)
        joined: dict[str, bool] = conn.data["joined"]
        if room not in joined:
            check_join(
                self._room_limits,
                joined=len(joined),
                open_rooms=self._sio.room_count(),
                room_is_open=self._listening(room),
            )
        # Subscribe before reading history, so nothing falls between the two;
        # clients drop what they already have by offset.
        conn.join(room)
        joined[room] = request.watch
        if not request.watch:
            self._presence_add(conn, room, member)
            self._record(conn, room, "join" if request.since is None else "reconnect")
        if request.since is None:
            messages = await self._store.read(room, limit=self._limits.history_page)
            more = bool(messages) and messages[0].offset > 1
        else:
            messages = await self._store.read(room, since=request.since, limit=RESUME_LIMIT)
            more = len(messages) == RESUME_LIMIT
        offset = await self._store.last_offset(room)
        # From what this member was given, not `offset`: a message stored after the read
        # is still on its way through the bus and must not be taken as sent.
        given = messages[-1].offset if messages else min(request.since or 0, offset)
        self.catch_up.joined(room, given)
        return {
            "room": room,
            "offset": offset,
            "messages": [message.to_wire() for message in messages],
            "more": more,
            "members": self.presence.room(room).snapshot(),
            "me": {"id": member.id, "name": member.name},
            "read": await self._store.get_read(room, member.id),
        }

    async def _leave(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        room = parse_join(payload).room
        joined: dict[str, bool] = conn.data["joined"]
        watch = joined.pop(room, None)
        conn.leave(room)
        member: Sender = conn.data["member"]
        if watch is False:
            self._record(conn, room, "leave", {"reason": "left"})
            if self.presence.room(room).remove(member.id, self._key(conn)):
                self._broadcast_presence(room)
        return {}

    def _require_joined(self, conn: SioConnection, room: str) -> Sender:
        if room not in conn.data["joined"]:
            raise Forbidden(f"join room {room!r} first")
        member: Sender = conn.data["member"]
        return member

    async def _send(self, conn: SioConnection, payload: Any) -> EncodedJSON:
        request = parse_send(payload, self._limits)
        member = self._require_joined(conn, request.room)
        if not self._rooms.policy(request.room).client_posts:
            raise Forbidden(f"room {request.room!r} is a feed: only publishers post in it")
        draft = MessageDraft(
            room=request.room,
            kind="text" if request.text is not None else "data",
            ts=self._clock_ms(),
            sender=member,
            text=request.text,
            data=request.data,
            cid=request.cid,
        )
        # Encoded once: the same text is published, broadcast and acked.
        _, text = await self._rooms.publish(draft)
        if self.presence.room(request.room).set_typing(member.id, False):
            self._broadcast_typing(request.room, member, False)
        return EncodedJSON(f'[{{"ok":true,"message":{text}}}]')

    async def _typing(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_typing(payload)
        member = self._require_joined(conn, request.room)
        if self.presence.room(request.room).set_typing(member.id, request.typing):
            self._broadcast_typing(request.room, member, request.typing)
        return {}

    async def _read(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_read(payload)
        member = self._require_joined(conn, request.room)
        last = await self._store.last_offset(request.room)
        offset = min(request.offset, last)
        await self._store.set_read(request.room, member.id, offset)
        encoded = dumps(
            {
                "room": request.room,
                "member": {"id": member.id, "name": member.name},
                "offset": offset,
            }
        )
        self._sio.broadcast_encoded(NAMESPACE, request.room, "read", encoded)
        self.cluster.relay(request.room, "read", encoded)
        return {}

    async def _history(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_history(payload, self._limits)
        _check_link_room(conn, request.room)  # another room's history is as closed as it
        messages = await self._store.read(request.room, before=request.before, limit=request.limit)
        return {
            "room": request.room,
            "messages": [message.to_wire() for message in messages],
            "more": bool(messages) and messages[0].offset > 1,
        }

    async def _state(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_state(payload)
        conn.data["state"] = request.state
        member: Sender = conn.data["member"]
        for room, watch in conn.data["joined"].items():
            if watch:
                continue
            self._record(conn, room, "visibility", {"state": request.state})
            if self.presence.room(room).set_state(member.id, self._key(conn), request.state):
                self._broadcast_presence(room)
        return {}

    async def _echo(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        return {"ts": self._clock_ms()}

    async def _track(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_track(payload, self._limits)
        self._require_joined(conn, request.room)
        data: dict[str, Any] = {"step": request.step}
        if request.data is not None:
            data["data"] = request.data
        self._record(conn, request.room, "step", data)
        return {}

    # -- broadcasts ------------------------------------------------------------------------

    def _key(self, conn: SioConnection) -> str:
        """The connection's key in the cluster-wide presence."""
        return connection_key(self.node, conn.sid)

    def _presence_add(self, conn: SioConnection, room: str, member: Sender) -> None:
        if self.presence.room(room).add(
            member.id, member.name, self._key(conn), conn.data["state"]
        ):
            self._broadcast_presence(room)

    def _broadcast_presence(self, room: str) -> None:
        """This node's members of ``room`` changed: show it here and tell the other nodes."""
        self._show_presence(room)
        self.cluster.room_changed(room)

    def _show_presence(self, room: str) -> None:
        members = self.presence.room(room).snapshot()
        encoded = dumps({"room": room, "members": members})
        self._sio.broadcast_encoded(NAMESPACE, room, "presence", encoded)
        self._to_console("presence", encoded)

    def _broadcast_typing(self, room: str, member: Sender, typing: bool) -> None:
        encoded = dumps(
            {"room": room, "member": {"id": member.id, "name": member.name}, "typing": typing}
        )
        self._sio.broadcast_encoded(NAMESPACE, room, "typing", encoded)
        self._to_console("typing", encoded)
        self.cluster.relay(room, "typing", encoded)

    def _show_relayed(self, room: str, event: str, encoded: str) -> None:
        """A ``typing`` or ``read`` event from another node, for this node's connections."""
        if event == "typing":
            typing = json.loads(encoded)
            self.presence.room(room).set_typing(typing["member"]["id"], bool(typing["typing"]))
            self._to_console("typing", encoded)
        self._sio.broadcast_encoded(NAMESPACE, room, event, encoded)


def _check_link_room(conn: SioConnection, room: str) -> None:
    """A connection made with a signed link reaches its link's room only."""
    link_room = conn.data.get("link_room")
    if link_room is not None and room != link_room:
        raise Forbidden(f"your link is for room {link_room!r} only")
