"""One contract for every Bus adapter: the local bus and the Redis bus."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from roomcast.adapters.bus import LocalBus, RedisBus
from roomcast.errors import Unavailable
from roomcast.ports import Bus


@pytest.fixture(params=["local", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    adapter: Bus
    if request.param == "local":
        adapter = LocalBus()
    else:  # channels of its own in the shared Redis
        url = request.getfixturevalue("redis_server")
        adapter = RedisBus(url, channel_prefix=f"test-{uuid.uuid4().hex}:")
    await adapter.start()
    assert adapter.healthy
    yield adapter
    await adapter.stop()


async def test_publications_arrive_in_order(bus: Bus) -> None:
    got: list[bytes] = []
    await bus.subscribe("room", lambda channel, payload: got.append(payload))
    for i in range(100):
        await bus.publish("room", str(i).encode())
    assert got == [str(i).encode() for i in range(100)]


async def test_every_subscriber_of_the_channel_and_no_other_gets_it(bus: Bus) -> None:
    first: list[tuple[str, bytes]] = []
    second: list[tuple[str, bytes]] = []
    other: list[tuple[str, bytes]] = []
    await bus.subscribe("a", lambda c, p: first.append((c, p)))
    await bus.subscribe("a", lambda c, p: second.append((c, p)))
    await bus.subscribe("b", lambda c, p: other.append((c, p)))
    await bus.publish("a", b"x")
    assert first == second == [("a", b"x")]
    assert other == []


async def test_async_handlers_are_awaited(bus: Bus) -> None:
    got: list[bytes] = []

    async def handler(channel: str, payload: bytes) -> None:
        got.append(payload)

    await bus.subscribe("c", handler)
    await bus.publish("c", b"y")
    assert got == [b"y"]


async def test_a_failing_subscriber_does_not_stop_the_others(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[bytes] = []

    def broken(channel: str, payload: bytes) -> None:
        raise RuntimeError("subscriber bug")

    await bus.subscribe("d", broken)
    await bus.subscribe("d", lambda c, p: got.append(p))
    await bus.publish("d", b"z")
    assert got == [b"z"]
    assert "subscriber bug" in caplog.text


async def test_unsubscribe_stops_delivery(bus: Bus) -> None:
    got: list[bytes] = []

    def handler(channel: str, payload: bytes) -> None:
        got.append(payload)

    await bus.subscribe("e", handler)
    await bus.publish("e", b"1")
    await bus.unsubscribe("e", handler)
    await bus.publish("e", b"2")
    assert got == [b"1"]


async def test_publish_after_stop_is_unavailable(bus: Bus) -> None:
    await bus.stop()
    assert not bus.healthy
    with pytest.raises(Unavailable):
        await bus.publish("f", b"late")
