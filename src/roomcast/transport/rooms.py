"""The rooms of one server: publishing a message, room policies, and retention.

Every way a message enters a room — a member's ``send``, the HTTP API, an in-process
producer — goes through :meth:`RoomService.publish`: stored first, then encoded once and
fanned out through the bus, so every path keeps the same guarantees.

When the bus cannot take a stored message (Redis is down), the message still reaches this
process's own members and the publish succeeds: it *is* stored, so refusing it would tell
the sender it was lost when it was not. The other processes read it from the store when
the bus is back (see transport/catch_up.py). A policy change is stored, then announced on
:data:`POLICIES_CHANNEL` so every process reloads the policies from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from roomcast.core.errors import Unavailable
from roomcast.core.policy import DEFAULT_POLICY, RoomPolicy, retention_bounds
from roomcast.ports import Bus, MessageDraft, Store, StoredMessage
from roomcast.protocol.socketio import dumps

__all__ = ["MESSAGES_CHANNEL", "POLICIES_CHANNEL", "RoomService"]

log = logging.getLogger(__name__)

MESSAGES_CHANNEL = "roomcast.messages"
POLICIES_CHANNEL = "roomcast.policies"  # payload: the room whose policy changed


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
        self._local: list[Callable[[str, bytes], None]] = []
        self._reload: asyncio.Task[None] | None = None
        self.published = 0
        self.unshared = 0  # stored messages the bus could not take, delivered here only

    def deliver_here(self, handler: Callable[[str, bytes], None]) -> None:
        """Give ``handler`` the publications the bus refuses, so local members still get them."""
        self._local.append(handler)

    async def start(self) -> None:
        """Load the room policies, follow other processes' changes, start retention."""
        self._policies = await self._store.policies()
        await self._bus.subscribe(POLICIES_CHANNEL, self._on_policy_changed)
        self._bus.on_recovered(self._reload_soon)  # changes announced meanwhile were missed
        self._retention = asyncio.create_task(self._run_retention(), name="roomcast-retention")

    def _on_policy_changed(self, channel: str, payload: bytes) -> None:
        self._reload_soon()

    def _reload_soon(self) -> None:
        if self._reload is None or self._reload.done():
            self._reload = asyncio.create_task(self._reload_policies(), name="roomcast-policies")

    async def _reload_policies(self) -> None:
        try:
            self._policies = await self._store.policies()
        except Exception:  # a task boundary: the next change or recovery reloads again
            log.exception("could not reload room policies")

    async def stop(self) -> None:
        await self._bus.unsubscribe(POLICIES_CHANNEL, self._on_policy_changed)
        if self._reload is not None:
            await asyncio.gather(self._reload, return_exceptions=True)
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
        try:
            await self._bus.publish(POLICIES_CHANNEL, room.encode())
        except Unavailable:
            log.warning(
                "room %r: policy stored; other processes load it when the bus is back", room
            )
        if policy.trims:
            await self.trim(room)

    async def publish(self, draft: MessageDraft) -> tuple[StoredMessage, str]:
        """Store ``draft`` and fan it out; returns the message and its JSON text.

        Returns only once the message is stored; the text is what every subscriber gets,
        so a caller can put the same text in its reply. A bus that refuses the message does
        not fail the call (see the module's docstring).
        """
        started = time.perf_counter()
        message = await self._store.append(draft)
        if self._on_store_write is not None:
            self._on_store_write(time.perf_counter() - started)
        self.published += 1
        text = dumps(message.to_wire())
        # "<room>\n<message JSON>": room names have no newline, and receivers need not decode.
        payload = f"{draft.room}\n{text}".encode()
        try:
            await self._bus.publish(MESSAGES_CHANNEL, payload)
        except Unavailable as error:
            self.unshared += 1
            log.warning("room %r: offset %d stored, delivered here only: %s", draft.room,
                        message.offset, error.message)  # fmt: skip
            for handler in self._local:
                handler(MESSAGES_CHANNEL, payload)
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
