"""A burst of broadcasts to a reader that stalls: back-pressure tests of both WebSocket paths."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.asyncio.client import connect

from roomcast.transport.engine_server import EngineServer
from roomcast.transport.origins import OriginPolicy
from roomcast.transport.socketio_server import SioConnection, SioServer

from .wire import TIMEOUT

__all__ = ["BurstNamespace", "burst_engine", "read_burst_in_order"]

#: 20 MB of broadcasts: more than the socket buffers hold, so the reader falls behind.
COUNT = 5000


class BurstNamespace:
    """Joins every connection to one room; ``burst(n)`` broadcasts ``n`` numbered frames."""

    def __init__(self, sio: SioServer) -> None:
        self.sio = sio

    async def on_connect(self, conn: SioConnection, auth: dict[str, Any], recovered: bool) -> None:
        conn.join("room")

    async def on_event(self, conn: SioConnection, event: str, args: list[Any]) -> list[Any] | None:
        for seq in range(int(args[0])):
            self.sio.broadcast("/", "room", "m", seq, "x" * 4000)
            if seq % 50 == 49:
                await asyncio.sleep(0)  # let flushes run between parts of the burst
        return ["done"]

    def on_disconnect(self, conn: SioConnection, reason: str) -> None:
        return None


def burst_engine() -> EngineServer:
    """An engine serving :class:`BurstNamespace` over WebSocket, same-origin only."""
    sio = SioServer(connect_timeout=10.0, recovery_window=0)
    sio.register("/", BurstNamespace(sio))
    return EngineServer(
        sio,
        ping_interval=25.0,
        ping_timeout=20.0,
        max_payload=1_000_000,
        send_buffer=100_000,
        send_buffer_bytes=64 * 1024 * 1024,  # the whole burst may wait for the reader
        origins=OriginPolicy(()),
        allow_polling=False,
    )


async def read_burst_in_order(url: str, **options: Any) -> None:
    """Ask for a burst, stall while it fills every buffer, then check it all came in order."""
    # A small read queue: the client stops reading from the socket while we wait.
    async with connect(url, max_size=None, max_queue=4, **options) as ws:
        assert (await ws.recv()).startswith("0")
        await ws.send("40")
        assert str(await ws.recv()).startswith("40")
        await ws.send(f'421["burst",{COUNT}]')
        await asyncio.sleep(0.5)  # the burst fills every buffer on the way
        seqs = []
        while len(seqs) < COUNT:
            text = str(await asyncio.wait_for(ws.recv(), TIMEOUT))
            if text.startswith('42["m",'):
                seqs.append(int(text[7 : text.index(",", 7)]))
    assert seqs == list(range(COUNT))
