"""Broadcast frames built once and sent as they are, through uvicorn with our protocol."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from websockets.asyncio.client import connect

from roomcast.transport.frames import FRAME_EXTENSION, FRAME_MESSAGE, SharedText, wire_frame
from roomcast.transport.ws_protocol import FramedWebSocketProtocol

from .burst import burst_engine, read_burst_in_order

TEXTS = ['42["m",1]', "x" * 200, "é€😀" * 30_000]  # the three WebSocket length encodings


def test_a_shared_frame_is_built_once() -> None:
    shared = SharedText('42["message",{}]')
    assert shared.websocket_frame() is shared.websocket_frame()
    assert shared.websocket_frame()[0] == 0x81  # FIN + text opcode, unmasked


async def test_pre_framed_messages_reach_a_real_client_intact() -> None:
    seen_extensions: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        seen_extensions.append(dict(scope.get("extensions", {})))
        await receive()
        await send({"type": "websocket.accept"})
        for text in TEXTS:
            await send({"type": FRAME_MESSAGE, "frame": SharedText(text).websocket_frame()})
        await send({"type": "websocket.send", "text": "ordinary"})  # mixes with library frames
        # Several frames of each kind in one write, as a session's writer sends its queue.
        batch = [SharedText("shared"), "plain é", b"\x00\x01binary"]
        await send({"type": FRAME_MESSAGE, "frame": b"".join(map(wire_frame, batch))})
        await receive()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        ws=FramedWebSocketProtocol,
        lifespan="off",
        log_level="warning",
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 -- uvicorn offers no start event
            await asyncio.sleep(0.01)
        async with connect(f"ws://127.0.0.1:{port}/", max_size=None) as ws:
            received = [await ws.recv() for _ in range(len(TEXTS) + 4)]
        assert received == [*TEXTS, "ordinary", "shared", "plain é", b"\x00\x01binary"]
        assert FRAME_EXTENSION in seen_extensions[0]
    finally:
        server.should_exit = True
        await task
        sock.close()


async def test_a_reader_that_stalls_gets_every_broadcast_in_order() -> None:
    """Direct writes hand over to the writer task under back-pressure, and back, in order."""
    engine = burst_engine()
    refused_writes = 0

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        extension = scope["extensions"][FRAME_EXTENSION]
        write = extension["write"]

        def counting_write(data: bytes) -> bool:
            nonlocal refused_writes
            written: bool = write(data)
            refused_writes += not written
            return written

        extension["write"] = counting_write
        await engine(scope, receive, send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"ws://127.0.0.1:{sock.getsockname()[1]}/?EIO=4&transport=websocket"
    config = uvicorn.Config(
        app, ws=FramedWebSocketProtocol, lifespan="off", log_level="warning",
        ws_per_message_deflate=False,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:  # noqa: ASYNC110 -- uvicorn offers no start event
            await asyncio.sleep(0.01)
        await read_burst_in_order(url)
        assert refused_writes > 0, "the socket never pushed back: the test proved nothing"
    finally:
        server.should_exit = True
        await task
        sock.close()
