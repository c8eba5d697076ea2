"""The floor for the durable-send scenario: the least a Python server can do on the same wire.

Not a server anyone should run: no durability, no validation, no sessions, no heartbeats.
It answers ``scenarios/durable.cjs`` as Roomcast does (Engine.IO open, Socket.IO
connect, ``join`` and ``send`` acked, each sent message broadcast back to the sender
with its room's next offset), with websockets' sans-I/O protocol on uvloop and one
``asyncio.Protocol`` callback per read: no task, no future, no queue. Whatever a send
costs here, Roomcast's path costs at least that on this machine's core.

    python floor.py PORT [--no-json]     # prints "READY <port>" once listening

``--no-json`` skips decoding the event's JSON (the room and cid are cut out of the
text), to show what the JSON costs on top of the WebSocket and socket work.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import uvloop
from serving import bound_socket
from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from roomcast.transport.frames import wire_frame

_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
OFFSETS: dict[str, int] = {}  # room -> last offset
USE_JSON = "--no-json" not in sys.argv


class FloorProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.conn = ServerProtocol()
        self.transport: asyncio.Transport | None = None
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's TCPTransport

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        conn.receive_data(data)
        out: list[bytes] = []
        for event in conn.events_received():
            if isinstance(event, Request):
                conn.send_response(conn.accept(event))
                out += conn.data_to_send()
                sid = os.urandom(8).hex()
                out.append(wire_frame(f'0{{"sid":"{sid}","upgrades":[],"pingInterval":25000,'
                                  '"pingTimeout":20000,"maxPayload":1000000}'))  # fmt: skip
                continue
            if event.opcode is not Opcode.TEXT:
                continue
            text = bytes(event.data).decode()
            if text.startswith("40"):
                out.append(wire_frame('40{"sid":"floor"}'))
            elif text.startswith("42"):
                out += self._event(text)
        if out:
            assert self.transport is not None
            self.transport.write(b"".join(out))

    def _event(self, text: str) -> list[bytes]:
        bracket = text.index("[")
        ack_id = text[2:bracket]
        if USE_JSON:
            name, payload = json.loads(text[bracket:])
            room, cid = payload["room"], payload.get("cid")
        else:  # 42<id>["send",{"room":"...","text":"...","cid":"..."}]
            name = text[bracket + 2 : text.index('"', bracket + 2)]
            start = text.index('"room":"') + 8
            room = text[start : text.index('"', start)]
            start = text.find('"cid":"')
            cid = text[start + 7 : text.index('"', start + 7)] if start >= 0 else None
            payload = None
        if name == "join":
            last = OFFSETS.setdefault(room, 0)
            return [wire_frame(f'43{ack_id}[{{"ok":true,"room":"{room}","offset":{last},'
                           '"messages":[],"members":[]}]')]  # fmt: skip
        offset = OFFSETS[room] = OFFSETS.get(room, 0) + 1
        if USE_JSON:
            assert payload is not None
            wire = {"room": room, "offset": offset, "id": os.urandom(16).hex(), "kind": "text",
                    "text": payload["text"], "cid": cid}  # fmt: skip
            message = _COMPACT.encode(wire)
        else:
            message = f'{{"room":"{room}","offset":{offset},"cid":"{cid}"}}'
        ack = f'43{ack_id}[{{"ok":true,"message":{message}}}]'
        return [wire_frame(f'42["message",{message}]'), wire_frame(ack)]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def _serve(port: int) -> None:
    sock = bound_socket(port)
    server = await asyncio.get_running_loop().create_server(FloorProtocol, sock=sock)
    print("READY", sock.getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(_serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
