"""Whether the store answers, for ``/healthz``: a real read, bounded in time.

Cancelling a read that hangs does not end it at once: asyncpg, told to cancel a query on a
connection that no longer answers, waits for the cancellation to go through, and an SQLite
read on its thread cannot be cancelled at all. So the read runs as a task of its own that
``/healthz`` waits for at most ``timeout`` seconds and never cancels; later checks wait for
that same task until it ends (the store's own timeouts end it), so a hung store costs one
pending read, not one per check.
"""

from __future__ import annotations

import asyncio
import logging

from roomcast.log_context import detached
from roomcast.ports import Store

__all__ = ["HEALTH_TIMEOUT", "StoreProbe"]

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 2.0  # seconds /healthz waits for the store
_ROOM = "roomcast-health"


class StoreProbe:
    """Reads from ``store`` to see that it answers."""

    def __init__(self, store: Store, timeout: float = HEALTH_TIMEOUT) -> None:
        self._store = store
        self._timeout = timeout
        self._pending: asyncio.Task[int] | None = None

    async def answers(self) -> bool:
        """True if a read succeeds within the timeout; logs why not."""
        task = self._pending
        if task is None or task.done():
            # Detached: the read serves every check until it ends, not the request that began it.
            task = self._pending = asyncio.create_task(
                self._store.last_offset(_ROOM), name="roomcast-health", context=detached()
            )
            task.add_done_callback(_retrieve)  # a read that fails after the wait: no warning
        done, _ = await asyncio.wait({task}, timeout=self._timeout)
        if not done:
            log.warning("health check: the store did not answer within %s s", self._timeout)
            return False
        error = task.exception()
        if error is not None:
            log.error("health check: the store failed: %s", error, exc_info=error)
            return False
        return True

    def stop(self) -> None:
        """Give up a read still pending (the server is stopping)."""
        if self._pending is not None:
            self._pending.cancel()


def _retrieve(task: asyncio.Task[int]) -> None:
    if not task.cancelled():
        task.exception()
