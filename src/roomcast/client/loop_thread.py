"""An asyncio event loop on a thread of its own: how the blocking clients wrap the async ones.

There is one implementation of each client, the async one; the blocking API hands its
coroutines to this loop and waits, so it works from any thread, inside or outside asyncio.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """A running event loop on a daemon thread; :meth:`run` waits for a coroutine on it."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        # A daemon: a script that forgets close() still exits.
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coroutine`` on the loop and return its result (or raise its error) here."""
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("a client's blocking methods cannot be called from its callbacks")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()  # e.g. Ctrl+C while waiting: do not leave the call running
            raise

    def stop(self) -> None:
        """Stop the loop and its thread; pending work is cancelled."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()
