"""Malformed packets and slow readers against a real server: one connection ends, nothing else."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import socket
from collections import Counter

import pytest
import requests
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.uri import parse_uri

from roomcast.transport.socketio_server import MAX_UNKNOWN_NAMESPACES

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
            data = sock.recv(65536)
            if not data:  # closed by the server: recv() would return b"" forever
                raise ConnectionError("the server closed the connection")
            protocol.receive_data(data)

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


# -- every surface of the wire: what the server answers, and that it stays healthy -----------
# The answers are in docs/topics/reliability.md ("Hostile input"); these tests keep it true.

Frames = list[str | bytes]


async def answer(ws: object, deadline: float = 10) -> tuple[Frames, int | None]:
    """What the server sends until it closes ``ws`` (frames, close code); None: still open."""
    frames: Frames = []
    try:
        async with asyncio.timeout(deadline):
            while True:
                frames.append(await ws.recv())  # type: ignore[attr-defined]
    except TimeoutError:
        await ws.close()  # type: ignore[attr-defined]
        return frames, None
    except ConnectionClosed:
        return frames, ws.close_code  # type: ignore[attr-defined]


async def upgraded_socket(server: RunningServer) -> object:
    """A session opened by long-polling and upgraded: uvicorn's WebSocket path, not ours."""
    base = server.url + "/socket.io/?EIO=4&transport=polling"
    opened = await asyncio.to_thread(requests.get, base, timeout=5)
    sid = json.loads(opened.text[1:])["sid"]
    ws = await connect(ws_url(server) + "&sid=" + sid, max_size=None)
    await ws.send("2probe")
    assert await ws.recv() == "3probe"
    await ws.send("5")
    return ws


async def still_serves(server: RunningServer) -> None:
    """``/healthz`` is ok and another client can join and send."""
    assert (await asyncio.to_thread(healthy, server)) is True
    ada = await asyncio.to_thread(ChatClient, server.url, "Ada", ["websocket"])
    try:
        await asyncio.to_thread(ada.call, "join", {"room": "calm"})
        assert (await asyncio.to_thread(ada.send, "calm", "still here"))["ok"] is True
    finally:
        await asyncio.to_thread(ada.close)


def no_tracebacks(server: RunningServer) -> None:
    assert not [line for line in server.output if "Traceback" in line], "".join(server.output)


PLACEHOLDERS = ",".join(f'{{"_placeholder":true,"num":{n}}}' for n in range(5000))


@pytest.mark.parametrize("path", ["websocket", "upgraded"])
@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        # thousands of attachments announced: over the limit of 10, refused at once
        (["451000-[" + json.dumps("send") + "," + PLACEHOLDERS + "]"], ["41"]),
        # one announced, thousands of placeholders: they refer to attachments never sent
        (['451-["send",' + PLACEHOLDERS + "]", b"\x00"], ["41"]),
        # an attachment larger than the packet limit together with its siblings
        (['452-["send",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]',
          b"a" * 600_000, b"b" * 600_000], ["41"]),
        # client pings are not Engine.IO v4: the session ends, no pong is written
        (["2"] * 2000, []),
    ],
    ids=["5000-attachments", "5000-placeholders", "attachments-over-max-payload", "ping-flood"],
)  # fmt: skip
async def test_protocol_abuse_ends_that_session(
    server: RunningServer, path: str, frames: Frames, expected: list[str]
) -> None:
    ws = await (
        connect_named(server, "Mallory") if path == "websocket" else upgraded_socket(server)
    )
    if path == "upgraded":
        await ws.send('40{"name":"Mallory"}')  # type: ignore[attr-defined]
        assert str(await ws.recv()).startswith("40")  # type: ignore[attr-defined]
    for frame in frames:
        await ws.send(frame)  # type: ignore[attr-defined]
    received, code = await answer(ws)
    # "41" is Engine.IO close then Socket.IO disconnect: a Socket.IO parse error.
    assert [str(f)[:2] for f in received if str(f) not in ("6",)] == [
        "1" if e == "41" else e for e in expected
    ]
    assert code == 1000
    await still_serves(server)
    no_tracebacks(server)


