"""The benchmark's room-broadcast app on Roomcast's own Socket.IO layer.

The same two events as the peers: ``join(room)`` (acked) and ``bcast(room, payload)``,
which emits ``m`` with the payload to the room. Served by uvicorn with Roomcast's
WebSocket protocol, as ``roomcast serve`` does.

Usage: python roomcast_app.py PORT  — prints "READY <port>" once listening.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import uvicorn
import uvloop

from roomcast.transport.engine_server import EngineServer
from roomcast.transport.origins import OriginPolicy
from roomcast.transport.socketio_server import SioConnection, SioServer
from roomcast.transport.ws_protocol import FramedWebSocketProtocol


class BroadcastApp:
    def __init__(self, sio: SioServer) -> None:
        self.sio = sio

    async def on_connect(self, conn: SioConnection, auth: dict[str, Any], recovered: bool) -> None:
        return None

    async def on_event(self, conn: SioConnection, event: str, args: list[Any]) -> list[Any] | None:
        if event == "join" and args:
            conn.join(str(args[0]))
            return ["ok"]
        if event == "bcast" and len(args) >= 2:
            self.sio.broadcast("/", str(args[0]), "m", args[1])
        return None

    def on_disconnect(self, conn: SioConnection, reason: str) -> None:
        return None


def build_app() -> EngineServer:
    sio = SioServer(connect_timeout=45.0, recovery_window=0)
    sio.register("/", BroadcastApp(sio))
    return EngineServer(
        sio,
        ping_interval=25.0,
        ping_timeout=20.0,
        max_payload=1_000_000,
        send_buffer=10_000,
        origins=OriginPolicy(()),
        allow_polling=False,
    )


async def main(port: int) -> None:
    engine = build_app()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return
        await engine(scope, receive, send)

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ws=FramedWebSocketProtocol,
        ws_per_message_deflate=False,
        ws_ping_interval=None,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 -- uvicorn offers no start event
        await asyncio.sleep(0.01)
    print("READY", sock.getsockname()[1], flush=True)
    await task


if __name__ == "__main__":
    # uvloop, as uvicorn.run and `roomcast serve` use (it also sets TCP_NODELAY).
    uvloop.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
