"""One writer task per store: every write pending at that moment is committed as one batch.

The SQLite and PostgreSQL stores share this loop; each gives the function that commits a
batch and returns, per write, its result or the exception it failed with. Callers wait on
their write's future, which this loop resolves.
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


class WriteQueue(Generic[W]):
    """Queues writes and commits them in batches with ``commit``, on one task."""

    def __init__(self, commit: Callable[[list[W]], Awaitable[list[object]]], name: str) -> None:
        self._commit = commit
        self._name = name
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
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            stopping = any(item is None for item in batch)
            writes = [item for item in batch if item is not None]
            if writes:
                self._settle(writes, await self._commit(writes))

    @staticmethod
    def _settle(writes: list[W], outcomes: list[object]) -> None:
        for write, outcome in zip(writes, outcomes, strict=True):
            if write.future.done():  # the caller was cancelled; its write still counts
                continue
            if isinstance(outcome, BaseException):
                write.future.set_exception(outcome)
            else:
                write.future.set_result(outcome)
