"""The server the official Engine.IO and Socket.IO conformance suites expect.

    python -m roomcast.testing.conformance_server [--port 3000]

``/engine.io/`` echoes every message; ``/socket.io/`` answers as the reference
``socket.io`` server in socketio/socket.io-protocol's README does: it emits ``auth``
on connect, echoes ``message`` as ``message-back``, acks ``message-with-ack`` with its
arguments, and also serves the ``/custom`` namespace. Heartbeat 300 ms / 200 ms,
maxPayload 1,000,000, connect timeout 1 s, any origin. Served as ``roomcast serve`` serves:
new WebSocket sessions take the path without ASGI (:mod:`roomcast.transport.fast_upgrade`).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn

from roomcast.transport.asgi import Receive, Scope, Send, respond
from roomcast.transport.engine_server import EngineServer
from roomcast.transport.engine_session import EngineSession
from roomcast.transport.fast_upgrade import engine_http_protocol
from roomcast.transport.origins import OriginPolicy
from roomcast.transport.socketio_server import SioConnection, SioServer
from roomcast.transport.ws_protocol import FramedWebSocketProtocol

__all__ = ["ConformanceApp", "build_app", "main", "serving_options"]


class EchoEngine:
    """Engine.IO handler that sends every message back."""

    async def on_open(self, session: EngineSession) -> None:
        return None

    async def on_message(self, session: EngineSession, data: str | bytes) -> None:
        session.send(data if isinstance(data, bytes) else "4" + data)

    def on_close(self, session: EngineSession, reason: str) -> None:
        return None


class EchoNamespace:
    """The handlers of the reference server."""

    def __init__(self, *, echo: bool) -> None:
        self._echo = echo

    async def on_connect(self, conn: SioConnection, auth: dict[str, Any], recovered: bool) -> None:
        # The suites listen for the connect reply, then register a listener for "auth":
        # the reference server's write cycle puts the two in separate reads, so do we.
        asyncio.get_running_loop().call_later(0.01, conn.emit, "auth", auth)

    async def on_event(self, conn: SioConnection, event: str, args: list[Any]) -> list[Any] | None:
        if not self._echo:
            return None
        if event == "message":
            conn.emit("message-back", *args)
            return None
        if event == "message-with-ack":
            return args
        return None

    def on_disconnect(self, conn: SioConnection, reason: str) -> None:
        return None


class ConformanceApp:
    """An ASGI app with both endpoints; ``engines`` maps each endpoint's path to its engine."""

    def __init__(self) -> None:
        common: dict[str, Any] = {
            "ping_interval": 0.3,
            "ping_timeout": 0.2,
            "max_payload": 1_000_000,
            "send_buffer": 10_000,
            "origins": OriginPolicy(("*",)),
        }
        engine = EngineServer(EchoEngine(), **common)
        sio = SioServer(connect_timeout=1.0)
        sio.register("/", EchoNamespace(echo=True))
        sio.register("/custom", EchoNamespace(echo=False))
        socketio = EngineServer(sio, **common)
        self.engines = {"/engine.io/": engine, "/socket.io/": socketio}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                await send({"type": message["type"] + ".complete"})
                if message["type"] == "lifespan.shutdown":
                    return
        path = scope.get("path", "")
        if path.startswith("/engine.io"):
            await self.engines["/engine.io/"](scope, receive, send)
        elif path.startswith("/socket.io"):
            await self.engines["/socket.io/"](scope, receive, send)
        elif scope["type"] == "http":
            await respond(send, 404, "not found")


def build_app() -> ConformanceApp:
    """The conformance app (serve it with :func:`serving_options` for ``roomcast serve``'s path)."""
    return ConformanceApp()


def serving_options(app: ConformanceApp) -> dict[str, Any]:
    """uvicorn options as ``roomcast serve`` uses them: new WebSocket sessions skip ASGI."""
    return {
        "http": engine_http_protocol(app.engines),
        "ws": FramedWebSocketProtocol,
        "ws_ping_interval": None,
        "ws_per_message_deflate": False,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args()
    app = build_app()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        ws_max_size=1_000_000,
        **serving_options(app),
    )


if __name__ == "__main__":
    main()
