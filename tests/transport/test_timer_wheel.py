"""The timer wheel behind Engine.IO heartbeats: one loop timer per tick, lazy cancelling."""

from __future__ import annotations

import asyncio
import logging

import pytest

from roomcast.transport.timer_wheel import TimerWheel


async def test_items_fall_due_in_order_never_late_by_more_than_a_tick() -> None:
    loop = asyncio.get_running_loop()
    fired: list[tuple[str, float]] = []
    wheel: TimerWheel[str] = TimerWheel(0.01, lambda item, tick: fired.append((item, loop.time())))
    start = loop.time()
    wheel.add(0.05, "b")
    wheel.add(0.02, "a")
    wheel.add(0.05, "c")
    assert len(wheel) == 3
    await asyncio.sleep(0.12)
    assert [item for item, _ in fired] == ["a", "b", "c"]
    for item, at in fired:
        delay = 0.02 if item == "a" else 0.05
        assert delay - 0.01 <= at - start <= delay + 0.05  # a tick early at most
    assert len(wheel) == 0


async def test_an_owner_that_moved_on_ignores_its_old_tick() -> None:
    seen: list[int] = []
    current: dict[str, int] = {}

    def due(item: str, tick: int) -> None:
        if current.get(item) == tick:
            seen.append(tick)

    wheel: TimerWheel[str] = TimerWheel(0.01, due)
    current["s"] = wheel.add(0.02, "s")
    current["s"] = wheel.add(0.06, "s")  # rescheduled: the first entry is stale
    await asyncio.sleep(0.1)
    assert seen == [current["s"]]


async def test_a_failing_callback_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    # Logged as an error, which the transport tests otherwise treat as a failure.
    monkeypatch.setattr(logging.getLogger("roomcast.transport.timer_wheel"), "disabled", True)
    fired: list[str] = []

    def due(item: str, tick: int) -> None:
        if item == "bad":
            raise RuntimeError("boom")
        fired.append(item)

    wheel: TimerWheel[str] = TimerWheel(0.01, due)
    wheel.add(0.02, "bad")
    wheel.add(0.02, "good")
    await asyncio.sleep(0.05)
    assert fired == ["good"]
