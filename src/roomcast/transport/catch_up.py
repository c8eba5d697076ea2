"""Catch-up: broadcasting from the store what the bus did not bring to this process.

Redis pub/sub keeps nothing, so a process misses what others published while the bus was
down (their members' messages were stored and delivered on their own process only), and
a process killed between storing a message and publishing it never publishes it. Every
broadcast offset is noted (:class:`~roomcast.core.delivered.DeliveredOffsets`); a catch-up
reads each room with listeners here from its lowest offset not broadcast yet, and
broadcasts what it finds. Clients drop what they already have by offset, so a message
broadcast twice (live and caught up) is harmless; one never broadcast is not.

A catch-up of every room runs when the bus recovers and when another process dies; a
catch-up of one room runs when a gap in its offsets has not filled for a whole period.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable

from roomcast.core.delivered import DeliveredOffsets
from roomcast.log_context import detached
from roomcast.ports import Store
from roomcast.protocol.socketio import dumps

__all__ = ["CatchUp", "offset_of"]

log = logging.getLogger(__name__)

PAGE = 500
RETRY_DELAY = 1.0  # seconds before a catch-up the store failed is tried again


def offset_of(room: str, message_json: str) -> int:
    """The offset of a ``message`` payload, read without decoding all of it.

    ``StoredMessage.to_wire`` puts ``room`` then ``offset`` first, and room names need no
    escaping in JSON; anything else is decoded in full.
    """
    head = f'{{"room":"{room}","offset":'
    if message_json.startswith(head):
        end = message_json.find(",", len(head))
        digits = message_json[len(head) : end]
        if digits.isdigit():
            return int(digits)
    offset = json.loads(message_json)["offset"]
    if not isinstance(offset, int):
        raise ValueError("a message's offset is an integer")
    return offset


class CatchUp:
    """Notes broadcast offsets and reads the missing ones from the store.

    ``deliver(room, message_json)`` broadcasts one message here unless it already was;
    ``listening(room)`` says whether any connection here wants the room's messages.
    """

    def __init__(
        self,
        store: Store,
        deliver: Callable[[str, str], None],
        listening: Callable[[str], bool],
    ) -> None:
        self._store = store
        self._deliver = deliver
        self._listening = listening
        self.offsets = DeliveredOffsets()
        self._pending: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self.caught_up = 0  # messages broadcast from the store, for tests and logs

    def first_time(self, room: str, message_json: str) -> bool:
        """Note a message of ``room`` about to be broadcast here; False if it already was."""
        return self.offsets.delivered(room, offset_of(room, message_json))

    def joined(self, room: str, offset: int) -> None:
        """A member joined ``room`` and was given every message through ``offset``."""
        self.offsets.start(room, offset)

    def request(self, rooms: Iterable[str] | None = None) -> None:
        """Catch up ``rooms`` (every followed room when None) soon, in the background."""
        self._pending.update(self.offsets.rooms() if rooms is None else rooms)
        if self._pending and (self._task is None or self._task.done()):
            # Detached: it catches up rooms for everyone, whoever asked first.
            self._task = asyncio.create_task(
                self._run(), name="roomcast-catch-up", context=detached()
            )

    def check(self) -> None:
        """Periodic: forget rooms nobody here listens to; catch up gaps that did not fill."""
        for room in self.offsets.rooms():
            if not self._listening(room):
                self.offsets.forget(room)
        stale = self.offsets.stale_gaps()
        if stale:
            self.request(stale)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while self._pending:
            room = self._pending.pop()
            try:
                await self._catch_up(room)
            except Exception:  # a task boundary: the store failed; try again a little later
                log.exception("catch-up of room %r failed; trying again", room)
                self._pending.add(room)
                await asyncio.sleep(RETRY_DELAY)

    async def _catch_up(self, room: str) -> None:
        since = self.offsets.resume_point(room)
        if since is None or not self._listening(room):
            return
        found = 0
        while True:
            page = await self._store.read(room, since=since, limit=PAGE)
            for message in page:
                self._deliver(room, dumps(message.to_wire()))
            found += len(page)
            if page:
                since = page[-1].offset
            if len(page) < PAGE:
                break
        self.offsets.settle(room, since)
        if found:
            self.caught_up += found
            log.info("catch-up: room %r: %d messages from the store", room, found)
