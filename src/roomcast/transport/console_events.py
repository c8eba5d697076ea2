"""The console's side of the wire contract: what a console connection may do besides chat.

A connection that came with a valid console ticket is in :data:`CONSOLE_ROOM` and gets
every room's messages, presence, typing and timeline events from there; it never joins
the rooms themselves, so it never appears in them. See docs/protocol.md.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import segno

from roomcast.canned import CannedReplies
from roomcast.core.console_requests import (
    parse_canned,
    parse_link,
    parse_note,
    parse_send_as,
    parse_typing_name,
)
from roomcast.core.errors import Unavailable
from roomcast.core.identity import member_id_for_name
from roomcast.core.policy import parse_duration
from roomcast.core.presence import PresenceRegistry
from roomcast.core.validation import (
    Limits,
    parse_object,
    parse_read,
    parse_room,
    parse_send,
    parse_typing,
)
from roomcast.links import signed_link
from roomcast.ports import MessageDraft, MessageKind, Sender, Store, TimelineEvent
from roomcast.protocol.socketio import EncodedJSON
from roomcast.timeline import timeline_entries
from roomcast.transport.rooms import RoomService
from roomcast.transport.socketio_server import SioConnection
from roomcast.transport.timeline_recorder import TimelineRecorder

__all__ = ["CONSOLE_READER", "CONSOLE_ROOM", "ConsoleContext", "ConsoleEvents", "console_member"]

CONSOLE_ROOM = "#console"  # not a valid room name: no member can join it
CONSOLE_READER = "console"  # the read position that unread counts start from
MAX_ROOMS = 500  # rooms listed, most recently active first
TIMELINE_ENTRIES = 1_000  # newest timeline entries a console call returns

Handler = Callable[[SioConnection, Any], Awaitable[dict[str, Any] | EncodedJSON]]


def console_member(name: str) -> Sender:
    """The facilitator's identity: never the same id as a tester of the same name."""
    return Sender("console:" + member_id_for_name(name), name)


@dataclass(frozen=True, slots=True)
class ConsoleContext:
    """What the console's events work with, shared with the chat namespace."""

    store: Store
    rooms: RoomService
    presence: PresenceRegistry
    recorder: TimelineRecorder
    limits: Limits
    link_secret: Callable[[], bytes]
    canned: CannedReplies | None
    clock_ms: Callable[[], int]
    broadcast_typing: Callable[[str, Sender, bool], None]
    link_page: str | None = None  # where links open when the call names no page


class ConsoleEvents:
    """Handlers of the console's events; the chat namespace dispatches to them."""

    def __init__(self, context: ConsoleContext) -> None:
        self._c = context
        self.handlers: dict[str, Handler] = {
            "rooms": self._rooms,
            "timeline": self._timeline,
            "send": self._send,
            "typing": self._typing,
            "note": self._note,
            "read": self._read,
            "link": self._link,
            "canned": self._canned,
        }

    async def _rooms(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        c = self._c
        stored = (await c.store.rooms())[:MAX_ROOMS]
        known = {summary.room for summary in stored}
        # Rooms where testers are but nobody has written yet are the newest activity.
        present = [room for room in reversed(c.presence.rooms()) if room not in known]
        listed: list[dict[str, Any]] = [{"room": room, "offset": 0, "ts": None} for room in present]
        listed += [{"room": s.room, "offset": s.last_offset, "ts": s.last_ts} for s in stored]
        reads = await asyncio.gather(
            *(c.store.get_read(item["room"], CONSOLE_READER) for item in listed)
        )
        for item, read in zip(listed, reads, strict=True):
            item["unread"] = max(item["offset"] - read, 0)
            presence = c.presence.peek(item["room"])
            item["members"] = [] if presence is None else presence.snapshot()
        return {"rooms": listed}

    async def _timeline(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        room = parse_room(parse_object(payload).get("room"))
        # The newest entries only: an ack must stay under the connection's payload limit.
        # The full record is the export's job.
        entries: deque[dict[str, Any]] = deque(maxlen=TIMELINE_ENTRIES)
        seen = 0
        async for entry in timeline_entries(self._c.store, room):
            entries.append(entry)
            seen += 1
        return {"room": room, "entries": list(entries), "more": seen > TIMELINE_ENTRIES}

    async def _send(self, conn: SioConnection, payload: Any) -> EncodedJSON:
        c = self._c
        request = parse_send(payload, c.limits)
        system = parse_send_as(payload)
        member: Sender = conn.data["member"]
        kind: MessageKind = "system" if system else "text" if request.text is not None else "data"
        draft = MessageDraft(
            room=request.room,
            kind=kind,
            ts=c.clock_ms(),
            sender=None if system else member,
            text=request.text,
            data=request.data,
            cid=request.cid,
        )
        _, text = await c.rooms.publish(draft)
        return EncodedJSON(f'[{{"ok":true,"message":{text}}}]')

    async def _typing(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_typing(payload)
        name = parse_typing_name(payload)
        member: Sender = conn.data["member"] if name is None else console_member(name)
        self._c.broadcast_typing(request.room, member, request.typing)
        return {}

    async def _note(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_note(payload, self._c.limits)
        note = TimelineEvent(
            request.room, self._c.clock_ms(), "note", conn.data["member"], {"text": request.text}
        )
        stored = await self._c.recorder.add_now(note)
        return {"event": stored.to_wire()}

    async def _read(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_read(payload)
        last = await self._c.store.last_offset(request.room)
        await self._c.store.set_read(request.room, CONSOLE_READER, min(request.offset, last))
        return {}

    async def _link(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        request = parse_link(payload)
        expires_in = None if request.expires is None else parse_duration(request.expires, "expires")
        url = signed_link(
            request.base,
            self._c.link_secret(),
            request.room,
            request.name,
            expires_in,
            request.page if request.page is not None else self._c.link_page,
        )
        qr = segno.make(url, error="l").svg_data_uri(scale=4, border=2)
        return {"url": url, "qr": qr}

    async def _canned(self, conn: SioConnection, payload: Any) -> dict[str, Any]:
        replies = parse_canned(payload, self._c.limits)
        canned = self._c.canned
        if canned is None:
            raise Unavailable("this server keeps no canned replies")
        if replies is not None:
            canned.save(replies)
        return {"replies": canned.load()}