async def connect_named(server: RunningServer, name: str) -> object:
    return await open_socketio(server, name)


async def test_attachments_that_never_come_are_not_kept(
    server_factory: object,
) -> None:
    # The packet waits for its attachment no longer than a pong may take (--ping-timeout).
    server: RunningServer = server_factory("--ping-timeout", "1")  # type: ignore[operator]
    ws = await open_socketio(server, "Mallory")
    await ws.send('451-["send",{"room":"x","data":{"_placeholder":true,"num":0}}]')  # type: ignore[attr-defined]
    received, code = await answer(ws)
    assert (received, code) == (["1"], 1000)
    await still_serves(server)


async def test_unknown_events_acks_and_early_events_are_ignored(server: RunningServer) -> None:
    ws = await connect(ws_url(server), max_size=None)
    await ws.recv()  # Engine.IO open
    await ws.send('421["join",{"room":"early"}]')  # an event before connecting: no answer
    await ws.send('40{"name":"Eve"}')
    assert str(await ws.recv()).startswith("40")
    await ws.send('43999["an ack for an id the server never sent"]')
    await ws.send('42["no-such-event",1]')
    await ws.send("3")  # a pong for no ping
    await ws.send('422["join",{"room":"calm"}]')
    frames, code = await answer(ws, deadline=3)
    assert code is None  # all of that was ignored; the connection is still open
    acks = [f for f in frames if isinstance(f, str) and f.startswith("43")]
    assert [a[:3] for a in acks] == ["432"]  # only the join after connecting was answered
    await still_serves(server)


async def test_a_namespace_scan_is_refused_then_closed(server: RunningServer) -> None:
    ws = await open_socketio(server, "Mallory")
    for n in range(3000):
        await ws.send(f"40/ns{n},")  # type: ignore[attr-defined]
    frames, code = await answer(ws)
    refusals = [f for f in frames if str(f).startswith("44/ns")]
    assert refusals[0] == '44/ns0,{"message":"Invalid namespace"}'
    assert len(refusals) == MAX_UNKNOWN_NAMESPACES
    assert frames[-1] == "1"
    assert code == 1000
    await still_serves(server)


@pytest.mark.parametrize("path", ["websocket", "upgraded"])
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (b'42["send",{"text":"\xff\xfe"}]', 1007),  # invalid UTF-8 in a text frame
        ("42" + json.dumps(["send", {"text": "x" * 1_000_001}]), 1009),  # over --max-payload
        ("40" + json.dumps({"name": "x" * 1_000_001}), 1009),  # an auth payload over it
    ],
    ids=["invalid-utf8", "oversize-frame", "oversize-auth"],
)
async def test_bad_websocket_frames_get_their_close_code(
    server: RunningServer, path: str, frame: str | bytes, code: int
) -> None:
    if path == "websocket":
        ws = await connect(ws_url(server), max_size=None)
        await ws.recv()
    else:
        ws = await upgraded_socket(server)  # type: ignore[assignment]
    # The server may refuse an oversize frame from its header and close while the rest of it is
    # still being written: the send then fails, and the close code is what the test is about.
    with contextlib.suppress(ConnectionClosed):
        await ws.send(frame, text=True)
    frames, closed_with = await answer(ws)
    assert (frames, closed_with) == ([], code)
    await still_serves(server)
    no_tracebacks(server)


def test_bad_polling_bodies_get_their_status(server: RunningServer) -> None:
    base = server.url + "/socket.io/?EIO=4&transport=polling"

    def new_session() -> str:
        sid = json.loads(requests.get(base, timeout=5).text[1:])["sid"]
        return f"{base}&sid={sid}"

    session = new_session()
    too_big = requests.post(session, data=b"4" + b"y" * 1_000_001, timeout=10)
    assert (too_big.status_code, too_big.json()["code"]) == (413, "too_large")
    assert requests.get(session, timeout=5).status_code == 400  # that session is over
    session = new_session()
    assert requests.post(session, data="2\x1e2\x1e2", timeout=5).text == "ok"  # client pings
    assert requests.get(session, timeout=5).status_code == 400  # ...ended the session
    session = new_session()
    bad_base64 = requests.post(session, data="b!!!", timeout=5)
    assert (bad_base64.status_code, bad_base64.json()["code"]) == (400, "bad_request")
    assert healthy(server)
    no_tracebacks(server)


