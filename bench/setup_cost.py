"""The server's Python per connection set-up, in process, without sockets or a load generator.

    taskset -c 0 python bench/setup_cost.py [CONNECTIONS]    # pinned, under the machine lock
    PYTHONPATH=<other checkout>/src taskset -c 0 python bench/setup_cost.py   # its figure

Each connection is what the ``idle`` scenario's lean clients do: the WebSocket handshake
under ``/socket.io/``, the Socket.IO connect and a ``join`` with an ack, served by the
benchmark's Roomcast app through the HTTP protocol class ``roomcast serve`` gives uvicorn.
Transports are stand-ins that count writes, so the figure is the Python alone: what the
end-to-end scenario adds (accepting, reading, writing, the kernel) is not in it, nor its
noise, which makes this the way to compare two versions of the set-up path (run both
alternately, a few times each). Connections arrive 50 at a time, as in the scenario.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import uvicorn
import uvloop
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

from roomcast_app import build_app

from roomcast.gc_tuning import tune_gc_for_connections
from roomcast.transport.fast_upgrade import engine_http_protocol

HANDSHAKE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    b"Sec-WebSocket-Version: 13\r\n\r\n"
)
CONNECT = Frame(Opcode.TEXT, b"40").serialize(mask=True)
JOINS = [Frame(Opcode.TEXT, b'421["join","idle-%d"]' % i).serialize(mask=True) for i in range(100)]
CONCURRENCY = 50


class CountingTransport:
    """What the server's protocols call on a transport; writes are counted, not sent."""

    def __init__(self) -> None:
        self.protocol: Any = None
        self.writes = 0
        self.closing = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def write(self, data: bytes) -> None:
        self.writes += 1

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None


async def let_tasks_run() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


async def main(connections: int) -> None:
    engine = build_app()
    protocol_class = engine_http_protocol({"/socket.io/": engine})
    config = uvicorn.Config(
        engine,
        log_level="warning",  # as the benchmark serves it: no line per connection
        ws_max_size=1_000_000,
        ws_per_message_deflate=False,
        http=protocol_class,
    )
    state = ServerState()
    loop = asyncio.get_running_loop()
    tune_gc_for_connections()  # as roomcast serve does
    transports: list[CountingTransport] = []
    start = time.process_time()
    for first in range(0, connections, CONCURRENCY):
        batch = [CountingTransport() for _ in range(CONCURRENCY)]
        for transport in batch:
            transport.protocol = protocol_class(
                config=config, server_state=state, app_state={}, _loop=loop
            )
            transport.protocol.connection_made(transport)
            transport.protocol.data_received(HANDSHAKE)
        await let_tasks_run()
        for transport in batch:
            transport.protocol.data_received(CONNECT)
        await let_tasks_run()
        for i, transport in enumerate(batch, first):
            transport.protocol.data_received(JOINS[i % len(JOINS)])
        await let_tasks_run()
        transports += batch
    seconds = time.process_time() - start
    writes = sum(transport.writes for transport in transports) / len(transports)
    if writes != 3:  # 101 and open packet, connect reply, join ack
        raise SystemExit(f"{writes:.2f} writes per connection, not 3: a set-up went wrong")
    print(f"{len(transports)} set-ups: {seconds / len(transports) * 1e6:.0f} µs of CPU each")


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
