"""Abuse limits against a real server: each refuses with ``rate_limited`` (or HTTP 429),
the server stays healthy, other clients carry on, and ``/metrics`` counts the refusal."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import socketio
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.test_http_api import check_error, make_key
from tests.integration.test_metrics import refusals, scrape

ServerFactory = Callable[..., RunningServer]
NO_EXEMPTIONS = ("--unlimited-ips", "")  # the tests come from 127.0.0.1, unlimited by default


def assert_healthy(server: RunningServer) -> None:
    response = httpx.get(server.url + "/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json()["ok"] is True


def refused_connect(server: RunningServer, transport: str) -> dict[str, Any]:
    """The ``connect_error`` data a python-socketio client gets when it is refused."""
    client = socketio.Client(reconnection=False)
    errors: list[dict[str, Any]] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth={"name": "Eve"}, transports=[transport], wait_timeout=10)
    client.disconnect()
    assert errors, "connect_error carried no data"
    return errors[0]


@contextmanager
def polling_session(server: RunningServer, local_address: str) -> Iterator[str]:
    """A Socket.IO connect over long-polling from ``local_address``; yields the answer frame."""
    transport = httpx.HTTPTransport(local_address=local_address)
    with httpx.Client(transport=transport, base_url=server.url, timeout=10) as http:
        opened = http.get("/socket.io/?EIO=4&transport=polling")
        assert opened.status_code == 200
        sid = json.loads(opened.text[1:])["sid"]
        where = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
        assert http.post(where, content='40{"name":"Pat"}').text == "ok"
        yield http.get(where).text
        http.post(where, content="1")  # close the session


def test_connections_per_address(server_factory: ServerFactory) -> None:
    server = server_factory("--max-connections-per-ip", "2", *NO_EXEMPTIONS)
    ada = ChatClient(server.url, "Ada", ["websocket"])
    bob = ChatClient(server.url, "Bob", ["polling"])
    try:
        # A third session from 127.0.0.1 is refused with a code, whatever its transport.
        for transport in ("websocket", "polling"):
            error = refused_connect(server, transport)
            assert error["code"] == "rate_limited"
            assert "at most 2" in error["message"]
        with polling_session(server, "127.0.0.1") as answer:
            assert answer.startswith("44") and '"rate_limited"' in answer
        # Another address has a count of its own; those connected carry on.
        with polling_session(server, "127.0.0.2") as answer:
            assert answer.startswith('40{"sid"')
        for client in (ada, bob):
            assert client.call("join", {"room": "lobby"})["ok"]
        assert ada.send("lobby", "still here")["ok"]
        assert_healthy(server)
        assert refusals(server, "rate_limited") == 3
        # A closed session frees its place.
        bob.close()
        carl = ChatClient(server.url, "Carl", ["websocket"])
        carl.close()
    finally:
        ada.close()
        bob.close()


def test_this_machine_is_unlimited_by_default(server_factory: ServerFactory) -> None:
    server = server_factory("--max-connections-per-ip", "1")
    clients = [ChatClient(server.url, name, ["websocket"]) for name in ("Ada", "Bob", "Cy")]
    try:
        assert all(client.call("join", {"room": "lobby"})["ok"] for client in clients)
        assert refusals(server, "rate_limited") == 0
    finally:
        for client in clients:
            client.close()


def test_events_per_connection(server_factory: ServerFactory) -> None:
    # 0.1 a second: no token comes back within the test, so the count is exact.
    server = server_factory("--rate", "0.1", "--burst", "4")
    ada = ChatClient(server.url, "Ada", ["websocket"])
    bob = ChatClient(server.url, "Bob", ["websocket"])
    try:
        assert ada.call("join", {"room": "lobby"})["ok"]
        assert ada.call("typing", {"room": "lobby", "typing": True})["ok"]
        assert ada.call("nonsense", {})["error"]["code"] == "bad_request"  # counts too
        assert ada.send("lobby", "one")["ok"]
        for event, payload in [
            ("send", {"room": "lobby", "text": "two"}),
            ("join", {"room": "lobby"}),
            ("history", {"room": "lobby"}),
            ("nonsense", {}),
        ]:
            answer = ada.call(event, payload)
            assert answer["error"]["code"] == "rate_limited", (event, answer)
        assert bob.call("join", {"room": "lobby"})["ok"]  # a bucket per connection
        assert bob.send("lobby", "bob is fine")["ok"]
        assert_healthy(server)
        assert refusals(server, "rate_limited") == 4
    finally:
        ada.close()
        bob.close()


def test_rooms_per_connection(server_factory: ServerFactory) -> None:
    server = server_factory("--max-rooms-per-connection", "2")
    ada = ChatClient(server.url, "Ada", ["websocket"])
    bob = ChatClient(server.url, "Bob", ["websocket"])
    try:
        assert ada.call("join", {"room": "one"})["ok"]
        assert ada.call("join", {"room": "two"})["ok"]
        assert ada.call("join", {"room": "two", "since": 0})["ok"]  # a room it is in already
        answer = ada.call("join", {"room": "three"})
        assert answer["error"]["code"] == "rate_limited"
        assert "at most 2 rooms" in answer["error"]["message"]
        assert ada.call("leave", {"room": "one"})["ok"]
        assert ada.call("join", {"room": "three"})["ok"]  # left one: may join another
        assert bob.call("join", {"room": "one"})["ok"]
        assert bob.call("join", {"room": "four"})["ok"]
        assert_healthy(server)
        assert refusals(server, "rate_limited") == 1
    finally:
        ada.close()
        bob.close()


def test_rooms_per_server(server_factory: ServerFactory) -> None:
    server = server_factory("--max-rooms", "2")
    ada = ChatClient(server.url, "Ada", ["websocket"])
    bob = ChatClient(server.url, "Bob", ["websocket"])
    try:
        assert ada.call("join", {"room": "one"})["ok"]
        assert ada.call("join", {"room": "two"})["ok"]
        answer = bob.call("join", {"room": "three"})
        assert answer["error"]["code"] == "rate_limited"
        assert "2 rooms open" in answer["error"]["message"]
        # The open rooms stay usable, by those in them and by newcomers.
        assert bob.call("join", {"room": "two"})["ok"]
        assert bob.send("two", "hello")["ok"]
        ada.wait_for(lambda: bool(ada.messages("two")))
        # A room nobody is in any more is closed: another may open.
        assert ada.call("leave", {"room": "one"})["ok"]
        assert bob.call("join", {"room": "three"})["ok"]
        assert_healthy(server)
        assert refusals(server, "rate_limited") == 1
        assert scrape(server)[("roomcast_rooms", ())] == 2
    finally:
        ada.close()
        bob.close()


def test_api_requests_per_key_and_per_address(server_factory: ServerFactory) -> None:
    server = server_factory("--api-rate", "0.1", "--api-burst", "3", *NO_EXEMPTIONS)
    key = make_key(server)
    with httpx.Client(base_url=server.url + "/api/v1", timeout=10) as api:
        auth = {"authorization": f"Bearer {key}"}
        for n in range(3):
            posted = api.post("/rooms/feed/messages", json={"data": {"n": n}}, headers=auth)
            assert posted.status_code == 201, posted.text
        refused = api.post("/rooms/feed/messages", json={"data": {"n": 3}}, headers=auth)
        check_error(refused, 429, "rate_limited")
        assert "this API key" in refused.json()["error"]["message"]
        assert 1 <= int(refused.headers["retry-after"]) <= 10
        # Requests without a key have a bucket per address, apart from the key's.
        for _ in range(3):
            assert api.get("/rooms/feed/messages").status_code == 200
        anonymous = api.get("/rooms")
        check_error(anonymous, 429, "rate_limited")
        assert "your address" in anonymous.json()["error"]["message"]
        assert "retry-after" in anonymous.headers
        # A wrong key is no way round the address's bucket.
        wrong = api.get("/rooms", headers={"authorization": "Bearer rc_wrong"})
        check_error(wrong, 429, "rate_limited")
    # The rest of the server carries on: chat, health, and the messages that got in.
    ada = ChatClient(server.url, "Ada", ["websocket"])
    try:
        joined = ada.call("join", {"room": "feed"})
        assert [m["data"]["n"] for m in joined["messages"]] == [0, 1, 2]
    finally:
        ada.close()
    assert_healthy(server)
    assert refusals(server, "rate_limited") == 3


def test_every_api_refusal_is_counted_by_code(server: RunningServer) -> None:
    key = make_key(server)
    auth = {"authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url + "/api/v1", timeout=10) as api:
        check_error(api.post("/rooms/r/messages", json={"text": "x"}), 401, "unauthorized")
        check_error(api.get("/rooms/nowhere"), 404, "not_found")
        check_error(api.get("/no/such/route"), 404, "not_found")
        check_error(api.get("/rooms/r/messages?limit=0"), 400, "bad_request")
        assert api.delete("/rooms/r").status_code == 405
        big = {"text": "x" * 5000}
        check_error(api.post("/rooms/r/messages", json=big, headers=auth), 413, "too_large")
    figures = scrape(server)
    counted = {
        dict(labels)["code"]: value
        for (name, labels), value in figures.items()
        if name == "roomcast_rejections_total"
    }
    assert counted == {"unauthorized": 1, "not_found": 2, "bad_request": 2, "too_large": 1}


def test_engine_refusals_are_counted(server: RunningServer) -> None:
    wrong = httpx.get(server.url + "/socket.io/?EIO=3&transport=polling", timeout=10)
    assert wrong.status_code == 400
    foreign = httpx.get(
        server.url + "/socket.io/?EIO=4&transport=polling",
        headers={"origin": "https://evil.example"},
        timeout=10,
    )
    assert foreign.status_code == 403
    assert refusals(server, "bad_request") == 1
    assert refusals(server, "forbidden") == 1