# -- a seeded fuzz loop: random, truncated and mutated packets, then a healthy server ----------

VALID = [
    '40{"name":"Fuzz"}',
    '420["join",{"room":"fuzz"}]',
    '421["send",{"room":"fuzz","text":"hi","cid":"c1"}]',
    '422["history",{"room":"fuzz","limit":5}]',
    '423["typing",{"room":"fuzz","typing":true}]',
    '424["read",{"room":"fuzz","offset":0}]',
    '451-["send",{"room":"fuzz","data":{"_placeholder":true,"num":0},"cid":"c2"}]',
    '43["x"]',
    "41",
    "3",
    "6",
]


def fuzz_frames(rng: random.Random, count: int) -> list[str | bytes]:
    """``count`` frames: valid ones, truncated, mutated, random text and random bytes."""
    frames: list[str | bytes] = []
    for _ in range(count):
        valid = "4" + rng.choice(VALID) if rng.random() < 0.9 else rng.choice(VALID)
        kind = rng.randrange(5)
        if kind == 0:
            frames.append(valid)
        elif kind == 1:
            frames.append(valid[: rng.randrange(len(valid) + 1)])
        elif kind == 2:
            chars = list(valid)
            for _ in range(rng.randint(1, 4)):
                where = rng.randrange(len(chars) + 1)
                chars[where:where] = rng.choice('[]{}",:-/0123456789\\\x00\ud800é')
            frames.append("".join(chars))
        elif kind == 3:
            frames.append("".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(40))))
        else:
            frames.append(rng.randbytes(rng.randrange(64)))
    return frames


async def test_seeded_fuzz_over_websocket_leaves_the_server_healthy(
    server: RunningServer,
) -> None:
    rng = random.Random(20261205)
    frames = fuzz_frames(rng, 1500)
    sockets = []
    while frames:
        ws = await connect(ws_url(server), max_size=None)
        await ws.recv()
        sockets.append(ws)
        try:
            for _ in range(rng.randint(1, 30)):
                if not frames:
                    break
                frame = frames.pop()
                is_text = isinstance(frame, str)
                # websockets refuses to send lone surrogates; send their bytes as text.
                data = frame.encode("utf-8", "surrogatepass") if isinstance(frame, str) else frame
                await ws.send(data, text=is_text)
        except ConnectionClosed:
            pass  # closed by the server for an earlier frame; the rest go to the next one
    outcomes = await asyncio.gather(*(answer(ws, deadline=3) for ws in sockets))
    codes = Counter(code for _, code in outcomes)
    assert set(codes) <= {None, 1000, 1007}  # open, closed for bad input, bad UTF-8
    assert codes[1000] > 0
    print(f"websocket fuzz: 1500 frames over {len(sockets)} sessions, close codes {dict(codes)}")
    await still_serves(server)
    no_tracebacks(server)


def test_seeded_fuzz_over_polling_leaves_the_server_healthy(server: RunningServer) -> None:
    rng = random.Random(20261205)
    base = server.url + "/socket.io/?EIO=4&transport=polling"
    statuses: Counter[int] = Counter()
    for _ in range(150):
        sid = json.loads(requests.get(base, timeout=5).text[1:])["sid"]
        packets = fuzz_frames(rng, rng.randint(1, 6))
        body = "\x1e".join(
            "b" + base64.b64encode(p).decode() if isinstance(p, bytes) else p for p in packets
        ).encode("utf-8", "surrogatepass")
        if rng.random() < 0.2:
            body = rng.randbytes(rng.randrange(1, 200))
        statuses[requests.post(f"{base}&sid={sid}", data=body, timeout=5).status_code] += 1
    assert set(statuses) <= {200, 400}
    assert statuses[400] > 0
    print(f"polling fuzz: 150 bodies, statuses {dict(statuses)}")
    assert healthy(server)
    no_tracebacks(server)
