"""Nothing global in the process: two servers with different settings run side by side."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import uvicorn

from roomcast import AsyncClient
from roomcast.app import RoomcastApp, create_app
from roomcast.config import load_settings
from roomcast.errors import TooLarge


async def start(app: RoomcastApp) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, f"http://127.0.0.1:{port}"


async def test_two_servers_in_one_process_keep_their_own_settings_and_rooms(
    tmp_path: Path,
) -> None:
    small = create_app(load_settings({"store": "memory", "max_text": 10}, environ={}))
    large = create_app(load_settings({"data_dir": tmp_path / "large"}, environ={}))
    running = [await start(small), await start(large)]
    try:
        small_url, large_url = running[0][2], running[1][2]
        async with AsyncClient(small_url, "Ada") as ada, AsyncClient(large_url, "Ada") as bob:
            await ada.join("lobby")
            await bob.join("lobby")
            with pytest.raises(TooLarge):
                await ada.send("lobby", "longer than ten characters")
            sent = await bob.send("lobby", "longer than ten characters")
            assert sent["offset"] == 1
            assert (await ada.send("lobby", "short"))["offset"] == 1  # its own offsets
        async with httpx.AsyncClient(timeout=10) as http:
            small_history = (await http.get(f"{small_url}/api/v1/rooms/lobby/messages")).json()
            large_history = (await http.get(f"{large_url}/api/v1/rooms/lobby/messages")).json()
        assert [m["text"] for m in small_history["messages"]] == ["short"]
        assert [m["text"] for m in large_history["messages"]] == ["longer than ten characters"]
        assert small.store is not large.store and small.bus is not large.bus
    finally:
        for server, _task, _url in running:
            server.should_exit = True
        await asyncio.gather(*(task for _, task, _ in running))
