"""The console's side of the wire against a real server: a facilitator sees every room."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import socketio
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient

from roomcast.console_auth import ConsoleAuth
from roomcast.links import link_secret


def console_ticket(data_dir: Path) -> str:
    """A ticket as the console page gets one after signing in."""
    auth = ConsoleAuth(data_dir, lambda: link_secret(data_dir))
    # The server's first start made a random password; the tests sign in with a known one.
    if auth.sign_in("a lab password") is None:
        auth.set_password("a lab password")
    return auth.ticket()


def connect_console(server: RunningServer, name: str = "Facilitator") -> ChatClient:
    return ChatClient(server.url, name, ["websocket"], console=console_ticket(server.data_dir))


def events_of(client: ChatClient, event: str, room: str) -> list[dict[str, Any]]:
    return [p for e, p in client.events if e == event and p["room"] == room]


def test_a_console_needs_a_valid_ticket(server: RunningServer) -> None:
    for ticket in ("forged.ticket", "", 42):
        refused = socketio.Client(reconnection=False)
        errors: list[dict[str, str]] = []
        refused.on("connect_error", errors.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            refused.connect(
                server.url, auth={"console": ticket}, transports=["websocket"], wait_timeout=10
            )
        assert errors[0]["code"] == "forbidden"
        assert "sign in to the console again" in errors[0]["message"]


def test_testers_cannot_use_the_console_events(server: RunningServer) -> None:
    tester = ChatClient(server.url, "P07", ["websocket"])
    try:
        tester.call("join", {"room": "study-P07"})
        for event, payload in [
            ("rooms", {}),
            ("timeline", {"room": "study-P07"}),
            ("note", {"room": "study-P07", "text": "sneaky"}),
            ("link", {"room": "study-P07", "name": "X", "base": server.url}),
            ("canned", {"replies": ["hi"]}),
        ]:
            answer = tester.call(event, payload)
            assert answer["error"]["code"] == "forbidden", event
        # A tester's send cannot pose as the system.
        sent = tester.call("send", {"room": "study-P07", "text": "hi", "as": "system"})
        assert sent["message"]["kind"] == "text" and sent["message"]["sender"]["name"] == "P07"
    finally:
        tester.close()


def test_the_facilitator_sees_every_room_and_answers_without_appearing(
    server: RunningServer,
) -> None:
    console = connect_console(server)
    tester = ChatClient(server.url, "P07", ["websocket"])
    try:
        joined = tester.call("join", {"room": "study-P07"})
        assert [m["name"] for m in joined["members"]] == ["P07"]
        console.wait_for(lambda: bool(events_of(console, "presence", "study-P07")))

        rooms = console.call("rooms", {})["rooms"]
        assert rooms[0]["room"] == "study-P07" and rooms[0]["unread"] == 0
        assert [m["name"] for m in rooms[0]["members"]] == ["P07"]

        tester.send("study-P07", "Where is the checkout?")
        console.wait_for(lambda: bool(events_of(console, "message", "study-P07")))
        assert console.call("rooms", {})["rooms"][0]["unread"] == 1

        reply = console.send("study-P07", "Top right, the cart icon.")
        assert reply["ok"] and reply["message"]["sender"]["name"] == "Facilitator"
        system = console.call(
            "send", {"room": "study-P07", "text": "Task 2 begins", "cid": "s1", "as": "system"}
        )
        assert system["message"]["kind"] == "system" and system["message"]["sender"] is None
        tester.wait_for(lambda: len(tester.messages("study-P07")) == 3)
        assert [m["text"] for m in tester.messages("study-P07")][1:] == [
            "Top right, the cart icon.",
            "Task 2 begins",
        ]

        assert console.call("typing", {"room": "study-P07", "typing": True, "name": "Assistant"})[
            "ok"
        ]
        tester.wait_for(lambda: any(e == "typing" for e, _ in tester.events))
        typing = next(p for e, p in tester.events if e == "typing")
        assert typing["member"]["name"] == "Assistant" and typing["typing"] is True

        note = console.call("note", {"room": "study-P07", "text": "P07 hesitates at the cart"})
        assert note["event"]["kind"] == "note"
        assert note["event"]["data"] == {"text": "P07 hesitates at the cart"}
        console.wait_for(
            lambda: any(p["kind"] == "note" for p in events_of(console, "timeline", "study-P07"))
        )

        console.call("read", {"room": "study-P07", "offset": 99})
        assert console.call("rooms", {})["rooms"][0]["unread"] == 0

        # The facilitator never appears among the room's members, and notes stay hidden.
        presence = events_of(tester, "presence", "study-P07")
        assert all([m["name"] for m in p["members"]] == ["P07"] for p in presence), presence
        assert not any(e == "timeline" for e, _ in tester.events)
    finally:
        tester.close()
        console.close()


def test_the_timeline_records_the_session(server: RunningServer) -> None:
    console = connect_console(server)
    tester = ChatClient(server.url, "P07", ["websocket"])
    try:
        tester.call("join", {"room": "study-P07"})
        assert tester.call("track", {"room": "study-P07", "step": "cart", "data": {"items": 2}})[
            "ok"
        ]
        tester.call("state", {"state": "away"})
        tester.send("study-P07", "back")
        console.call("note", {"room": "study-P07", "text": "marker"})
        bad = tester.call("track", {"room": "study-P07", "step": ""})
        assert bad["error"]["code"] == "bad_request"
        elsewhere = tester.call("track", {"room": "other", "step": "x"})
        assert elsewhere["error"]["code"] == "forbidden"
        tester.call("leave", {"room": "study-P07"})
        console.wait_for(
            lambda: any(p["kind"] == "leave" for p in events_of(console, "timeline", "study-P07"))
        )

        entries = console.call("timeline", {"room": "study-P07"})["entries"]
        kinds = [e["kind"] for e in entries]
        assert kinds == ["join", "step", "visibility", "text", "note", "leave"], entries
        step = entries[1]
        assert step["actor"]["name"] == "P07"
        assert step["data"] == {"step": "cart", "data": {"items": 2}}
        assert entries[2]["data"] == {"state": "away"}
        assert entries[3]["type"] == "message" and entries[3]["text"] == "back"
        assert [e["ts"] for e in entries] == sorted(e["ts"] for e in entries)
    finally:
        tester.close()
        console.close()


def test_links_and_canned_replies(server: RunningServer) -> None:
    console = connect_console(server)
    try:
        made = console.call(
            "link", {"room": "study-P08", "name": "P08", "expires": "2h", "base": server.url}
        )
        assert made["url"].startswith(f"{server.url}/r/study-P08?token=")
        assert made["qr"].startswith("data:image/svg+xml")
        token = parse_qs(urlparse(made["url"]).query)["token"][0]
        claims = base64.urlsafe_b64decode(token.split(".")[0] + "==")
        assert b'"name":"P08"' in claims
        tester = ChatClient(server.url, "ignored", ["websocket"], token=token)
        assert tester.call("join", {"room": "study-P08"})["me"]["name"] == "P08"
        tester.close()
        page = console.call(
            "link", {"room": "study-P08", "name": "P08", "base": server.url, "page": "/site/a.html"}
        )
        assert page["url"].startswith(f"{server.url}/site/a.html?token=")
        for bad in (
            {"room": "study-P08", "name": "P08", "base": server.url, "page": "//evil.example"},
            {"room": "study-P08", "name": "P08", "base": server.url, "page": "https://x.y/"},
            {"room": "study-P08", "name": "P08", "base": "javascript:alert(1)"},
            {"room": "bad room", "name": "P08", "base": server.url},
            {"room": "r", "name": "P08", "base": server.url, "expires": "soon"},
        ):
            assert console.call("link", bad)["error"]["code"] == "bad_request"

        defaults = console.call("canned", {})["replies"]
        assert "Please think aloud as you go." in defaults
        saved = console.call("canned", {"replies": ["Hello, P07!", "Thank you — ça va?"]})
        assert saved["replies"] == ["Hello, P07!", "Thank you — ça va?"]
        assert console.call("canned", {})["replies"] == saved["replies"]
        for bad_replies in ("nope", [""], [1], ["x"] * 101):
            answer = console.call("canned", {"replies": bad_replies})
            assert answer["error"]["code"] in {"bad_request", "too_large"}
        assert console.call("canned", {})["replies"] == saved["replies"]
    finally:
        console.close()
