"""The ASGI-less WebSocket connection reads one message ahead of the app, no more."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

from roomcast.transport.ws_connection import WebSocketConnection


def _client_frame(text: str) -> bytes:
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=True)


async def _connected() -> tuple[WebSocketConnection, asyncio.StreamWriter, asyncio.Server]:
    """A real socket whose server side is a WebSocketConnection, already open."""
    made: asyncio.Future[WebSocketConnection] = asyncio.get_running_loop().create_future()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            conn = WebSocketConnection(transport, ServerProtocol(state=OPEN), set())
            transport.set_protocol(conn)
            made.set_result(conn)

    server = await asyncio.get_running_loop().create_server(Accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    return await made, writer, server


async def _until(condition: Any) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)


async def test_a_message_the_app_waits_for_leaves_reading_on() -> None:
    conn, writer, server = await _connected()
    try:
        receiving = asyncio.create_task(conn.receive())
        await asyncio.sleep(0)
        writer.write(_client_frame("42first"))
        message = await asyncio.wait_for(receiving, 2)
        assert message == {"type": "websocket.receive", "text": "42first"}
        assert conn.transport.is_reading()
    finally:
        writer.close()
        server.close()


async def test_a_message_the_app_has_not_taken_pauses_reading_until_it_does() -> None:
    conn, writer, server = await _connected()
    try:
        writer.write(_client_frame("42one") + _client_frame("42two"))
        await _until(lambda: conn.queue.qsize() == 2)
        assert conn.queue.qsize() == 2
        assert not conn.transport.is_reading()
        assert (await conn.receive())["text"] == "42one"
        assert not conn.transport.is_reading()  # one is still queued
        assert (await conn.receive())["text"] == "42two"
        assert conn.transport.is_reading()
    finally:
        writer.close()
        server.close()
