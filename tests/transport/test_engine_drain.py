"""``EngineServer.drain``: packets being handled finish, later ones and new sessions wait."""

from __future__ import annotations

import asyncio

import httpx

from roomcast.transport.engine_server import EngineServer
from roomcast.transport.engine_session import EngineSession
from roomcast.transport.origins import OriginPolicy


class GatedEcho:
    """Echoes each message once ``gate`` opens; counts what it was given."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.began = asyncio.Event()
        self.handled: list[str | bytes] = []

    async def on_open(self, session: EngineSession) -> None:
        pass

    async def on_message(self, session: EngineSession, data: str | bytes) -> None:
        self.handled.append(data)
        self.began.set()
        await self.gate.wait()
        session.send("4" + str(data))

    def on_close(self, session: EngineSession, reason: str) -> None:
        pass


async def open_session(http: httpx.AsyncClient) -> str:
    """A new long-polling session; returns its URL."""
    opening = await http.get("/?EIO=4&transport=polling")
    sid = opening.text.split('"sid":"')[1].split('"')[0]
    return f"/?EIO=4&transport=polling&sid={sid}"


async def test_drain_finishes_the_packet_being_handled_and_takes_no_more() -> None:
    handler = GatedEcho()
    engine = EngineServer(
        handler,
        ping_interval=25,
        ping_timeout=20,
        max_payload=100_000,
        send_buffer=100,
        origins=OriginPolicy(()),
    )
    transport = httpx.ASGITransport(app=engine)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        url, other = [await open_session(http) for _ in range(2)]
        post = asyncio.create_task(http.post(url, content="4first"))
        await handler.began.wait()
        drain = asyncio.create_task(engine.drain(grace=30))
        await asyncio.sleep(0.05)
        assert not drain.done()  # it waits for the first message, still being handled
        refused = await http.get("/?EIO=4&transport=polling")
        assert refused.status_code == 503
        assert refused.json()["code"] == "unavailable"
        later = await http.post(other, content="4second")
        assert later.text == "ok"
        handler.gate.set()
        await drain
        assert (await post).text == "ok"
        assert handler.handled == ["first"]  # "second" came after the drain began
        assert (await http.get(url)).text == "4first"  # its answer is there to collect
