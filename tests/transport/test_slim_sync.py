"""The slim queue and event that stand in for asyncio's inside the WebSocket protocol."""

from __future__ import annotations

import asyncio

from roomcast.transport.slim_sync import SlimEvent, SlimQueue


async def test_queue_is_fifo_and_get_waits_for_a_put() -> None:
    queue: SlimQueue[int] = SlimQueue()
    assert queue.empty()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.put_nowait(1)
    queue.put_nowait(2)
    assert await getter == 1
    assert queue.qsize() == 1
    assert await queue.get() == 2
    assert queue.empty()


async def test_a_cancelled_get_leaves_the_queue_usable() -> None:
    queue: SlimQueue[str] = SlimQueue()
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    getter.cancel()
    await asyncio.gather(getter, return_exceptions=True)
    queue.put_nowait("x")
    assert await asyncio.wait_for(queue.get(), 1) == "x"


async def test_event_wakes_every_waiter_and_clear_makes_them_wait_again() -> None:
    event = SlimEvent()
    waiters = [asyncio.create_task(event.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters)
    event.set()
    assert await asyncio.gather(*waiters) == [True, True, True]
    event.clear()
    assert not event.is_set()
    late = asyncio.create_task(event.wait())
    await asyncio.sleep(0)
    assert not late.done()
    event.set()
    assert await late
