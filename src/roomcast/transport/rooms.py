"""The rooms of one server: publishing a message, room policies, and retention.

Every way a message enters a room — a member's ``send``, the HTTP API, an in-process
producer — goes through :meth:`RoomService.publish`: stored first, then encoded once and
fanned out through the bus, so every path keeps the same guarantees.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from roomcast.core.policy import DEFAULT_POLICY, RoomPolicy, retention_bounds
from roomcast.ports import Bus, MessageDraft, Store, StoredMessage
from roomcast.protocol.socketio import dumps

__all__ = ["MESSAGES_CHANNEL", "RoomService"]

log = logging.getLogger(__name__)

MESSAGES_CHANNEL = "roomcast.messages"


def _now_ms() -> int:
    return int(time.time() * 1000)


class RoomService:
    """Publishes into rooms and applies their policies; one per server process.

    Policies are loaded from the store at start and changed through :meth:`set_policy`.
    Retention runs every ``retention_interval`` seconds over the rooms whose policy trims.
    """

    def __init__(
        self,
        store: Store,
        bus: Bus,
        *,
        retention_interval: float = 10.0,
        clock_ms: Callable[[], int] = _now_ms,
        on_store_write: Callable[[float], None] | None = None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._retention_interval = retention_interval
        self._clock_ms = clock_ms
        self._policies: dict[str, RoomPolicy] = {}
        self._retention: asyncio.Task[None] | None = None
        self._on_store_write = on_store_write  # seconds each append took, for /metrics
        self.published = 0

    async def start(self) -> None:
        """Load the room policies and start the retention task."""
        self._policies = await self._store.policies()
        self._retention = asyncio.create_task(self._run_retention(), name="roomcast-retention")

    async def stop(self) -> None:
        if self._retention is not None:
            self._retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention
            self._retention = None

    def now_ms(self) -> int:
        """The time a message published now is stamped with, in ms since the epoch."""
        return self._clock_ms()

    def policy(self, room: str) -> RoomPolicy:
        """The room's policy; rooms without one of their own have the default."""
        return self._policies.get(room, DEFAULT_POLICY)

    def has_policy(self, room: str) -> bool:
        return room in self._policies

    async def set_policy(self, room: str, policy: RoomPolicy) -> None:
        """Store and apply the room's policy; a new retention applies at once."""
        await self._store.set_policy(room, policy)
        self._policies[room] = policy
        if policy.trims:
            await self.trim(room)

    async def publish(self, draft: MessageDraft) -> tuple[StoredMessage, str]:
        """Store ``draft`` and fan it out; returns the message and its JSON text.

        Returns only once the message is stored; the text is what every subscriber gets,
        so a caller can put the same text in its reply.
        """
        started = time.perf_counter()
        message = await self._store.append(draft)
        if self._on_store_write is not None:
            self._on_store_write(time.perf_counter() - started)
        self.published += 1
        text = dumps(message.to_wire())
        # "<room>\n<message JSON>": room names have no newline, and receivers need not decode.
        await self._bus.publish(MESSAGES_CHANNEL, f"{draft.room}\n{text}".encode())
        return message, text

    async def trim(self, room: str) -> int:
        """Apply the room's retention now; returns how many messages were deleted."""
        policy = self.policy(room)
        if not policy.trims:
            return 0
        last = await self._store.last_offset(room)
        below, before = retention_bounds(policy, last, self._clock_ms())
        return await self._store.trim(room, below_offset=below, before_ts=before)

    async def _run_retention(self) -> None:
        while True:
            await asyncio.sleep(self._retention_interval)
            for room, policy in list(self._policies.items()):
                if not policy.trims:
                    continue
                try:
                    await self.trim(room)
                except Exception:  # a task boundary: one room's failure must not stop the rest
                    log.exception("retention of room %r failed", room)
