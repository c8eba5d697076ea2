"""An in-memory :class:`~roomcast.ports.Store`: the reference implementation of the contract.

Nothing survives the process; it serves tests, demos and ``--store memory``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from uuid import uuid4

from roomcast.adapters.store.checks import (
    check_draft,
    check_event,
    check_limit,
    check_read_position,
    idempotency_key,
)
from roomcast.core.policy import RoomPolicy
from roomcast.errors import BadRequest, Unavailable
from roomcast.ports import ApiKey, MessageDraft, RoomSummary, StoredMessage, TimelineEvent

__all__ = ["MemoryStore"]


class MemoryStore:
    """History kept in dictionaries; see :class:`roomcast.ports.Store` for the contract."""

    def __init__(self) -> None:
        self._messages: dict[str, list[StoredMessage]] = {}
        # Messages retention removed from the front of each room's list: offsets stay put.
        self._trimmed: dict[str, int] = {}
        self._policies: dict[str, RoomPolicy] = {}
        self._keys: dict[str, tuple[str, int]] = {}  # name -> (digest, created_ts)
        self._by_key: dict[tuple[str, str, str], StoredMessage] = {}
        self._reads: dict[tuple[str, str], int] = {}
        # Insertion order is activity order: a room is re-inserted on each new message.
        self._activity: dict[str, None] = {}
        self._events: dict[str, list[TimelineEvent]] = {}
        self._event_seq = 0
        self._open = False
        self._closed = False

    def _check_open(self) -> None:
        if not self._open:
            raise Unavailable("store is closed" if self._closed else "store is not open")

    async def open(self) -> None:
        """Make the store usable; a closed store stays closed."""
        if not self._closed:
            self._open = True

    async def close(self) -> None:
        """Refuse further calls; the history is dropped with the object."""
        self._open = False
        self._closed = True

    async def append(self, draft: MessageDraft) -> StoredMessage:
        """Store ``draft`` with the room's next offset, or return the message its cid names."""
        return (await self.append_many([draft]))[0]

    async def append_many(self, drafts: Sequence[MessageDraft]) -> list[StoredMessage]:
        """Append ``drafts`` in order; all are validated before any is stored."""
        self._check_open()
        encoded = [check_draft(draft) for draft in drafts]
        return [self._append_one(d, data) for d, data in zip(drafts, encoded, strict=True)]

    def _append_one(self, draft: MessageDraft, data_json: str | None) -> StoredMessage:
        key = idempotency_key(draft)
        if key is not None and key in self._by_key:
            return self._by_key[key]
        messages = self._messages.setdefault(draft.room, [])
        message = StoredMessage(
            room=draft.room,
            offset=self._trimmed.get(draft.room, 0) + len(messages) + 1,
            id=uuid4().hex,
            ts=draft.ts,
            kind=draft.kind,
            sender=draft.sender,
            text=draft.text,
            # Decoded from JSON like SqliteStore does, so both return equal values.
            data=None if data_json is None else json.loads(data_json),
            cid=draft.cid,
        )
        messages.append(message)
        if key is not None:
            self._by_key[key] = message
        self._activity.pop(draft.room, None)
        self._activity[draft.room] = None
        return message

    async def read(
        self,
        room: str,
        *,
        since: int | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[StoredMessage]:
        """Messages of ``room`` in increasing offset order; see ``Store.read``.

        With both ``since`` and ``before``: offsets strictly between them, oldest first.
        """
        self._check_open()
        check_limit(limit)
        messages = self._messages.get(room, [])
        trimmed = self._trimmed.get(room, 0)
        # Offsets are list positions + 1 + trimmed, so offset bounds are slice bounds.
        end = len(messages) if before is None else max(0, min(before - 1 - trimmed, len(messages)))
        if since is not None:
            start = max(0, since - trimmed)
            return messages[start : min(end, start + limit)]
        return messages[max(0, end - limit) : end]

    async def last_offset(self, room: str) -> int:
        """The room's newest offset; 0 for a room with no messages."""
        self._check_open()
        return self._trimmed.get(room, 0) + len(self._messages.get(room, ()))

    async def set_read(self, room: str, member_id: str, offset: int) -> None:
        """Remember how far ``member_id`` has read ``room``; never moves backwards."""
        self._check_open()
        check_read_position(room, member_id, offset)
        key = (room, member_id)
        self._reads[key] = max(self._reads.get(key, 0), offset)

    async def get_read(self, room: str, member_id: str) -> int:
        """The member's read position in the room; 0 if none."""
        self._check_open()
        return self._reads.get((room, member_id), 0)

    async def rooms(self) -> list[RoomSummary]:
        """Every room with at least one message, most recently appended to first."""
        self._check_open()
        newest = (self._messages[room][-1] for room in reversed(self._activity))
        return [RoomSummary(m.room, last_offset=m.offset, last_ts=m.ts) for m in newest]

    async def trim(
        self, room: str, *, below_offset: int | None = None, before_ts: int | None = None
    ) -> int:
        """Delete old messages of ``room`` by offset or time, never the newest one."""
        self._check_open()
        messages = self._messages.get(room, [])
        # Offsets and times both grow along the list, so what goes is a prefix.
        count = 0
        while count < len(messages) - 1 and (
            (below_offset is not None and messages[count].offset < below_offset)
            or (before_ts is not None and messages[count].ts < before_ts)
        ):
            count += 1
        for message in messages[:count]:
            key = idempotency_key(message)
            if key is not None:
                self._by_key.pop(key, None)
        del messages[:count]
        self._trimmed[room] = self._trimmed.get(room, 0) + count
        return count

    async def set_policy(self, room: str, policy: RoomPolicy) -> None:
        """Remember the room's policy."""
        self._check_open()
        self._policies[room] = policy

    async def policies(self) -> dict[str, RoomPolicy]:
        """Every room with a policy of its own."""
        self._check_open()
        return dict(self._policies)

    async def add_key(self, name: str, digest: str, created_ts: int) -> None:
        """Store an API key; ``BadRequest`` if the name is taken."""
        self._check_open()
        if name in self._keys:
            raise BadRequest(f"an API key named {name!r} exists; revoke it or choose another name")
        self._keys[name] = (digest, created_ts)

    async def revoke_key(self, name: str) -> bool:
        """Delete the named key; False if there was none."""
        self._check_open()
        return self._keys.pop(name, None) is not None

    async def key_name(self, digest: str) -> str | None:
        """The name of the key with this digest, or None."""
        self._check_open()
        return next((name for name, (d, _) in self._keys.items() if d == digest), None)

    async def keys(self) -> list[ApiKey]:
        """Every API key, oldest first."""
        self._check_open()
        return sorted(
            (ApiKey(n, ts) for n, (_, ts) in self._keys.items()), key=lambda k: k.created_ts
        )

    async def add_events(self, events: Sequence[TimelineEvent]) -> list[TimelineEvent]:
        """Record ``events`` in order, each with the next ``seq``; all validated first."""
        self._check_open()
        encoded = [check_event(event) for event in events]
        recorded = []
        for event, data in zip(events, encoded, strict=True):
            self._event_seq += 1
            stored = dataclasses.replace(
                event, seq=self._event_seq, data=None if data is None else json.loads(data)
            )
            self._events.setdefault(event.room, []).append(stored)
            recorded.append(stored)
        return recorded

    async def events(self, room: str, *, after: int = 0, limit: int = 500) -> list[TimelineEvent]:
        """The room's events after ``seq``, oldest first."""
        self._check_open()
        check_limit(limit)
        found = [event for event in self._events.get(room, ()) if event.seq > after]
        return found[:limit]
