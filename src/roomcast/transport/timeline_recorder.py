"""Writes a room's timeline events (joins, leaves, visibility, steps, notes) to the store.

Members' calls never wait for it: events are queued and written in batches by one task,
then shown to console connections with the ``seq`` the store gave them. A facilitator's
note is written at once (:meth:`TimelineRecorder.add_now`) so its ack can carry it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from roomcast.ports import Store, TimelineEvent

__all__ = ["TimelineRecorder"]

log = logging.getLogger(__name__)


class TimelineRecorder:
    """Queues timeline events and writes them in batches; ``show`` gets each stored one."""

    def __init__(self, store: Store, show: Callable[[TimelineEvent], None]) -> None:
        self._store = store
        self._show = show
        self._pending: list[TimelineEvent] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="roomcast-timeline")

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    def record(self, event: TimelineEvent) -> None:
        """Queue ``event``; it is written and shown soon after."""
        self._pending.append(event)
        self._wake.set()

    async def add_now(self, event: TimelineEvent) -> TimelineEvent:
        """Write ``event`` now and show it; return it as stored."""
        (stored,) = await self._store.add_events([event])
        self._show(stored)
        return stored

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                try:
                    stored = await self._store.add_events(batch)
                except Exception:  # task boundary: a lost record must not stop recording
                    log.exception("timeline: could not record %d events", len(batch))
                else:
                    for event in stored:
                        self._show(event)
            if self._stopping and not self._pending:
                return
