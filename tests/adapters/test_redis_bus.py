"""What only the Redis bus promises: delivery between processes, and riding out an outage."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from tests.conftest import OwnRedis

from roomcast.adapters.bus import RedisBus
from roomcast.errors import ConfigError, Unavailable

FAST = (0.05, 0.5)  # reconnect back-off for tests, in seconds


async def eventually(check: Callable[[], bool]) -> None:
    """Wait, at most 10 seconds, for ``check()`` to hold."""
    async with asyncio.timeout(10):
        while not check():  # noqa: ASYNC110 -- state set by other tasks and by Redis
            await asyncio.sleep(0.02)


@pytest.fixture
async def two_buses(redis_server: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    """Two buses on one Redis, as two server processes have."""
    prefix = f"test-{uuid.uuid4().hex}:"
    first = RedisBus(redis_server, channel_prefix=prefix)
    second = RedisBus(redis_server, channel_prefix=prefix)
    await first.start()
    await second.start()
    yield first, second
    await first.stop()
    await second.stop()


async def test_publications_reach_other_processes_in_order_and_once(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    first, second = two_buses
    got_first: list[bytes] = []
    got_second: list[bytes] = []
    await first.subscribe("room", lambda c, p: got_first.append(p))
    await second.subscribe("room", lambda c, p: got_second.append(p))

    sent = [str(i).encode() for i in range(300)]
    await asyncio.gather(*(first.publish("room", payload) for payload in sent))
    await second.publish("room", b"from second")

    assert got_first[:300] == sent  # at once, in order: its own
    await eventually(lambda: len(got_second) == 301 and len(got_first) == 301)
    assert got_second == [*sent, b"from second"]
    assert got_first[300:] == [b"from second"]  # its own came back from Redis and was skipped


async def test_unsubscribed_channels_stop_arriving_from_others(
    two_buses: tuple[RedisBus, RedisBus],
) -> None:
    first, second = two_buses
    got: list[bytes] = []

    def handler(channel: str, payload: bytes) -> None:
        got.append(payload)

    await first.subscribe("a", handler)
    await second.publish("a", b"1")
    await eventually(lambda: got == [b"1"])
    await first.unsubscribe("a", handler)
    await second.publish("a", b"2")
    await first.subscribe("b", handler)  # b is confirmed after a's unsubscribe: a is gone
    await second.publish("b", b"3")
    await eventually(lambda: got == [b"1", b"3"])


async def test_an_unreachable_redis_is_a_config_error_naming_bus() -> None:
    bus = RedisBus("redis://:secret@127.0.0.1:1/0")
    with pytest.raises(ConfigError, match="--bus: cannot reach Redis") as caught:
        await bus.start()
    assert "secret" not in caught.value.message
    assert not bus.healthy


async def test_an_outage_fails_publishes_shows_in_health_and_delivery_resumes(
    own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="roomcast.adapters.bus.redis")
    listener = RedisBus(own_redis.url, reconnect_delay=FAST)
    talker = RedisBus(own_redis.url, reconnect_delay=FAST)
    await listener.start()
    await talker.start()
    try:
        got: list[bytes] = []
        recovered: list[str] = []
        await listener.subscribe("room", lambda c, p: got.append(p))
        listener.on_recovered(lambda: recovered.append("listener"))
        await talker.publish("room", b"before")
        await eventually(lambda: got == [b"before"])

        own_redis.stop()
        await eventually(lambda: not listener.healthy)
        for bus in (talker, listener):
            with pytest.raises(Unavailable, match=r"Redis at redis://127\.0\.0\.1"):
                await bus.publish("room", b"lost")
            assert not bus.healthy
        assert got == [b"before"]  # a failed publish is delivered nowhere, not even here
        assert "next try in" in caplog.text

        own_redis.start()  # same port
        await eventually(lambda: listener.healthy and listener.reconnects == 1)
        assert recovered == ["listener"]  # where the server catches up from the store
        await talker.publish("room", b"after")
        assert talker.healthy
        await eventually(lambda: got == [b"before", b"after"])
        assert "connected to Redis at redis://127.0.0.1" in caplog.text
    finally:
        await listener.stop()
        await talker.stop()
