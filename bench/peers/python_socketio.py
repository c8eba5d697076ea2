"""The benchmark's room-broadcast app on python-socketio + uvicorn (a peer, not Roomcast).

Usage: python python_socketio.py PORT  — prints "READY <port>" once listening.
"""

from __future__ import annotations

from typing import Any

import socketio
from serving import serve

sio = socketio.AsyncServer(async_mode="asgi", transports=["websocket"])


@sio.on("join")
async def join(sid: str, room: str) -> str:
    await sio.enter_room(sid, room)
    return "ok"


@sio.on("bcast")
async def bcast(sid: str, room: str, payload: Any) -> None:
    await sio.emit("m", payload, to=room)


if __name__ == "__main__":
    serve(socketio.ASGIApp(sio))
