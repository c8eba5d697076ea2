"""The chat wire contract, driven by the official python-socketio client against a real server."""

from __future__ import annotations

import pytest
import requests
import socketio
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient

TRANSPORTS = {"websocket": ["websocket"], "polling": ["polling"], "upgrade": None}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_two_clients_chat(server: RunningServer, transport: str) -> None:
    ada = ChatClient(server.url, "Ada", TRANSPORTS[transport])
    bob = ChatClient(server.url, "Bob", TRANSPORTS[transport])
    try:
        joined = ada.call("join", {"room": "sales"})
        assert joined["ok"] and joined["offset"] == 0 and joined["messages"] == []
        assert joined["me"]["name"] == "Ada"
        assert bob.call("join", {"room": "sales"})["ok"]
        ada.wait_for(
            lambda: any(
                e == "presence" and {m["name"] for m in p["members"]} == {"Ada", "Bob"}
                for e, p in ada.events
            )
        )
        ack = bob.send("sales", "hello <b>Ada</b>")
        assert ack["ok"] and ack["message"]["offset"] == 1
        assert ack["message"]["sender"]["name"] == "Bob"
        ada.wait_for(lambda: len(ada.messages("sales")) == 1)
        bob.wait_for(lambda: len(bob.messages("sales")) == 1)  # the sender gets it too
        assert ada.messages("sales")[0]["text"] == "hello <b>Ada</b>"
        assert ada.send("sales", "hi Bob")["message"]["offset"] == 2
        bob.wait_for(lambda: [m["offset"] for m in bob.messages("sales")] == [1, 2])
    finally:
        ada.close()
        bob.close()


def test_typing_read_and_presence_states(server: RunningServer) -> None:
    ada = ChatClient(server.url, "Ada", ["websocket"])
    bob = ChatClient(server.url, "Bob", ["websocket"])
    try:
        ada.call("join", {"room": "r1"})
        bob.call("join", {"room": "r1"})
        assert bob.call("typing", {"room": "r1", "typing": True}) == {"ok": True}
        ada.wait_for(
            lambda: (
                (
                    "typing",
                    {
                        "room": "r1",
                        "member": {
                            "id": bob.call("join", {"room": "r1"})["me"]["id"],
                            "name": "Bob",
                        },
                        "typing": True,
                    },
                )
                in ada.events
            )
        )
        assert bob.call("state", {"state": "away"}) == {"ok": True}
        ada.wait_for(
            lambda: any(
                e == "presence"
                and {m["name"]: m["state"] for m in p["members"]}.get("Bob") == "away"
                for e, p in ada.events
            )
        )
        offset = bob.send("r1", "one")["message"]["offset"]
        assert ada.call("read", {"room": "r1", "offset": offset}) == {"ok": True}
        bob.wait_for(lambda: any(e == "read" and p["offset"] == offset for e, p in bob.events))
        assert ada.call("join", {"room": "r1"})["read"] == offset
        bob.close()
        ada.wait_for(
            lambda: any(
                e == "presence"
                and {m["name"]: m["state"] for m in p["members"]}.get("Bob") == "offline"
                for e, p in ada.events
            )
        )
    finally:
        ada.close()


def test_two_tabs_are_one_member(server: RunningServer) -> None:
    tab1 = ChatClient(server.url, "Ada", ["websocket"])
    tab2 = ChatClient(server.url, " ada ", ["websocket"])
    try:
        tab1.call("join", {"room": "tabs"})
        members = tab2.call("join", {"room": "tabs"})["members"]
        assert len(members) == 1 and members[0]["state"] == "online"
    finally:
        tab1.close()
        tab2.close()


def test_send_retry_with_same_cid_is_stored_once(server: RunningServer) -> None:
    ada = ChatClient(server.url, "Ada", ["websocket"])
    try:
        ada.call("join", {"room": "retry"})
        first = ada.send("retry", "only once", cid="cid-1")
        again = ada.send("retry", "only once", cid="cid-1")
        assert first["message"] == again["message"]
        history = ada.call("history", {"room": "retry"})
        assert [m["text"] for m in history["messages"]] == ["only once"]
        assert history["more"] is False
    finally:
        ada.close()


