"""The producer decorator and how a producer's values come out, without a server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from roomcast import producer
from roomcast.core.errors import BadRequest, ConfigError
from roomcast.producers import Producer, run_producer


def test_the_decorator_checks_what_it_is_given() -> None:
    with pytest.raises(ConfigError, match="every=SECONDS"):
        producer("ticker")(lambda: 1)
    with pytest.raises(ConfigError, match="every=SECONDS"):
        producer("ticker", every=0)(lambda: 1)

    async def gen() -> AsyncIterator[int]:
        yield 1

    with pytest.raises(ConfigError, match="drop every="):
        producer("ticker", every=1)(gen)
    with pytest.raises(BadRequest, match="room must be"):
        producer("not a room", every=1)
    assert producer("ticker")(gen) == Producer("ticker", gen, None)


async def test_values_are_published_and_failures_restart_with_back_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = 0
    waits: list[float] = []

    def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls in (2, 3):
            raise ValueError("boom")
        return calls

    published: list[Any] = []

    async def publish(item: Producer, value: Any) -> None:
        published.append(value)
        if len(published) == 3:
            raise asyncio.CancelledError

    real_sleep = asyncio.sleep

    async def record(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", record)
    with pytest.raises(asyncio.CancelledError):
        await run_producer(producer("ticker", every=0.5)(flaky), publish)

    assert published == [1, 4, 5]
    # Ticks of 0.5 s; after each failure 1 s, then 2 s; after a success, 1 s again.
    assert waits == [0.5, 1.0, 2.0, 0.5]
