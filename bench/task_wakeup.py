"""What a task wake-up per inbound message costs, against driving the handler in the callback.

    taskset -c 0 python bench/task_wakeup.py     # pinned, under the machine lock

A WebSocket connection hands each message to its session's task through a
:class:`~roomcast.transport.slim_sync.SlimQueue`; the task then awaits the handler. The
alternative the durable-send analysis names (docs/topics/performance.md, "Durable sends")
is to run the handler from the read callback and suspend only where it must. This times
both on uvloop, one message per loop pass as reads arrive, with a handler that completes
at once, so that only the hand-off differs.
"""

from __future__ import annotations

import asyncio
import time

import uvloop

from roomcast.transport.slim_sync import SlimQueue

MESSAGES = 200_000


async def handle(item: int) -> int:
    return item


async def through_a_task() -> float:
    """CPU µs per message: queued by a callback, taken and handled by a waiting task."""
    loop = asyncio.get_running_loop()
    queue: SlimQueue[int] = SlimQueue()
    done = loop.create_future()

    async def session() -> None:
        for _ in range(MESSAGES):
            await handle(await queue.get())
        done.set_result(None)

    task = loop.create_task(session())
    await asyncio.sleep(0)  # the task is waiting before the first message
    sent = 0

    def read() -> None:
        nonlocal sent
        queue.put_nowait(sent)
        sent += 1
        if sent < MESSAGES:
            loop.call_soon(read)

    start = time.process_time()
    loop.call_soon(read)
    await done
    await task
    return (time.process_time() - start) / MESSAGES * 1e6


async def in_the_callback() -> float:
    """CPU µs per message: the callback runs the handler's coroutine to its end itself."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    sent = 0

    def read() -> None:
        nonlocal sent
        coroutine = handle(sent)
        try:  # noqa: SIM105 -- suppress() would add a context manager to what is timed
            coroutine.send(None)
        except StopIteration:
            pass
        sent += 1
        if sent < MESSAGES:
            loop.call_soon(read)
        else:
            done.set_result(None)

    start = time.process_time()
    loop.call_soon(read)
    await done
    return (time.process_time() - start) / MESSAGES * 1e6


async def main() -> None:
    for _ in range(3):
        queued, direct = await through_a_task(), await in_the_callback()
        print(
            f"through a task {queued:.2f} us/message, in the callback {direct:.2f} us,"
            f" the wake-up {queued - direct:.2f} us"
        )


if __name__ == "__main__":
    uvloop.run(main())
