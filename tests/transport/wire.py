"""Engine.IO spoken by hand to a live server: the helpers the endpoint tests share.

The conformance server pings every 300 ms and gives up 200 ms later, so helpers that
wait for something answer pings on the way: a session then only closes for the reason
a test provokes, never because the test was slow.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from roomcast.protocol.engineio import Packet, PacketType, decode_payload

#: Generous upper bound for anything a test waits for; never a measured duration.
TIMEOUT = 10.0

__all__ = [
    "TIMEOUT",
    "LiveServer",
    "Polling",
    "closed",
    "handshake",
    "recv",
    "recv_many",
    "sio_connect",
]


@dataclass(frozen=True)
class LiveServer:
    """A conformance server listening on ``host:port``."""

    host: str
    port: int

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, endpoint: str, query: str, *, scheme: str = "http") -> str:
        """``endpoint`` is ``engine.io`` or ``socket.io``; ``query`` is sent as given."""
        return f"{scheme}://{self.host}:{self.port}/{endpoint}/?{query}"

    def polling(self, endpoint: str, sid: str | None = None) -> str:
        return self.url(endpoint, "EIO=4&transport=polling" + (f"&sid={sid}" if sid else ""))

    def websocket(self, endpoint: str, sid: str | None = None) -> str:
        query = "EIO=4&transport=websocket" + (f"&sid={sid}" if sid else "")
        return self.url(endpoint, query, scheme="ws")

    def connect(self, endpoint: str, sid: str | None = None) -> Any:
        """``async with live.connect(...) as ws``: a WebSocket client connection."""
        return connect(self.websocket(endpoint, sid), open_timeout=TIMEOUT, max_size=None)


def parse_handshake(text: str) -> dict[str, Any]:
    assert text.startswith("0"), text
    value = json.loads(text[1:])
    assert isinstance(value, dict)
    return value


# -- long-polling --------------------------------------------------------------------------


class Polling:
    """One long-polling Engine.IO session, driven request by request."""

    def __init__(self, client: httpx.AsyncClient, url: str, handshake: dict[str, Any]) -> None:
        self.client = client
        self.url = url
        self.handshake = handshake
        self.sid: str = handshake["sid"]

    @classmethod
    async def open(cls, client: httpx.AsyncClient, live: LiveServer, endpoint: str) -> Polling:
        response = await client.get(live.polling(endpoint))
        assert response.status_code == 200, response.text
        handshake = parse_handshake(response.text)
        return cls(client, live.polling(endpoint, handshake["sid"]), handshake)

    async def get(self) -> httpx.Response:
        return await self.client.get(self.url)

    async def post(self, body: str | bytes) -> httpx.Response:
        return await self.client.post(self.url, content=body)

    async def receive(self, count: int) -> list[Packet]:
        """The next ``count`` packets other than pings, answering pings meanwhile."""
        packets: list[Packet] = []
        async with asyncio.timeout(TIMEOUT):
            while len(packets) < count:
                response = await self.get()
                assert response.status_code == 200, response.text
                for packet in decode_payload(response.text):
                    if packet.type is PacketType.PING:
                        assert (await self.post("3")).status_code == 200
                    else:
                        packets.append(packet)
        return packets

    async def wait_closed(self) -> list[Packet]:
        """Poll, answering pings, until the server refuses the session; what came before."""
        packets: list[Packet] = []
        async with asyncio.timeout(TIMEOUT):
            while True:
                response = await self.get()
                if response.status_code == 400:
                    return packets
                assert response.status_code == 200, response.text
                for packet in decode_payload(response.text):
                    if packet.type is PacketType.PING:
                        await self.post("3")
                    else:
                        packets.append(packet)


# -- WebSocket -----------------------------------------------------------------------------


async def recv(ws: ClientConnection, *, pong: bool = True) -> str | bytes:
    """The next frame; with ``pong``, pings are answered and skipped."""
    async with asyncio.timeout(TIMEOUT):
        while True:
            frame = await ws.recv()
            if pong and frame == "2":
                await ws.send("3")
                continue
            return frame


async def recv_many(ws: ClientConnection, count: int) -> list[str | bytes]:
    return [await recv(ws) for _ in range(count)]


async def handshake(ws: ClientConnection) -> dict[str, Any]:
    frame = await recv(ws, pong=False)
    assert isinstance(frame, str)
    return parse_handshake(frame)


async def closed(ws: ClientConnection, *, pong: bool = True) -> list[str | bytes]:
    """Frames received until the server closed the connection (pings left out if answered).

    Raises ``TimeoutError`` if the connection stays open.
    """
    frames: list[str | bytes] = []
    async with asyncio.timeout(TIMEOUT):
        try:
            while True:
                frame = await ws.recv()
                if pong and frame == "2":
                    await ws.send("3")
                else:
                    frames.append(frame)
        except ConnectionClosed:
            return frames


async def sio_connect(
    ws: ClientConnection, namespace: str = "/", auth: dict[str, Any] | None = None
) -> str:
    """Join ``namespace`` on an open Socket.IO WebSocket; the Socket.IO sid.

    The conformance server then emits ``auth`` with the payload, consumed here.
    """
    prefix = "" if namespace == "/" else f"{namespace},"
    await ws.send("40" + prefix + (json.dumps(auth) if auth is not None else ""))
    reply = await recv(ws)
    assert isinstance(reply, str)
    assert reply.startswith("40" + prefix), reply
    sid = json.loads(reply[2 + len(prefix) :])["sid"]
    auth_event = await recv(ws)
    assert auth_event == f"42{prefix}" + json.dumps(["auth", auth or {}], separators=(",", ":"))
    assert isinstance(sid, str)
    return sid
