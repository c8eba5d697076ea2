"""A :class:`~roomcast.ports.Bus` over Redis pub/sub, for many server processes.

What it guarantees (docs/topics/scaling.md says the same for operators):

- ``publish`` returns once Redis has taken the publication and this process's own handlers
  have run; it raises ``Unavailable`` when Redis cannot take it. It never drops silently.
- This process's publications reach its own handlers at once, without a trip through Redis
  (like :class:`~roomcast.adapters.bus.local.LocalBus`); its copy coming back from Redis is
  recognised by a 16-byte process id in front of each payload and skipped.
- Publications of one process on one channel reach every subscribed process in the order
  they were published: one writer task sends them, pipelined, in queue order, and one reader
  task per process calls the handlers one publication at a time.
- ``subscribe`` returns once Redis has confirmed the channel (or at most ``confirm_timeout``
  seconds), so what anyone publishes afterwards reaches the handler.
- While Redis is down, or this process's subscriber connection is, publications made
  elsewhere are *not* delivered here and are not replayed later: Redis pub/sub keeps
  nothing. The subscriber reconnects with back-off (logged), subscribes again and
  ``healthy`` turns true again and the ``on_recovered`` listeners are called: messages are
  stored before they are published, so the server catches up from the store
  (transport/catch_up.py), and clients that join again with their offset get them too.

One connection subscribes for the whole process; publishing uses another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from roomcast.adapters.bus.delivery import deliver
from roomcast.adapters.urls import redact
from roomcast.errors import ConfigError, Unavailable
from roomcast.ports import BusHandler

__all__ = ["RedisBus"]

log = logging.getLogger(__name__)

_ID_SIZE = 16
_FAILURES = (RedisError, OSError)


@dataclass(slots=True)
class _Outgoing:
    key: bytes
    payload: bytes  # with the process id in front
    future: asyncio.Future[None]


class RedisBus:
    """Fan-out between processes through the Redis at ``url`` (``redis://host:port/db``).

    ``channel_prefix`` goes in front of every channel name in Redis, so deployments (or
    tests) can share one Redis. ``reconnect_delay`` is the first and the longest wait
    between attempts to reconnect the subscriber, in seconds; it doubles in between.
    """

    def __init__(
        self,
        url: str,
        *,
        channel_prefix: str = "",
        reconnect_delay: tuple[float, float] = (0.1, 5.0),
        confirm_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.channel_prefix = channel_prefix
        self.reconnect_delay = reconnect_delay
        self.confirm_timeout = confirm_timeout
        self.reconnects = 0
        self._id = os.urandom(_ID_SIZE)
        self._handlers: dict[str, list[BusHandler]] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        self._outbox: asyncio.Queue[_Outgoing | None] = asyncio.Queue()
        self._running = False
        self._publish_failed = False
        self._client: Redis | None = None
        self._pubsub: PubSub | None = None  # None while the subscriber is reconnecting
        self._tasks: list[asyncio.Task[None]] = []
        self._recovery_listeners: list[Callable[[], None]] = []

    @property
    def healthy(self) -> bool:
        """Whether the subscriber is connected and the last publication went through."""
        return self._running and self._pubsub is not None and not self._publish_failed

    def _key(self, channel: str) -> bytes:
        return (self.channel_prefix + channel).encode("utf-8")

    def _channel(self, key: bytes) -> str:
        return key.decode("utf-8")[len(self.channel_prefix) :]

    async def start(self) -> None:
        """Connect and subscribe; ``ConfigError`` (naming ``--bus``) if Redis is unreachable."""
        if self._running:
            return
        # One immediate retry: a pooled connection may be stale after Redis restarted.
        # Longer waits are the caller's: a publish must fail fast, not hang.
        client = Redis.from_url(
            self.url, retry=Retry(NoBackoff(), 1), socket_connect_timeout=2, socket_timeout=5
        )
        try:
            await client.ping()
            self._client = client
            self._pubsub = await self._subscribe_all()
        except _FAILURES as exc:
            self._client = None
            await client.aclose()
            raise ConfigError(f"--bus: cannot reach Redis at {redact(self.url)}: {exc}") from None
        self._running = True
        self._tasks = [
            asyncio.create_task(self._run_reader(), name="roomcast-redis-reader"),
            asyncio.create_task(self._run_writer(), name="roomcast-redis-writer"),
        ]

    async def stop(self) -> None:
        """Send what is queued, then disconnect and drop every subscription."""
        if not self._running:
            return
        self._running = False
        self._outbox.put_nowait(None)
        reader, writer = self._tasks
        reader.cancel()
        await asyncio.gather(reader, writer, return_exceptions=True)
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await _close(pubsub)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._handlers.clear()
        self._wake_subscribers()

    async def publish(self, channel: str, payload: bytes) -> None:
        """Publish through Redis, then call this process's handlers; ``Unavailable`` if
        Redis does not take it."""
        if not self._running:
            raise Unavailable("the bus is stopped")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._outbox.put_nowait(_Outgoing(self._key(channel), self._id + payload, future))
        await future
        await deliver(channel, payload, self._handlers.get(channel, ()))

    async def subscribe(self, channel: str, handler: BusHandler) -> None:
        """Call ``handler`` for each publication on ``channel``, from any process."""
        handlers = self._handlers.setdefault(channel, [])
        handlers.append(handler)
        pubsub = self._pubsub
        if len(handlers) > 1 or pubsub is None:
            return  # already subscribed, or (re)connecting: that subscribes to every channel
        confirmed = self._confirmed[channel] = asyncio.Event()
        try:
            await pubsub.subscribe(self._key(channel))
        except _FAILURES:
            return  # the reader sees the same failure, reconnects and subscribes again
        try:
            await asyncio.wait_for(confirmed.wait(), self.confirm_timeout)
        except TimeoutError:
            log.warning("bus: Redis did not confirm channel %s in time", channel)

    async def unsubscribe(self, channel: str, handler: BusHandler) -> None:
        """Stop calling ``handler``; the last one off a channel unsubscribes in Redis too."""
        handlers = self._handlers.get(channel, [])
        if handler in handlers:
            handlers.remove(handler)
        if handlers or channel not in self._handlers:
            return
        del self._handlers[channel]
        if self._pubsub is not None:
            with contextlib.suppress(*_FAILURES):
                await self._pubsub.unsubscribe(self._key(channel))

    async def _subscribe_all(self) -> PubSub:
        """A new subscriber connection, subscribed to this process's own channel and every
        channel that has handlers. The own channel keeps it subscribed when none has."""
        assert self._client is not None, "set by start()"
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(
                self._key(f"roomcast.bus.{self._id.hex()}"), *map(self._key, self._handlers)
            )
        except BaseException:
            await _close(pubsub)
            raise
        return pubsub

    def on_recovered(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after the subscriber reconnected, or a publish went through
        after one failed: publications of other processes may have been missed meanwhile."""
        self._recovery_listeners.append(listener)

    def _recovered(self) -> None:
        for listener in tuple(self._recovery_listeners):
            try:
                listener()
            except Exception:  # a task boundary for the listener
                log.exception("bus: recovery listener failed")

    def _wake_subscribers(self) -> None:
        for event in self._confirmed.values():
            event.set()
        self._confirmed.clear()

    async def _run_reader(self) -> None:
        delay = self.reconnect_delay[0]
        while True:
            pubsub = self._pubsub
            if pubsub is None:
                try:
                    pubsub = self._pubsub = await self._subscribe_all()
                except _FAILURES as exc:
                    wait = delay * random.uniform(0.5, 1.0)
                    log.warning(
                        "bus: Redis at %s is unreachable (%s); next try in %.1f s",
                        redact(self.url),
                        exc,
                        wait,
                    )
                    await asyncio.sleep(wait)
                    delay = min(delay * 2, self.reconnect_delay[1])
                    continue
                self.reconnects += 1
                self._publish_failed = False
                delay = self.reconnect_delay[0]
                log.warning("bus: connected to Redis at %s again", redact(self.url))
                self._recovered()
            try:
                message = await pubsub.get_message(timeout=1.0)
            except _FAILURES as exc:
                log.warning("bus: lost Redis at %s (%s); reconnecting", redact(self.url), exc)
                self._pubsub = None
                self._wake_subscribers()
                await _close(pubsub)
                # Redis went away: so did the pooled connections publishes would use. Drop
                # them now, so that the first publish after Redis is back does not fail.
                assert self._client is not None, "set by start()"
                with contextlib.suppress(*_FAILURES):
                    await self._client.connection_pool.disconnect()
                continue
            if message is not None:
                await self._received(message)

    async def _received(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = self._channel(message["channel"])
        if kind == "subscribe":
            event = self._confirmed.pop(channel, None)
            if event is not None:
                event.set()
            return
        data: bytes = message["data"]
        if kind != "message" or data[:_ID_SIZE] == self._id:
            return  # our own publications were delivered here when they were published
        await deliver(channel, data[_ID_SIZE:], self._handlers.get(channel, ()))

    async def _run_writer(self) -> None:
        stopping = False
        while not stopping:
            batch = [await self._outbox.get()]
            while not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            stopping = any(item is None for item in batch)
            outgoing = [item for item in batch if item is not None]
            if outgoing:
                await self._send(outgoing)

    async def _send(self, outgoing: list[_Outgoing]) -> None:
        assert self._client is not None, "the writer runs only while the bus is started"
        error: str | None = None
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for item in outgoing:
                    pipe.publish(item.key, item.payload)
                await pipe.execute()
        except _FAILURES as exc:
            self._publish_failed = True
            log.warning("bus: could not publish to Redis at %s: %s", redact(self.url), exc)
            error = f"the bus could not publish: Redis at {redact(self.url)} is unreachable ({exc})"
        else:
            if self._publish_failed:
                self._publish_failed = False
                if self._pubsub is not None:  # else the reader reports it once reconnected
                    self._recovered()
        for item in outgoing:
            if item.future.done():  # the caller was cancelled
                continue
            if error is None:
                item.future.set_result(None)
            else:
                item.future.set_exception(Unavailable(error))


async def _close(pubsub: PubSub) -> None:
    with contextlib.suppress(*_FAILURES):
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
