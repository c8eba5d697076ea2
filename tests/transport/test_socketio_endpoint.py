"""The Socket.IO server over real WebSocket and long-polling, against the reference handlers.

``/socket.io/`` of the conformance app emits ``auth`` (with the CONNECT payload) on
connect, echoes ``message`` as ``message-back``, acks ``message-with-ack`` with its
arguments, and serves ``/custom`` too. A session without CONNECT closes after 1 s.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import socketio  # type: ignore[import-untyped]

from roomcast.protocol.engineio import Packet, PacketType

from .wire import TIMEOUT, LiveServer, Polling, closed, handshake, recv, recv_many, sio_connect

SIO = "socket.io"
PH0 = '{"_placeholder":true,"num":0}'
PH1 = '{"_placeholder":true,"num":1}'


# -- connect --------------------------------------------------------------------------------


async def test_handshake_fields_match_engine_io(live: LiveServer, http: httpx.AsyncClient) -> None:
    session = await Polling.open(http, live, SIO)

    assert session.handshake["upgrades"] == ["websocket"]
    assert (session.handshake["pingInterval"], session.handshake["pingTimeout"]) == (300, 200)
    assert session.handshake["maxPayload"] == 1_000_000


@pytest.mark.parametrize(
    "query", ["transport=polling", "EIO=abc&transport=polling", "EIO=4", "EIO=4&transport=abc"]
)
async def test_bad_query_is_refused(live: LiveServer, http: httpx.AsyncClient, query: str) -> None:
    assert (await http.get(live.url(SIO, query))).status_code == 400


@pytest.mark.parametrize(
    ("namespace", "auth"),
    [("/", None), ("/", {"token": "123"}), ("/custom", None), ("/custom", {"token": "abc"})],
)
async def test_connect(live: LiveServer, namespace: str, auth: dict[str, Any] | None) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        prefix = "" if namespace == "/" else f"{namespace},"
        await ws.send("40" + prefix + (json.dumps(auth) if auth is not None else ""))

        reply = await recv(ws)
        assert isinstance(reply, str)
        assert reply.startswith("40" + prefix)
        body = json.loads(reply[2 + len(prefix) :])
        assert set(body) == {"sid"}
        assert isinstance(body["sid"], str) and body["sid"]
        # The reference server emits the CONNECT payload back as "auth".
        auth_json = json.dumps(auth or {}, separators=(",", ":"))
        assert await recv(ws) == f'42{prefix}["auth",{auth_json}]'


async def test_connect_to_a_namespace_without_the_comma(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await ws.send("40/custom")

        reply = await recv(ws)
        assert isinstance(reply, str) and reply.startswith("40/custom,")
        assert await recv(ws) == '42/custom,["auth",{}]'


async def test_each_connection_gets_its_own_sid(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        engine_sid = (await handshake(ws))["sid"]
        main = await sio_connect(ws)
        custom = await sio_connect(ws, "/custom")

    assert len({engine_sid, main, custom}) == 3


async def test_unknown_namespace_is_refused(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await ws.send("40/random")

        assert await recv(ws) == '44/random,{"message":"Invalid namespace"}'
        # The session itself stays usable.
        await sio_connect(ws)


@pytest.mark.parametrize("frame", ["4abc", "40[]", '40"token"', "4", "41"], ids=repr)
async def test_invalid_handshake_closes_the_connection(live: LiveServer, frame: str) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await ws.send(frame)

        frames = await closed(ws)

    # "41" is a valid DISCONNECT of a namespace never joined: ignored, then the connect timeout.
    assert frames == ["1"]


async def test_no_connect_closes_after_the_connect_timeout(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        # Pings are answered, so only the missing CONNECT can end the session.
        frames = await closed(ws)

    assert frames == ["1"]


async def test_no_connect_over_polling_closes_too(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, SIO)

    packets = await session.wait_closed()

    assert packets in ([], [Packet(PacketType.CLOSE)], [Packet(PacketType.NOOP)])


async def test_refused_namespace_alone_does_not_keep_the_session(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await ws.send("40/random")

        assert await closed(ws) == ['44/random,{"message":"Invalid namespace"}', "1"]


# -- disconnect -----------------------------------------------------------------------------


async def test_disconnect_from_the_main_namespace(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        first = await sio_connect(ws)
        await ws.send("41")

        # A CONNECT is only answered for a namespace not joined: the disconnect took effect.
        second = await sio_connect(ws)
        assert second != first
        await ws.send('42["message","still here"]')
        assert await recv(ws) == '42["message-back","still here"]'


async def test_disconnect_from_a_custom_namespace_keeps_the_main_one(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        first = await sio_connect(ws, "/custom")

        await ws.send("41/custom,")
        await ws.send('42["message","message to main namespace"]')
        assert await recv(ws) == '42["message-back","message to main namespace"]'

        assert await sio_connect(ws, "/custom") != first


async def test_events_to_a_namespace_not_joined_are_ignored(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send('42/custom,["message","lost"]')
        await ws.send('42["message","kept"]')

        assert await recv(ws) == '42["message-back","kept"]'


async def test_heartbeat_of_a_connected_client(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        for _ in range(3):  # answered pings keep it open past pingInterval + pingTimeout
            assert await recv(ws, pong=False) == "2"
            await ws.send("3")
        await ws.send('42["message","alive"]')
        assert await recv(ws) == '42["message-back","alive"]'

        # Then a ping left unanswered ends the session.
        assert await closed(ws, pong=False) == ["2"]


async def test_engine_close_ends_the_connection(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send("1")

        assert await closed(ws) == []


# -- events and acks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "received"),
    [
        ('42["message",1,"2",{"3":[true]}]', '42["message-back",1,"2",{"3":[true]}]'),
        ('42["message"]', '42["message-back"]'),
        ('42["message","héllo 😀",null,1.5]', '42["message-back","héllo 😀",null,1.5]'),
        ('42["message","\\ud800"]', '42["message-back","\\ud800"]'),  # lone surrogate
        ('42456["message-with-ack",1,"2",{"3":[false]}]', '43456[1,"2",{"3":[false]}]'),
        ('420["message-with-ack"]', "430[]"),
        ('429007199254740991["message-with-ack","max"]', '439007199254740991["max"]'),
    ],
)
async def test_event_and_ack(live: LiveServer, sent: str, received: str) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send(sent)

        assert await recv(ws) == received


async def test_event_with_binary_attachments(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send(f'452-["message",{PH0},{PH1}]')
        await ws.send(b"\x01\x02\x03")
        await ws.send(b"\x04\x05\x06")

        assert await recv_many(ws, 3) == [
            f'452-["message-back",{PH0},{PH1}]',
            b"\x01\x02\x03",
            b"\x04\x05\x06",
        ]


async def test_ack_with_binary_attachments(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send(f'452-789["message-with-ack",{PH0},{PH1}]')
        await ws.send(b"\x01\x02\x03")
        await ws.send(b"\x04\x05\x06")

        assert await recv_many(ws, 3) == [
            f"462-789[{PH0},{PH1}]",
            b"\x01\x02\x03",
            b"\x04\x05\x06",
        ]


async def test_nested_binary_comes_back_renumbered_in_order(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        # Placeholders out of order and nested; the echo numbers them as it meets them.
        await ws.send(f'452-3["message-with-ack",{{"a":[{PH1}]}},{PH0}]')
        await ws.send(b"zero")
        await ws.send(b"one")

        assert await recv_many(ws, 3) == [f'462-3[{{"a":[{PH0}]}},{PH1}]', b"one", b"zero"]


async def test_binary_event_without_attachments(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send('450-["message","plain"]')

        assert await recv(ws) == '42["message-back","plain"]'


async def test_ack_of_data_too_deep_to_echo_is_an_error_ack(live: LiveServer) -> None:
    deep = "[" * 450 + "]" * 450
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send(f'421["message-with-ack",{deep}]')

        reply = await recv(ws)
        assert isinstance(reply, str) and reply.startswith("431")
        assert json.loads(reply[3:])[0]["ok"] is False
        await ws.send('42["message","alive"]')
        assert await recv(ws) == '42["message-back","alive"]'


@pytest.mark.parametrize(
    "frame",
    [
        "4abc",  # unknown packet type
        "42{}",  # event payload that is not an array
        '42abc["message-with-ack",1,"2",{"3":[false]}]',  # ack id that is not a number
        "42" + "9" * 20 + '["message-with-ack"]',  # ack id too large
        '43["no id"]',  # ack without id
        '45["message"]',  # binary event without attachment count
        '451-["message",{"_placeholder":true,"num":4}]',  # placeholder out of range
        '4599-["message"]',  # too many attachments
        "42" + "[" * 100_000,  # nested too deeply
    ],
    ids=[
        "unknown type",
        "non-array event",
        "bad ack id",
        "huge ack id",
        "ack without id",
        "no attachment count",
        "placeholder out of range",
        "too many attachments",
        "deep nesting",
    ],
)
async def test_invalid_packet_closes_the_connection(live: LiveServer, frame: str) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send(frame)
        if frame.startswith("451-"):
            await ws.send(b"\x00")

        assert await closed(ws) == ["1"]


async def test_text_while_attachments_are_expected_closes(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send(f'452-["message",{PH0},{PH1}]')
        await ws.send(b"\x01")
        await ws.send('42["message","too soon"]')

        assert await closed(ws) == ["1"]


async def test_binary_without_a_binary_packet_closes(live: LiveServer) -> None:
    async with live.connect(SIO) as ws:
        await handshake(ws)
        await sio_connect(ws)
        await ws.send(b"\x01\x02")

        assert await closed(ws) == ["1"]


# -- Socket.IO over long-polling ------------------------------------------------------------


async def test_socketio_over_polling(live: LiveServer, http: httpx.AsyncClient) -> None:
    session = await Polling.open(http, live, SIO)

    assert (await session.post('40{"token":"p"}')).status_code == 200
    connected, auth = await session.receive(2)
    assert isinstance(connected.data, str) and connected.data.startswith("0{")
    assert auth == Packet(PacketType.MESSAGE, '2["auth",{"token":"p"}]')

    await session.post(f'451-7["message-with-ack",{PH0},"x"]\x1ebAQID\x1e42["message",1]')
    assert await session.receive(3) == [
        Packet(PacketType.MESSAGE, f'61-7[{PH0},"x"]'),
        Packet(PacketType.MESSAGE, b"\x01\x02\x03"),
        Packet(PacketType.MESSAGE, '2["message-back",1]'),
    ]

    assert (await session.post("42{}")).status_code == 200  # Engine.IO fine, Socket.IO not
    assert await session.wait_closed() in ([], [Packet(PacketType.CLOSE)])


async def test_upgrade_keeps_the_socketio_connection(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    session = await Polling.open(http, live, SIO)
    await session.post("40")
    await session.receive(2)

    async with live.connect(SIO, session.sid) as ws:
        await ws.send("2probe")
        assert await recv(ws, pong=False) == "3probe"
        await session.get()  # the noop
        await ws.send("5")
        await ws.send('42["message","upgraded"]')
        assert await recv(ws) == '42["message-back","upgraded"]'
        assert (await session.get()).status_code == 400


# -- the official python-socketio client ----------------------------------------------------

TRANSPORTS = {"websocket": ["websocket"], "polling": ["polling"], "default": None}


class Recorder:
    """Events a python-socketio client received, waited for from the test thread."""

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self._changed = threading.Condition()

    def handler(self, event: str) -> Any:
        def record(*args: Any) -> None:
            with self._changed:
                self.events.append((event, args))
                self._changed.notify_all()

        return record

    def wait_for(self, event: str) -> tuple[Any, ...]:
        with self._changed:
            found = self._changed.wait_for(
                lambda: any(name == event for name, _ in self.events), TIMEOUT
            )
            assert found, f"no {event!r} event; got {self.events!r}"
            return next(args for name, args in self.events if name == event)


@pytest.fixture
def client() -> Iterator[socketio.Client]:
    sio = socketio.Client(reconnection=False, handle_sigint=False)
    try:
        yield sio
    finally:
        sio.disconnect()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_python_client_events_and_acks(
    live: LiveServer, client: socketio.Client, transport: str
) -> None:
    recorder = Recorder()
    client.on("auth", recorder.handler("auth"))
    client.on("message-back", recorder.handler("message-back"))

    client.connect(
        live.base, transports=TRANSPORTS[transport], auth={"name": "Ada"}, wait_timeout=TIMEOUT
    )

    # The default starts on polling and upgrades to WebSocket.
    assert client.transport() == ("polling" if transport == "polling" else "websocket")
    assert recorder.wait_for("auth") == ({"name": "Ada"},)

    client.emit("message", ("hello", 1, {"nested": [True, None]}))
    assert recorder.wait_for("message-back") == ("hello", 1, {"nested": [True, None]})

    assert client.call("message-with-ack", ("a", 2, ["b"]), timeout=TIMEOUT) == ("a", 2, ["b"])
    assert client.call("message-with-ack", "single", timeout=TIMEOUT) == "single"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_python_client_binary_round_trip(
    live: LiveServer, client: socketio.Client, transport: str
) -> None:
    recorder = Recorder()
    client.on("message-back", recorder.handler("message-back"))
    client.connect(live.base, transports=TRANSPORTS[transport], wait_timeout=TIMEOUT)
    blob = bytes(range(256))

    client.emit("message", (blob, {"inner": [b"", b"\x00"]}))
    assert recorder.wait_for("message-back") == (blob, {"inner": [b"", b"\x00"]})

    assert client.call("message-with-ack", (b"\xff", "text", b"\x01\x02"), timeout=TIMEOUT) == (
        b"\xff",
        "text",
        b"\x01\x02",
    )


def test_python_client_custom_namespace(live: LiveServer, client: socketio.Client) -> None:
    recorder = Recorder()
    client.on("auth", recorder.handler("auth"), namespace="/custom")

    client.connect(
        live.base,
        namespaces=["/", "/custom"],
        transports=["websocket"],
        auth={"k": "v"},
        wait_timeout=TIMEOUT,
    )

    assert recorder.wait_for("auth") == ({"k": "v"},)
    assert client.get_sid("/custom") not in (None, client.get_sid("/"))


def test_python_client_is_refused_an_unknown_namespace(
    live: LiveServer, client: socketio.Client
) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(
            live.base, namespaces=["/random"], transports=["websocket"], wait_timeout=TIMEOUT
        )