def test_rejoin_with_since_replays_what_was_missed(server: RunningServer) -> None:
    ada = ChatClient(server.url, "Ada", ["websocket"])
    bob = ChatClient(server.url, "Bob", ["websocket"])
    ada.call("join", {"room": "gap"})
    bob.call("join", {"room": "gap"})
    bob.send("gap", "seen")
    ada.wait_for(lambda: len(ada.messages("gap")) == 1)
    last_seen = ada.messages("gap")[-1]["offset"]
    ada.close()
    for i in range(5):
        bob.send("gap", f"missed {i}")
    ada = ChatClient(server.url, "Ada", ["websocket"])
    try:
        joined = ada.call("join", {"room": "gap", "since": last_seen})
        assert [m["text"] for m in joined["messages"]] == [f"missed {i}" for i in range(5)]
        assert [m["offset"] for m in joined["messages"]] == [2, 3, 4, 5, 6]
        assert joined["offset"] == 6
    finally:
        ada.close()
        bob.close()


def test_history_survives_a_restart(server: RunningServer) -> None:
    ada = ChatClient(server.url, "Ada", ["websocket"])
    ada.call("join", {"room": "durable"})
    acked = [ada.send("durable", f"m{i}")["message"] for i in range(20)]
    ada.close()
    server.restart()
    ada = ChatClient(server.url, "Ada", ["websocket"])
    try:
        joined = ada.call("join", {"room": "durable"})
        assert [m["id"] for m in joined["messages"]] == [m["id"] for m in acked]
        assert ada.send("durable", "after restart")["message"]["offset"] == 21
    finally:
        ada.close()


def test_history_pages_backwards(server: RunningServer) -> None:
    ada = ChatClient(server.url, "Ada", ["websocket"])
    try:
        ada.call("join", {"room": "pages"})
        for i in range(7):
            ada.send("pages", f"m{i}")
        page = ada.call("history", {"room": "pages", "limit": 3})
        assert [m["offset"] for m in page["messages"]] == [5, 6, 7] and page["more"]
        page = ada.call("history", {"room": "pages", "before": 2, "limit": 3})
        assert [m["offset"] for m in page["messages"]] == [1] and not page["more"]
    finally:
        ada.close()


@pytest.mark.parametrize(
    ("event", "payload", "code"),
    [
        ("join", {"room": "no spaces"}, "bad_request"),
        ("join", "not an object", "bad_request"),
        ("join", {"room": "x" * 65}, "bad_request"),
        ("join", {"room": "ok", "since": -1}, "bad_request"),
        ("send", {"room": "ok", "text": "x" * 4001, "cid": "a"}, "too_large"),
        ("send", {"room": "ok", "data": {"blob": "x" * 70_000}, "cid": "b"}, "too_large"),
        ("send", {"room": "ok", "text": 5, "cid": "c"}, "bad_request"),
        ("send", {"room": "ok"}, "bad_request"),
        ("send", {"room": "never-joined", "text": "hi", "cid": "d"}, "forbidden"),
        ("typing", {"room": "ok", "typing": "yes"}, "bad_request"),
        ("history", {"room": "ok", "limit": 10_000}, "bad_request"),
        ("state", {"state": "asleep"}, "bad_request"),
        ("no-such-event", {}, "bad_request"),
    ],
)
def test_bad_input_gets_a_clear_error_code(
    server: RunningServer, event: str, payload: object, code: str
) -> None:
    ada = ChatClient(server.url, "Ada", ["websocket"])
    try:
        ada.call("join", {"room": "ok"})
        answer = ada.call(event, payload)
        assert answer["ok"] is False
        assert answer["error"]["code"] == code
        assert answer["error"]["message"]
        assert ada.send("ok", "still fine")["ok"]  # the connection and server carry on
    finally:
        ada.close()


def test_flooding_is_rate_limited(server_factory: object) -> None:
    server = server_factory("--rate", "1", "--burst", "5")  # type: ignore[operator]
    ada = ChatClient(server.url, "Ada", ["websocket"])
    try:
        answers = [ada.call("typing", {"room": "ok", "typing": False}) for _ in range(8)]
        codes = [a["error"]["code"] for a in answers if not a["ok"]]
        assert "rate_limited" in codes
    finally:
        ada.close()


def test_connect_without_a_name_is_refused_with_a_code(server: RunningServer) -> None:
    client = socketio.Client(reconnection=False)
    errors: list[object] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth={}, transports=["websocket"], wait_timeout=5)
    assert errors and errors[0]["code"] == "bad_request"  # type: ignore[index]


def test_foreign_origin_is_refused_and_named(server: RunningServer) -> None:
    response = requests.get(
        server.url + "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "https://evil.example"},
        timeout=5,
    )
    assert response.status_code == 403
    assert "https://evil.example" in response.json()["message"]
    same = requests.get(
        server.url + "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": server.url},
        timeout=5,
    )
    assert same.status_code == 200


def test_allowed_origin_gets_cors_headers(server_factory: object) -> None:
    server = server_factory("--origins", "https://app.example")  # type: ignore[operator]
    response = requests.get(
        server.url + "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "https://app.example"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.example"
