"""The benchmark's room-broadcast app on Roomcast's own Socket.IO layer.

The same two events as the peers: ``join(room)`` (acked) and ``bcast(room, payload)``,
which emits ``m`` with the payload to the room. Served by uvicorn with Roomcast's
HTTP and WebSocket protocols, as ``roomcast serve`` does.

Usage: python roomcast_app.py PORT  — prints "READY <port>" once listening.
"""

from __future__ import annotations

from typing import Any

from serving import serve

from roomcast.gc_tuning import tune_gc_for_connections
from roomcast.transport.engine_server import EngineServer
from roomcast.transport.fast_upgrade import engine_http_protocol
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


async def _app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "lifespan":
        await ENGINE(scope, receive, send)


ENGINE = build_app()

if __name__ == "__main__":
    serve(
        _app,
        lifespan="off",
        ws=FramedWebSocketProtocol,
        http=engine_http_protocol({"/socket.io/": ENGINE}),
        ws_ping_interval=None,
        before_start=tune_gc_for_connections,
    )
