"""Interfaces between the server and its adapters (see docs/topics/architecture.md).

Each port is a ``typing.Protocol``; every implementation under ``adapters/`` passes
one shared contract test suite (``tests/adapters``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from roomcast.core.policy import RoomPolicy

__all__ = [
    "ApiKey",
    "Bus",
    "BusHandler",
    "MessageDraft",
    "MessageKind",
    "RoomSummary",
    "Sender",
    "Store",
    "StoredMessage",
    "TimelineEvent",
    "TimelineKind",
]

MessageKind = Literal["text", "data", "system"]


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a message: a member's stable id and display name."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class MessageDraft:
    """A message accepted by the core, before the store gives it an offset.

    ``cid`` is the sender's idempotency key: appending a draft whose
    ``(room, sender.id, cid)`` is already stored returns the stored message.
    ``ts`` is milliseconds since the Unix epoch, read by the caller.
    """

    room: str
    kind: MessageKind
    ts: int
    sender: Sender | None = None
    text: str | None = None
    data: Any = None
    cid: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A durably stored message. ``offset`` is gapless and increasing per room, from 1."""

    room: str
    offset: int
    id: str
    ts: int
    kind: MessageKind
    sender: Sender | None = None
    text: str | None = None
    data: Any = None
    cid: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The ``message`` event payload of the wire contract."""
        wire: dict[str, Any] = {
            "room": self.room,
            "offset": self.offset,
            "id": self.id,
            "ts": self.ts,
            "kind": self.kind,
            "sender": ({"id": self.sender.id, "name": self.sender.name} if self.sender else None),
        }
        if self.text is not None:
            wire["text"] = self.text
        if self.data is not None:
            wire["data"] = self.data
        if self.cid is not None:
            wire["cid"] = self.cid
        return wire


TimelineKind = Literal["join", "leave", "reconnect", "visibility", "step", "note"]


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """Something that happened in a room besides a message, for the session record.

    ``join``/``leave``/``reconnect`` of a member, ``visibility`` of its page
    (``data: {"state": "online"|"away"}``), a prototype ``step`` reported by ``track()``
    (``data: {"step", "data"?}``) and a facilitator's ``note`` (``data: {"text"}``, never
    shown to testers). ``seq`` is given by the store: increasing, per store.
    """

    room: str
    ts: int
    kind: TimelineKind
    actor: Sender | None = None
    data: Any = None
    seq: int = 0

    def to_wire(self) -> dict[str, Any]:
        """The ``timeline`` event payload that console connections get."""
        return {
            "type": "event",
            "room": self.room,
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "actor": None if self.actor is None else {"id": self.actor.id, "name": self.actor.name},
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class RoomSummary:
    """A room as listed: its name, newest offset and the time of its newest message."""

    room: str
    last_offset: int
    last_ts: int | None = field(default=None)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """An API key as listed: its name and when it was made (ms). The key itself is not kept."""

    name: str
    created_ts: int


class Store(Protocol):
    """Durable history: messages with per-room gapless offsets, read positions, rooms."""

    async def open(self) -> None:
        """Create or open the storage; called once before any other method."""

    async def close(self) -> None:
        """Finish pending writes and release the storage."""

    async def append(self, draft: MessageDraft) -> StoredMessage:
        """Store ``draft`` durably and return it with the room's next offset.

        Returns only once the message is committed. Idempotent by ``(room, sender.id, cid)``
        when ``cid`` is set: a retry returns the first stored message unchanged.
        """

    async def append_many(self, drafts: Sequence[MessageDraft]) -> list[StoredMessage]:
        """Append several drafts in order, committed together; same rules as ``append``."""

    async def read(
        self,
        room: str,
        *,
        since: int | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[StoredMessage]:
        """Messages of ``room`` in increasing offset order.

        ``since``: those with offset > since, oldest first, at most ``limit``.
        ``before``: the newest ``limit`` with offset < before.
        Neither: the newest ``limit`` messages.
        """

    async def last_offset(self, room: str) -> int:
        """The room's newest offset; 0 for a room with no messages."""

    async def set_read(self, room: str, member_id: str, offset: int) -> None:
        """Remember how far a member has read; never moves backwards."""

    async def get_read(self, room: str, member_id: str) -> int:
        """The member's read position in the room; 0 if none."""

    async def rooms(self) -> list[RoomSummary]:
        """Every room with at least one message, most recently active first."""

    async def trim(
        self, room: str, *, below_offset: int | None = None, before_ts: int | None = None
    ) -> int:
        """Delete messages with offset < ``below_offset`` or ts < ``before_ts``.

        Never deletes the room's newest message, and never changes offsets: the room's next
        message still gets the next offset. Returns how many messages were deleted.
        """

    async def set_policy(self, room: str, policy: RoomPolicy) -> None:
        """Remember the room's policy (who may post, retention)."""

    async def policies(self) -> dict[str, RoomPolicy]:
        """Every room with a policy of its own; the others have the default policy."""

    async def add_key(self, name: str, digest: str, created_ts: int) -> None:
        """Store an API key by name and digest; ``BadRequest`` if the name is taken."""

    async def revoke_key(self, name: str) -> bool:
        """Delete the named key; False if there was none."""

    async def key_name(self, digest: str) -> str | None:
        """The name of the key with this digest, or None."""

    async def keys(self) -> list[ApiKey]:
        """Every API key, oldest first."""

    async def add_events(self, events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
        """Record timeline events in order, committed together; return them with their ``seq``."""

    async def events(self, room: str, *, after: int = 0, limit: int = 500) -> list[TimelineEvent]:
        """The room's events with ``seq > after``, oldest first, at most ``limit``."""


BusHandler = Callable[[str, bytes], Awaitable[None] | None]


class Bus(Protocol):
    """Fan-out between server processes: what one publishes on a channel, all subscribers get."""

    @property
    def healthy(self) -> bool:
        """Whether publications are being delivered now (``/healthz`` shows it)."""

    async def start(self) -> None:
        """Connect; called once before publish or subscribe."""

    async def stop(self) -> None:
        """Disconnect and drop every subscription."""

    async def publish(self, channel: str, payload: bytes) -> None:
        """Send ``payload`` to every subscriber of ``channel``, this process included."""

    async def subscribe(self, channel: str, handler: BusHandler) -> None:
        """Call ``handler(channel, payload)`` for each publication, in publication order."""

    async def unsubscribe(self, channel: str, handler: BusHandler) -> None:
        """Stop calling ``handler`` for ``channel``."""

    def on_recovered(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` each time the bus delivers again after an outage.

        Publications made elsewhere during the outage were not delivered here: the listener
        is where a process catches up (from the store). A bus that cannot fail never calls it.
        """
