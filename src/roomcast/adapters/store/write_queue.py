"""One writer task per store: every write pending at that moment is committed as one batch.

The SQLite and PostgreSQL stores share this loop; each gives the function that commits a
batch and returns, per write, its result or the exception it failed with. Callers wait on
their write's future, which this loop resolves. A store may ask the loop to *gather* first:
yield to the event loop while writes keep arriving, so that one commit takes the writes of
a busy moment instead of those of its first loop pass (SQLite does; see ``gather``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["QueuedWrite", "WriteQueue"]


class QueuedWrite(Protocol):
    """A write waiting in the queue; its future gets the outcome."""

    future: asyncio.Future[Any]


W = TypeVar("W", bound=QueuedWrite)

#: Loop passes a gathering writer waits at most for more writes: bounds the added latency.
_GATHER_PASSES = 8


class WriteQueue(Generic[W]):
    """Queues writes and commits them in batches with ``commit``, on one task."""

    def __init__(
        self,
        commit: Callable[[list[W]], Awaitable[list[object]]],
        name: str,
        *,
        gather: bool = False,
    ) -> None:
        """``gather``: before committing, let the event loop run while writes keep coming.

        On a busy server the writes of a moment arrive over a few loop passes (each read
        socket's task runs in turn), so the first pass's batch is a fraction of them; every
        commit costs a WAL write of each page it touched and an fsync, whatever its size.
        """
        self._commit = commit
        self._name = name
        self._gather = gather
        self._queue: asyncio.Queue[W | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self._name)

    def put(self, write: W) -> None:
        self._queue.put_nowait(write)

    async def stop(self) -> None:
        """Commit every write queued so far, then end the task; queue nothing after this."""
        self._queue.put_nowait(None)  # the stop mark, after every write already queued
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            batch = [await self._queue.get()]
            if self._gather:
                await self._settle_in()
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            stopping = any(item is None for item in batch)
            writes = [item for item in batch if item is not None]
            if writes:
                self._settle(writes, await self._commit(writes))

    async def _settle_in(self) -> None:
        """Yield to the loop until a full pass adds no write (at most _GATHER_PASSES)."""
        for _ in range(_GATHER_PASSES):
            before = self._queue.qsize()
            # Two yields: tasks woken by this pass's reads run after this one does.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            if self._queue.qsize() == before:
                return

    @staticmethod
    def _settle(writes: list[W], outcomes: list[object]) -> None:
        for write, outcome in zip(writes, outcomes, strict=True):
            if write.future.done():  # the caller was cancelled; its write still counts
                continue
            if isinstance(outcome, BaseException):
                write.future.set_exception(outcome)
            else:
                write.future.set_result(outcome)
