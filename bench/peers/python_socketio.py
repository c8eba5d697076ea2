"""The benchmark's room-broadcast app on python-socketio + uvicorn (a peer, not Roomcast).

Usage: python python_socketio.py PORT  — prints "READY <port>" once listening.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import socketio
import uvicorn
import uvloop

sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"])


@sio.on("join")
async def join(sid: str, room: str) -> str:
    await sio.enter_room(sid, room)
    return "ok"


@sio.on("bcast")
async def bcast(sid: str, room: str, payload: Any) -> None:
    await sio.emit("m", payload, to=room)


async def main(port: int) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        socketio.ASGIApp(sio), log_level="warning", ws_per_message_deflate=False
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
