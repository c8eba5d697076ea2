"""Producers: small functions started with the server that publish into rooms.

    from roomcast import producer

    @producer("ticker", every=1.0)
    def tick():
        return {"n": read_sensor()}      # published as data; None publishes nothing

    @producer("queue")
    async def watch_queue():             # an async generator: each value it yields
        async for state in queue_states():
            yield {"state": state}

    roomcast serve --producer mymodule:tick --producer mymodule:watch_queue

This is the background thread of the classic tutorials, without the thread: it runs on the
server's event loop (a plain function runs in a worker thread, so it may block). A producer
that raises is logged and restarted with back-off; it never takes the server down.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from roomcast.core.errors import ConfigError
from roomcast.core.policy import parse_policy
from roomcast.core.validation import parse_room

__all__ = ["Producer", "load_producer", "producer"]

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class Producer:
    """A function that makes a room's data, how often to call it (None: it yields), and the
    room policy it asks for (None: leave the room's policy alone)."""

    room: str
    function: Callable[[], Any]
    every: float | None = None
    policy: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))

    async def values(self) -> AsyncIterator[Any]:
        """Each value to publish, forever (or until an async generator ends)."""
        if inspect.isasyncgenfunction(self.function):
            async for value in self.function():
                yield value
            return
        assert self.every is not None, "checked by producer()"
        while True:
            if inspect.iscoroutinefunction(self.function):
                value = await self.function()
            else:  # a plain function may block (a sensor, an HTTP call): not on the loop
                value = await asyncio.to_thread(self.function)
            yield value
            await asyncio.sleep(self.every)


def producer(
    room: str,
    *,
    every: float | None = None,
    keep_last: int | None = None,
    keep_for: float | str | None = None,
    client_posts: bool | None = None,
) -> Callable[[Callable[[], Any]], Producer]:
    """Make a function a producer for ``room``: called every ``every`` seconds, or, for an
    async generator, published from at each value it yields.

    ``keep_last``, ``keep_for`` and ``client_posts`` set the room's policy when the server
    starts (see ``roomcast room``); a feed of ten values a second wants a ``keep_last``.
    """
    parse_room(room)
    asked = {"keep_last": keep_last, "keep_for": keep_for, "client_posts": client_posts}
    policy = {name: value for name, value in asked.items() if value is not None} or None
    if policy is not None:
        parse_policy(policy)  # a bad policy fails at import, where the user wrote it

    def wrap(function: Callable[[], Any]) -> Producer:
        is_generator = inspect.isasyncgenfunction(function)
        if is_generator and every is not None:
            raise ConfigError(
                f"producer {function.__qualname__}: an async generator sets its "
                "own pace; drop every="
            )
        if not is_generator and (every is None or every <= 0):
            raise ConfigError(f"producer {function.__qualname__}: give every=SECONDS (> 0)")
        return Producer(room, function, every, policy)

    return wrap


def load_producer(spec: str) -> Producer:
    """The producer named ``module:attribute``, imported from the working folder too."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"--producer {spec!r}: write it as module:function, e.g. feeds:tick")
    if os.getcwd() not in sys.path:  # `roomcast serve` is run where the user's module is
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any error in the user's module: report it, start nothing
        raise ConfigError(f"--producer {spec!r}: cannot import {module_name}: {exc}") from exc
    found = getattr(module, attribute, None)
    if found is None:
        raise ConfigError(f"--producer {spec!r}: {module_name} has no {attribute!r}")
    if not isinstance(found, Producer):
        raise ConfigError(
            f"--producer {spec!r}: {attribute} is not a producer; decorate it with "
            f"@roomcast.producer(ROOM, every=SECONDS)"
        )
    return found


async def run_producer(item: Producer, publish: Callable[[Producer, Any], Awaitable[None]]) -> None:
    """Publish ``item``'s values forever; restart it with back-off when it raises."""
    backoff = 1.0
    while True:
        try:
            async for value in item.values():
                if value is not None:
                    await publish(item, value)
                backoff = 1.0  # it works again: the next failure starts the back-off anew
            log.info("producer %s ended", item.name)
            return
        except asyncio.CancelledError:
            raise
        except Exception:  # a task boundary: log, wait, restart; never stop the server
            log.exception("producer %s failed; restarting in %.0f s", item.name, backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF)
