"""Malformed packets and slow readers against a real server: one connection ends, nothing else."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
import requests
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.uri import parse_uri

MALFORMED = [
    "4abc",  # unknown Socket.IO packet type
    "42{}",  # event payload that is not an array
    '42abc["send",{}]',  # invalid ack id
    '452-["x"]',  # binary event whose attachments never come, then text
    "9",  # unknown Engine.IO packet type
    "42" + "[" * 50_000,  # deeply nested JSON
    "40" + json.dumps({"name": "x" * 200_000}),  # huge auth payload, still under maxPayload
]


def ws_url(server: RunningServer) -> str:
    return server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"


async def open_socketio(server: RunningServer, name: str) -> object:
    ws = await connect(ws_url(server), max_size=None)
    await ws.recv()  # Engine.IO open
    await ws.send("40" + json.dumps({"name": name}))
    reply = await ws.recv()
    assert isinstance(reply, str)
    assert reply.startswith("40")
    return ws


def open_stuck_reader(server: RunningServer, room: str) -> socket.socket:
    """A WebSocket client that joins ``room`` and then never reads again.

    Built on the sans-I/O websockets protocol over a plain socket with a tiny receive
    window: no library reads on its behalf, so the server's writes really back up.
    """
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((host, int(port)))
    protocol = ClientProtocol(parse_uri(ws_url(server)))
    protocol.send_request(protocol.connect())
    sock.sendall(b"".join(protocol.data_to_send()))
    received: list[object] = []

    def next_event() -> object:
        while True:
            received.extend(protocol.events_received())
            if received:
                return received.pop(0)
            protocol.receive_data(sock.recv(65536))

    next_event()  # the HTTP 101 response
    next_event()  # Engine.IO open
    for text in ('40{"name":"Stuck"}', '420["join",{"room":"' + room + '"}]'):
        protocol.send_text(text.encode())
        sock.sendall(b"".join(protocol.data_to_send()))
        next_event()  # Socket.IO connect, then the join's ack or presence
    return sock


@pytest.mark.parametrize("frame", MALFORMED, ids=range(len(MALFORMED)))
async def test_malformed_packet_closes_only_that_connection(
    server: RunningServer, frame: str
) -> None:
    ws = await open_socketio(server, "Mallory")
    await ws.send(frame)  # type: ignore[attr-defined]
    if frame.startswith("452-"):
        await ws.send('42["join",{"room":"x"}]')  # type: ignore[attr-defined]
    closed = False
    try:
        async with asyncio.timeout(10):
            while True:
                message = await ws.recv()  # type: ignore[attr-defined]
                if frame.startswith("40") and isinstance(message, str) and message.startswith("44"):
                    closed = True  # the huge name was refused by connect_error
                    break
    except Exception:  # noqa: BLE001 -- the server closed the socket, as it should
        closed = True
    finally:
        await ws.close()  # type: ignore[attr-defined]
    assert closed
    assert (await asyncio.to_thread(healthy, server)) is True
    ada = await asyncio.to_thread(ChatClient, server.url, "Ada", ["websocket"])
    try:
        await asyncio.to_thread(ada.call, "join", {"room": "calm"})
        answer = await asyncio.to_thread(ada.send, "calm", "still here")
        assert answer["ok"] is True
    finally:
        await asyncio.to_thread(ada.close)


def healthy(server: RunningServer) -> bool:
    return bool(requests.get(server.url + "/healthz", timeout=5).json()["ok"])


def test_garbage_polling_bodies_get_400(server: RunningServer) -> None:
    base = server.url + "/socket.io/?EIO=4&transport=polling"
    sid = json.loads(requests.get(base, timeout=5).text[1:])["sid"]
    bad = requests.post(f"{base}&sid={sid}", data=b"\xff\xfe not utf-8", timeout=5)
    assert bad.status_code == 400
    assert requests.get(f"{base}&sid={sid}", timeout=5).status_code == 400  # session closed
    old_protocol = requests.get(server.url + "/socket.io/?EIO=3&transport=polling", timeout=5)
    assert old_protocol.status_code == 400
    assert healthy(server)


async def test_a_reader_that_never_reads_is_dropped_and_others_are_served(
    server_factory: object,
) -> None:
    server: RunningServer = server_factory(  # type: ignore[operator]
        "--send-buffer", "32", "--rate", "1000", "--burst", "1000"
    )
    stuck = await asyncio.to_thread(open_stuck_reader, server, "busy")
    ada = await asyncio.to_thread(ChatClient, server.url, "Ada", ["websocket"])
    try:
        await asyncio.to_thread(ada.call, "join", {"room": "busy"})
        blob = "x" * 60_000
        for i in range(150):  # about 9 MB: more than the socket buffers and the queue hold
            answer = await asyncio.to_thread(
                ada.call, "send", {"room": "busy", "data": {"i": i, "blob": blob}, "cid": f"c{i}"}
            )
            assert answer["ok"] is True
        await asyncio.to_thread(ada.wait_for, lambda: len(ada.messages("busy")) == 150, 30)
        members = (await asyncio.to_thread(ada.call, "join", {"room": "busy"}))["members"]
        assert {m["name"]: m["state"] for m in members}["Stuck"] == "offline"
    finally:
        await asyncio.to_thread(ada.close)
        stuck.close()
