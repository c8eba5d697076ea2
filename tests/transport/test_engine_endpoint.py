"""The Engine.IO endpoint over real HTTP and WebSocket, against the echo server.

``/engine.io/`` of the conformance app sends every message back; it pings every
300 ms and closes a session whose pong has not come 200 ms later.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from roomcast.protocol.engineio import Packet, PacketType, decode_payload

from .wire import TIMEOUT, LiveServer, Polling, closed, handshake, recv

EIO = "engine.io"
HANDSHAKE_KEYS = {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}


def text(packet: Packet) -> str:
    assert isinstance(packet.data, str)
    return packet.data


# -- handshake ------------------------------------------------------------------------------


async def test_polling_handshake(live: LiveServer, http: httpx.AsyncClient) -> None:
    session = await Polling.open(http, live, EIO)

    assert set(session.handshake) == HANDSHAKE_KEYS
    assert isinstance(session.sid, str) and session.sid
    assert session.handshake["upgrades"] == ["websocket"]
    assert session.handshake["pingInterval"] == 300
    assert session.handshake["pingTimeout"] == 200
    assert session.handshake["maxPayload"] == 1_000_000


async def test_each_session_gets_its_own_sid(live: LiveServer, http: httpx.AsyncClient) -> None:
    sids = {(await Polling.open(http, live, EIO)).sid for _ in range(5)}

    assert len(sids) == 5


async def test_websocket_handshake(live: LiveServer) -> None:
    async with live.connect(EIO) as ws:
        value = await handshake(ws)

    assert set(value) == HANDSHAKE_KEYS
    assert isinstance(value["sid"], str) and value["sid"]
    assert value["upgrades"] == []  # nothing to upgrade to
    assert (value["pingInterval"], value["pingTimeout"]) == (300, 200)
    assert value["maxPayload"] == 1_000_000


@pytest.mark.parametrize(
    "query",
    [
        "transport=polling",  # no EIO
        "EIO=abc&transport=polling",
        "EIO=3&transport=polling",  # Engine.IO v3 is not spoken
        "EIO=5&transport=polling",
        "EIO=4",  # no transport
        "EIO=4&transport=abc",
        "EIO=4&transport=websocket",  # a WebSocket transport on a plain GET
    ],
)
async def test_polling_refuses_a_bad_query(
    live: LiveServer, http: httpx.AsyncClient, query: str
) -> None:
    response = await http.get(live.url(EIO, query))

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_a_session_starts_with_a_get(
    live: LiveServer, http: httpx.AsyncClient, method: str
) -> None:
    response = await http.request(method, live.polling(EIO), content="4hello")

    assert response.status_code == 400


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_an_open_session_refuses_other_methods(
    live: LiveServer, http: httpx.AsyncClient, method: str
) -> None:
    session = await Polling.open(http, live, EIO)

    response = await http.request(method, session.url, content="4hello")

    assert response.status_code == 400


async def test_unknown_sid_is_refused(live: LiveServer, http: httpx.AsyncClient) -> None:
    response = await http.get(live.polling(EIO, "no-such-session"))

    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "transport=websocket",
        "EIO=abc&transport=websocket",
        "EIO=3&transport=websocket",
        "EIO=4",
        "EIO=4&transport=abc",
        "EIO=4&transport=polling",  # a polling transport on a WebSocket request
    ],
)
async def test_websocket_refuses_a_bad_query(live: LiveServer, query: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(live.url(EIO, query, scheme="ws"), open_timeout=TIMEOUT):
            pass

    assert refused.value.response.status_code == 403


async def test_websocket_with_an_unknown_sid_is_closed(live: LiveServer) -> None:
    async with live.connect(EIO, sid="no-such-session") as ws:
        assert await closed(ws) == []
        assert ws.close_code == 1008


# -- messages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "4hello",
        "4test1\x1e4test2\x1e4test3",
        "4hello\x1ebAQIDBA==",
        "bAQIDBA==\x1eb\x1e4",  # binary only, an empty binary, an empty text
        "4héllo 😀",
    ],
)
async def test_polling_sends_and_receives(
    live: LiveServer, http: httpx.AsyncClient, body: str
) -> None:
    session = await Polling.open(http, live, EIO)
    sent = decode_payload(body)

    response = await session.post(body.encode("utf-8"))

    assert response.status_code == 200
    assert response.text == "ok"
    assert await session.receive(len(sent)) == sent


async def test_polling_keeps_messages_in_order_across_posts(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, EIO)

    for i in range(5):
        assert (await session.post(f"4m{i}")).status_code == 200

    assert [text(p) for p in await session.receive(5)] == [f"m{i}" for i in range(5)]


async def test_a_pending_poll_gets_a_later_message(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, EIO)
    poll = asyncio.create_task(session.receive(1))

    await session.post("4late")

    assert await poll == [Packet(PacketType.MESSAGE, "late")]


@pytest.mark.parametrize(
    "body",
    [b"abc", b"7", b"4ok\x1e", b"b!!!", b"4ok\x1e9bad", b"\xff\xfe4hello"],
    ids=repr,
)
async def test_polling_invalid_packet_closes_the_session(
    live: LiveServer, http: httpx.AsyncClient, body: bytes
) -> None:
    session = await Polling.open(http, live, EIO)

    response = await session.post(body)

    assert response.status_code == 400
    assert (await session.get()).status_code == 400
    assert (await session.post("4again")).status_code == 400


async def test_polling_payload_over_max_payload_closes_the_session(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, EIO)

    response = await session.post("4" + "x" * 1_000_000)

    assert response.status_code == 413
    assert (await session.get()).status_code == 400


async def test_polling_payload_up_to_max_payload_is_taken(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, EIO)

    response = await session.post("4" + "x" * 999_999)

    assert response.status_code == 200
    assert await session.receive(1) == [Packet(PacketType.MESSAGE, "x" * 999_999)]


async def test_duplicate_poll_closes_the_session(live: LiveServer, http: httpx.AsyncClient) -> None:
    session = await Polling.open(http, live, EIO)

    first, second = await asyncio.gather(session.get(), session.get())

    # Whichever arrived second is refused; the pending one is ended with a close packet.
    by_status = sorted([first, second], key=lambda response: response.status_code)
    assert [response.status_code for response in by_status] == [200, 400]
    assert by_status[0].text == "1"
    assert (await session.get()).status_code == 400


async def test_websocket_echoes_text(live: LiveServer) -> None:
    async with live.connect(EIO) as ws:
        await handshake(ws)
        await ws.send("4hello")
        assert await recv(ws) == "4hello"
        await ws.send("4héllo 😀")
        assert await recv(ws) == "4héllo 😀"


async def test_websocket_echoes_binary(live: LiveServer) -> None:
    async with live.connect(EIO) as ws:
        await handshake(ws)
        await ws.send(b"\x01\x02\x03\x04")
        assert await recv(ws) == b"\x01\x02\x03\x04"
        await ws.send(b"")
        assert await recv(ws) == b""


@pytest.mark.parametrize("frame", ["abc", "", "7", "0"], ids=repr)
async def test_websocket_invalid_packet_closes_the_session(live: LiveServer, frame: str) -> None:
    async with live.connect(EIO) as ws:
        sid = (await handshake(ws))["sid"]
        await ws.send(frame)
        # Pings are answered while waiting, so only the bad packet can close it.
        assert await closed(ws) == []

    async with httpx.AsyncClient() as client:
        assert (await client.get(live.polling(EIO, sid))).status_code == 400


# -- heartbeat ------------------------------------------------------------------------------


async def test_polling_ping_pong(live: LiveServer, http: httpx.AsyncClient) -> None:
    session = await Polling.open(http, live, EIO)

    # Three rounds outlast pingInterval + pingTimeout: pongs keep the session open.
    for _ in range(3):
        response = await session.get()
        assert response.status_code == 200
        assert response.text == "2"
        pong = await session.post("3")
        assert (pong.status_code, pong.text) == (200, "ok")


async def test_polling_ping_timeout_closes_the_session(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, EIO)

    ping = await session.get()
    assert ping.text == "2"
    # No pong: the session ends; a poll pending at that moment gets a noop.
    responses = [await session.get()]
    while responses[-1].status_code == 200:
        assert responses[-1].text == "6"
        responses.append(await session.get())
    assert responses[-1].status_code == 400


async def test_a_client_ping_ends_the_session(live: LiveServer, http: httpx.AsyncClient) -> None:
    # Engine.IO v4 pings go from the server only ("invalid heartbeat direction" in the
    # reference server); answering them would let a client make the server write at will.
    session = await Polling.open(http, live, EIO)

    await session.post("2probe")

    assert (await session.get()).status_code == 400


async def test_websocket_ping_pong(live: LiveServer) -> None:
    async with live.connect(EIO) as ws:
        await handshake(ws)
        for _ in range(3):
            assert await recv(ws, pong=False) == "2"
            await ws.send("3")
        await ws.send("4still open")
        assert await recv(ws) == "4still open"


async def test_websocket_ping_timeout_closes_the_session(live: LiveServer) -> None:
    async with live.connect(EIO) as ws:
        await handshake(ws)
        frames = await closed(ws, pong=False)

    assert frames == ["2"]


# -- close ------------------------------------------------------------------------------------


async def test_polling_client_close(live: LiveServer, http: httpx.AsyncClient) -> None:
    session = await Polling.open(http, live, EIO)
    poll = asyncio.create_task(session.get())
    await asyncio.sleep(0.05)  # lets the poll reach the server first (not asserted on)

    closing = await session.post("1")

    assert closing.status_code == 200
    pending = await poll
    assert pending.status_code in (200, 400)
    if pending.status_code == 200:
        assert pending.text == "6"  # the pending poll is ended with a noop
    assert (await session.get()).status_code == 400


async def test_a_poll_arriving_just_after_the_client_close_gets_a_noop(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    # A client sends its last poll and the close together; on two connections the close
    # may arrive first. The official suite does this ("should forcefully close the session").
    session = await Polling.open(http, live, EIO)

    closing = await session.post("1")
    late = await session.get()

    assert closing.status_code == 200
    assert (late.status_code, late.text) == (200, "6")
    assert (await session.get()).status_code == 400
    assert (await session.post("4again")).status_code == 400


async def test_websocket_client_close(live: LiveServer) -> None:
    async with live.connect(EIO) as ws:
        sid = (await handshake(ws))["sid"]
        await ws.send("1")
        assert await closed(ws) == []

    async with httpx.AsyncClient() as client:
        assert (await client.get(live.polling(EIO, sid))).status_code == 400


# -- upgrade ----------------------------------------------------------------------------------


async def test_upgrade_from_polling_to_websocket(live: LiveServer, http: httpx.AsyncClient) -> None:
    session = await Polling.open(http, live, EIO)
    await session.post("4before")
    assert await session.receive(1) == [Packet(PacketType.MESSAGE, "before")]

    async with live.connect(EIO, session.sid) as ws:
        await ws.send("2probe")
        assert await recv(ws, pong=False) == "3probe"

        # The poll that would otherwise hang is ended with a noop.
        noop = await session.get()
        assert noop.status_code == 200
        assert [p.type for p in decode_payload(noop.text)][-1] is PacketType.NOOP

        await ws.send("5")
        await ws.send("4hello")
        assert await recv(ws) == "4hello"
        await ws.send(b"\x00\x01")
        assert await recv(ws) == b"\x00\x01"

        # The session lives on the WebSocket now; HTTP with its sid is refused.
        assert (await session.get()).status_code == 400
        assert (await session.post("4nope")).status_code == 400
        await ws.send("4after")
        assert await recv(ws) == "4after"


async def test_a_pending_poll_is_ended_by_the_upgrade(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, EIO)
    poll = asyncio.create_task(session.get())

    async with live.connect(EIO, session.sid) as ws:
        await ws.send("2probe")
        assert await recv(ws, pong=False) == "3probe"
        pending = await poll
        assert pending.status_code == 200
        packets = decode_payload(pending.text)
        assert packets[-1].type is PacketType.NOOP
        assert {p.type for p in packets[:-1]} <= {PacketType.PING}
        await ws.send("5")
        await ws.send("4upgraded")
        assert await recv(ws) == "4upgraded"


async def test_second_websocket_with_same_sid_is_refused(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, EIO)

    async with live.connect(EIO, session.sid) as ws:
        await ws.send("2probe")
        assert await recv(ws, pong=False) == "3probe"
        await ws.send("5")

        async with live.connect(EIO, session.sid) as intruder:
            assert await closed(intruder) == []

        await ws.send("4hello")
        assert await recv(ws) == "4hello"


async def test_websocket_session_cannot_be_upgraded_into(live: LiveServer) -> None:
    async with live.connect(EIO) as ws:
        sid = (await handshake(ws))["sid"]

        async with live.connect(EIO, sid) as intruder:
            assert await closed(intruder) == []

        await ws.send("4mine")
        assert await recv(ws) == "4mine"


async def test_failed_probe_leaves_the_session_on_polling(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, EIO)

    async with live.connect(EIO, session.sid) as ws:
        await ws.send("2wrong")
        with pytest.raises(ConnectionClosed):
            await recv(ws, pong=False)

    await session.post("4still polling")
    assert await session.receive(1) == [Packet(PacketType.MESSAGE, "still polling")]
