"""New Engine.IO WebSocket sessions served without ASGI (fast_upgrade, ws_connection)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
import uvicorn
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from roomcast.testing.conformance_server import build_app, serving_options
from roomcast.transport.asgi import Receive, Scope, Send
from roomcast.transport.engine_server import EngineServer, parse_query
from roomcast.transport.fast_upgrade import (
    EngineHttpProtocol,
    _accept_value,
    engine_http_protocol,
)
from roomcast.transport.ws_connection import WebSocketConnection
from roomcast.transport.ws_protocol import FramedWebSocketProtocol

from .burst import burst_engine, read_burst_in_order
from .wire import TIMEOUT, closed

RFC_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example, and its accept value:
RFC_ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def _headers(**overrides: bytes | None) -> list[tuple[bytes, bytes]]:
    headers = {
        b"host": b"127.0.0.1",
        b"upgrade": b"websocket",
        b"connection": b"Upgrade",
        b"sec-websocket-key": RFC_KEY,
        b"sec-websocket-version": b"13",
    }
    for name, value in overrides.items():
        key = name.replace("_", "-").encode()
        if value is None:
            del headers[key]
        else:
            headers[key] = value
    return list(headers.items())


def test_a_plain_handshake_gets_its_accept_value() -> None:
    assert _accept_value("GET", "1.1", _headers()) == RFC_ACCEPT
    assert _accept_value("GET", "1.1", _headers(upgrade=b"WebSocket")) == RFC_ACCEPT


@pytest.mark.parametrize(
    ("method", "version", "headers"),
    [
        ("POST", "1.1", _headers()),
        ("GET", "1.0", _headers()),
        ("GET", "1.1", _headers(sec_websocket_version=b"12")),
        ("GET", "1.1", _headers(sec_websocket_version=None)),
        ("GET", "1.1", _headers(sec_websocket_key=None)),
        ("GET", "1.1", _headers(sec_websocket_key=b"not base64!")),
        ("GET", "1.1", _headers(sec_websocket_key=base64.b64encode(b"short"))),
        ("GET", "1.1", _headers(upgrade=b"h2c")),
        ("GET", "1.1", [*_headers(), (b"sec-websocket-key", RFC_KEY)]),
        ("GET", "1.1", [*_headers(), (b"upgrade", b"websocket")]),
    ],
)
def test_anything_unusual_is_left_to_the_websockets_library(
    method: str, version: str, headers: list[tuple[bytes, bytes]]
) -> None:
    assert _accept_value(method, version, headers) is None


class _Served:
    """An app served by uvicorn as ``roomcast serve`` does, counting its WebSocket scopes."""

    def __init__(self, app: Any, engines: dict[str, EngineServer]) -> None:
        self.app = app
        self.engines = engines
        self.asgi_websockets = 0
        self.port = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            self.asgi_websockets += 1
        await self.app(scope, receive, send)

    def url(self, path: str = "/socket.io/", query: str = "EIO=4&transport=websocket") -> str:
        return f"ws://127.0.0.1:{self.port}{path}?{query}"


async def _serve(
    served: _Served, head_timeout: float = 20.0, **options: Any
) -> AsyncIterator[_Served]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    served.port = sock.getsockname()[1]
    config = uvicorn.Config(
        served,
        http=engine_http_protocol(served.engines, head_timeout=head_timeout),
        ws=FramedWebSocketProtocol,
        ws_per_message_deflate=False,
        ws_ping_interval=None,
        lifespan="off",
        log_level="warning",
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 -- uvicorn offers no start event
            await asyncio.sleep(0.01)
        yield served
    finally:
        server.should_exit = True
        await task
        sock.close()


def _serve_conformance(**options: Any) -> AsyncIterator[_Served]:
    """The app the official suites run, served as ``roomcast serve`` serves it."""
    app = build_app()
    assert serving_options(app)["http"].engines
    return _serve(_Served(app, app.engines), **options)


@pytest.fixture
async def conformance() -> AsyncIterator[_Served]:
    async for served in _serve_conformance(ws_max_size=1_000_000):
        yield served


async def test_a_new_websocket_session_skips_asgi_and_the_http_protocol_is_freed(
    conformance: _Served,
) -> None:
    async with connect(conformance.url("/engine.io/"), open_timeout=TIMEOUT) as ws:
        assert str(await ws.recv()).startswith('0{"sid":')
        await ws.send("4hello")
        assert await ws.recv() == "4hello"
        await ws.send(b"\x00\x01")
        assert await ws.recv() == b"\x00\x01"
        gc.collect()
        ours = set(map(id, conformance.engines.values()))
        alive = [
            o
            for o in gc.get_objects()
            if isinstance(o, EngineHttpProtocol) and {id(e) for _, e in o.engines} & ours
        ]
        assert alive == []  # nothing keeps the request's headers, its scope or its parser
    assert conformance.asgi_websockets == 0


async def test_fragmented_messages_are_reassembled(conformance: _Served) -> None:
    async with connect(conformance.url("/engine.io/"), open_timeout=TIMEOUT) as ws:
        await ws.recv()
        await ws.send(["4frag", "men", "ted"])
        assert await ws.recv() == "4fragmented"


async def test_a_message_over_the_size_limit_closes_with_1009(conformance: _Served) -> None:
    async with connect(conformance.url("/engine.io/"), open_timeout=TIMEOUT) as ws:
        await ws.recv()
        # The server refuses it from the frame's header and may close before the rest is written.
        with contextlib.suppress(ConnectionClosed):
            await ws.send("4" + "x" * 1_000_001)
        await closed(ws)
        assert ws.close_code == 1009
    assert conformance.asgi_websockets == 0


async def test_invalid_utf8_in_a_text_message_closes_with_1007(conformance: _Served) -> None:
    async with connect(conformance.url("/engine.io/"), open_timeout=TIMEOUT) as ws:
        await ws.recv()
        await ws.send(b"4\xff\xfe", text=True)
        await closed(ws)
        assert ws.close_code == 1007


async def test_an_upgrade_from_polling_and_a_bad_query_take_the_asgi_path(
    conformance: _Served,
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(conformance.url(query="EIO=3&transport=websocket")):
            pass
    assert refused.value.response.status_code == 403  # as the ASGI path always answered
    async with connect(conformance.url(query="EIO=4&transport=websocket&sid=nope")) as ws:
        await closed(ws)
        assert ws.close_code == 1008
    assert conformance.asgi_websockets == 2


_HANDSHAKE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
    + RFC_KEY
    + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


async def test_an_unusual_handshake_gets_the_websockets_librarys_answer(
    conformance: _Served,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", conformance.port)
    writer.write(_HANDSHAKE.replace(b"Version: 13", b"Version: 8"))
    status = await asyncio.wait_for(reader.readline(), TIMEOUT)
    writer.close()
    assert status.startswith(b"HTTP/1.1 400 ")
    assert conformance.asgi_websockets == 0  # websockets refused it before any app


@pytest.mark.parametrize(
    "pieces",
    [
        [_HANDSHAKE[:40], _HANDSHAKE[40:]],  # the head split over two reads
        [_HANDSHAKE + b"\x81\x80\x00\x00\x00\x00"],  # a frame sent before the answer
    ],
    ids=["split-head", "bytes-after-the-head"],
)
async def test_a_head_not_read_whole_and_alone_takes_the_asgi_path(
    conformance: _Served, pieces: list[bytes]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", conformance.port)
    for piece in pieces:
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.05)  # one read each
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    writer.close()
    assert head.startswith(b"HTTP/1.1 101 ")
    assert b"Sec-WebSocket-Accept: " + RFC_ACCEPT in head
    assert conformance.asgi_websockets == 1


async def test_shutdown_closes_a_connection_that_has_sent_nothing() -> None:
    serving = _serve_conformance()
    served = await anext(serving)
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    await asyncio.sleep(0.05)  # accepted: the first protocol holds it
    await asyncio.wait_for(serving.aclose(), TIMEOUT)  # does not wait for the silent client
    assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
    writer.close()


async def test_the_head_deadline_runs_from_the_connection_not_from_the_hand_over() -> None:
    serving = _serve_conformance(head_timeout=2.0)
    served = await anext(serving)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
        await asyncio.sleep(1.5)
        writer.write(_HANDSHAKE[:20])  # uvicorn's protocol takes over from here
        sent = asyncio.get_running_loop().time()
        answer = await asyncio.wait_for(reader.read(), TIMEOUT)
        waited = asyncio.get_running_loop().time() - sent
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408 ")
        # 0.5 s were left of the 2 s; a deadline started afresh would leave 2 s.
        assert waited < 1.5
    finally:
        await serving.aclose()


async def test_server_shutdown_closes_with_1012() -> None:
    serving = _serve_conformance()
    served = await anext(serving)
    async with connect(served.url("/engine.io/"), open_timeout=TIMEOUT) as ws:
        await ws.recv()
        await serving.aclose()  # uvicorn's graceful shutdown
        await closed(ws)
        assert ws.close_code == 1012


@pytest.fixture
async def same_origin() -> AsyncIterator[_Served]:
    engine = burst_engine()  # same origin only
    async for served in _serve(_Served(engine, {"/socket.io/": engine})):
        yield served


async def test_origin_checks_hold_without_asgi(same_origin: _Served) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(same_origin.url(), origin="https://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    own = f"http://127.0.0.1:{same_origin.port}"
    async with connect(same_origin.url(), origin=own) as ws:
        assert str(await ws.recv()).startswith("0")
    assert same_origin.asgi_websockets == 1  # the refusal only


async def test_a_reader_that_stalls_gets_every_broadcast_in_order(
    same_origin: _Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Direct writes hand over to the writer task under back-pressure, and back, in order."""
    refused_writes = 0
    write_now: Callable[[WebSocketConnection, bytes], bool] = WebSocketConnection.write_now

    def counting_write(self: WebSocketConnection, data: bytes) -> bool:
        nonlocal refused_writes
        written = write_now(self, data)
        refused_writes += not written
        return written

    monkeypatch.setattr(WebSocketConnection, "write_now", counting_write)
    await read_burst_in_order(same_origin.url())
    assert refused_writes > 0, "the socket never pushed back: the test proved nothing"
    assert same_origin.asgi_websockets == 0


@pytest.mark.parametrize(
    "query",
    [
        "EIO=4&transport=websocket",
        "EIO=4&transport=polling&sid=abc-_DEF&t=Nx1",
        "",
        "a",
        "a=&b=2&&c=3=4&b=5",
        "=x&EIO=3&EIO=4",
        "sid=a%2Bb&x=y+z&n=%C3%A9",
        "EIO=4&transport=websocket&bad=%zz",
    ],
)
def test_queries_read_as_parse_qs_reads_them(query: str) -> None:
    expected = {key: values[0] for key, values in parse_qs(query).items()}
    assert parse_query(query.encode("latin-1")) == expected
