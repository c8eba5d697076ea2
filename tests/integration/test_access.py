"""Who may reach what, against real servers: every door of a room that only signed links
open, the API's keys, the console without a session, and origins outside ``--origins``.

tests/integration/test_signed_links.py, test_console_auth.py and test_console_events.py
hold the happy paths and the first refusals; this file goes through the other ways in.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
import websockets.sync.client
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.test_http_api import make_key, roomcast_cli
from tests.integration.test_signed_links import make_link, refusal, token_of

ServerFactory = Callable[..., RunningServer]
ROOM, OTHER = "study-P07", "study-P08"


def publish(server: RunningServer, key: str, room: str, text: str) -> None:
    answer = httpx.post(
        f"{server.url}/api/v1/rooms/{room}/messages",
        json={"text": text},
        headers={"authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text


@pytest.fixture
def closed_server(server_factory: ServerFactory) -> tuple[RunningServer, str]:
    """A --signed-links-only server with a message in each of two rooms, and an API key."""
    server = server_factory("--signed-links-only")
    key = make_key(server)
    publish(server, key, ROOM, "in P07")
    publish(server, key, OTHER, "secret of P08")
    return server, key


def error_code(answer: dict[str, Any]) -> str:
    assert answer["ok"] is False, answer
    code: str = answer["error"]["code"]
    return code


# -- Socket.IO: signed links only --------------------------------------------------------


def test_without_a_valid_token_nobody_connects(
    closed_server: tuple[RunningServer, str], tmp_path: Path
) -> None:
    server, _ = closed_server
    token = token_of(make_link(server, "--room", ROOM, "--name", "P07"))
    body, signature = token.split(".")
    elsewhere = str(tmp_path / "elsewhere")  # the last --data-dir wins: another secret
    foreign = token_of(make_link(server, "--room", ROOM, "--name", "P07", "--data-dir", elsewhere))
    expired = token_of(make_link(server, "--room", ROOM, "--name", "P07", "--expires", "1ms"))
    for auth in (
        {},  # no auth at all
        {"name": "P07"},
        {"token": ""},
        {"token": 42},
        {"token": None, "name": "P07"},
        {"token": body + "." + signature[::-1]},  # tampered signature
        {"token": body[:-2] + "." + signature},  # tampered claims
        {"token": foreign},  # signed by another server's secret
        {"token": expired},
        {"console": "forged.ticket", "name": "P07"},
        {"pid": "made-up", "offset": "x", "name": "P07"},  # a recovery no one saved
    ):
        refusal(server, auth)  # connect_error with code forbidden, for each


def test_a_token_for_one_room_opens_no_other_room_in_any_way(
    closed_server: tuple[RunningServer, str],
) -> None:
    server, _ = closed_server
    token = token_of(make_link(server, "--room", ROOM, "--name", "P07"))
    tester = ChatClient(server.url, "ignored", ["websocket"], token=token)
    try:
        joined = tester.call("join", {"room": ROOM})
        assert [m["text"] for m in joined["messages"]] == ["in P07"]
        assert tester.call("history", {"room": ROOM})["ok"] is True
        for event, payload in (
            ("join", {"room": OTHER}),
            ("join", {"room": OTHER, "watch": True}),
            ("join", {"room": OTHER, "since": 0}),
            ("history", {"room": OTHER}),
            ("history", {"room": OTHER, "before": 10, "limit": 200}),
            ("send", {"room": OTHER, "text": "hi", "cid": uuid.uuid4().hex}),
            ("typing", {"room": OTHER, "typing": True}),
            ("read", {"room": OTHER, "offset": 1}),
            ("rooms", {}),  # the console's events
            ("timeline", {"room": OTHER}),
            ("link", {"room": OTHER, "name": "X"}),
        ):
            answer = tester.call(event, payload)
            assert error_code(answer) == "forbidden", (event, payload, answer)
        seen = json.dumps(tester.events)
        assert "secret of P08" not in seen
    finally:
        tester.close()


def test_the_check_page_connection_reaches_no_room(
    closed_server: tuple[RunningServer, str],
) -> None:
    server, _ = closed_server
    client = socketio.Client(reconnection=False)
    client.connect(server.url, auth={"check": True}, transports=["websocket"], wait_timeout=10)
    try:
        assert client.call("echo", {"n": 1}, timeout=10)["ok"] is True
        for event, payload in (("join", {"room": OTHER}), ("history", {"room": OTHER})):
            answer = client.call(event, payload, timeout=10)
            assert answer["ok"] is False and "secret" not in json.dumps(answer)
    finally:
        client.disconnect()


# -- HTTP API ----------------------------------------------------------------------------


def test_http_reads_and_writes_of_signed_link_rooms_need_a_key(
    closed_server: tuple[RunningServer, str],
) -> None:
    server, key = closed_server
    api = f"{server.url}/api/v1"
    reads = [
        f"{api}/rooms",
        f"{api}/rooms/{OTHER}",
        f"{api}/rooms/{OTHER}/messages?since=0",
        f"{api}/rooms/{OTHER}/transcript?format=json",
    ]
    for bearer in (None, "Bearer", "Bearer rc_not-a-key", f"Basic {key}"):
        headers = {} if bearer is None else {"authorization": bearer}
        for url in reads:
            answer = httpx.get(url, headers=headers, timeout=10)
            assert answer.status_code == 401, (url, bearer, answer.text)
            assert answer.json()["error"]["code"] == "unauthorized"
            assert "secret of P08" not in answer.text
        posted = httpx.post(
            f"{api}/rooms/{OTHER}/messages", json={"text": "x"}, headers=headers, timeout=10
        )
        put = httpx.put(f"{api}/rooms/{OTHER}", json={"keep_last": 5}, headers=headers, timeout=10)
        assert (posted.status_code, put.status_code) == (401, 401)
    with_key = {"authorization": f"Bearer {key}"}
    for url in reads:
        assert httpx.get(url, headers=with_key, timeout=10).status_code == 200, url
    answer = httpx.get(f"{api}/rooms/{OTHER}/messages?since=0", headers=with_key, timeout=10)
    assert [m["text"] for m in answer.json()["messages"]] == ["secret of P08"]


def test_http_reads_of_open_rooms_stay_open(server: RunningServer) -> None:
    key = make_key(server)
    publish(server, key, "lobby", "hello")
    answer = httpx.get(f"{server.url}/api/v1/rooms/lobby/messages?since=0", timeout=10)
    assert answer.status_code == 200 and answer.json()["messages"][0]["text"] == "hello"


def test_api_keys_are_stored_as_digests_only_and_revoked_keys_stop(server: RunningServer) -> None:
    key = make_key(server, "cron")
    publish(server, key, "lobby", "with the key")
    with closing(sqlite3.connect(server.data_dir / "roomcast.db")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.execute("SELECT * FROM api_keys").fetchall()
    assert len(rows) == 1
    stored = json.dumps(rows)
    assert key not in stored and key[3:] not in stored  # not even without its prefix
    assert hashlib.sha256(key.encode()).hexdigest() in stored
    for path in server.data_dir.rglob("*"):  # nor anywhere else on disk
        if path.is_file():
            assert key[3:].encode() not in path.read_bytes(), path
    revoked = roomcast_cli(server, "key", "revoke", "cron", "--data-dir", str(server.data_dir))
    assert revoked.returncode == 0, revoked.stderr
    answer = httpx.post(
        f"{server.url}/api/v1/rooms/lobby/messages",
        json={"text": "after revoke"},
        headers={"authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert answer.status_code == 401


# -- the console without a session -------------------------------------------------------


def test_every_console_door_is_shut_without_a_session(server: RunningServer) -> None:
    same = {"origin": server.url}
    page = httpx.get(f"{server.url}/console", timeout=10)
    assert page.status_code == 200 and 'type="password"' in page.text
    assert "console.js" not in page.text  # the sign-in page, not the console's script
    forged = {"cookie": "roomcast_console=forged.session", **same}
    for headers in (same, forged):
        ticket = httpx.post(f"{server.url}/console/ticket", headers=headers, timeout=10)
        assert ticket.status_code == 401
        export = httpx.get(f"{server.url}/console/export/lobby", headers=headers, timeout=10)
        assert export.status_code == 401
    member = ChatClient(server.url, "Ada", ["websocket"])
    try:
        for event in ("rooms", "timeline", "note", "canned", "link"):
            assert error_code(member.call(event, {"room": "lobby"})) == "forbidden", event
    finally:
        member.close()


# -- origins -----------------------------------------------------------------------------

GOOD, EVIL = "https://app.example.com", "https://evil.example.com"


def polling(server: RunningServer, origin: str | None, sid: str | None = None) -> str:
    query = "EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
    return f"{server.url}/socket.io/?{query}"


def headers_for(origin: str | None) -> dict[str, str]:
    return {} if origin is None else {"origin": origin}


def open_polling(server: RunningServer, origin: str | None) -> httpx.Response:
    return httpx.get(polling(server, origin), headers=headers_for(origin), timeout=10)


def websocket(server: RunningServer, origin: str | None, sid: str | None = None) -> str:
    """``open``, or how the server refused: ``http 403`` or ``close 1008``."""
    query = "EIO=4&transport=websocket" + (f"&sid={sid}" if sid else "")
    url = server.url.replace("http://", "ws://") + f"/socket.io/?{query}"
    try:
        with websockets.sync.client.connect(
            url, additional_headers=headers_for(origin), open_timeout=10
        ) as ws:
            if sid is None:
                return "open" if str(ws.recv(timeout=10)).startswith("0{") else "no open packet"
            ws.send("2probe")
            return "open" if ws.recv(timeout=10) == "3probe" else "no probe"
    except websockets.exceptions.InvalidStatus as refused:
        return f"http {refused.response.status_code}"
    except websockets.exceptions.ConnectionClosed as closed:
        return f"close {closed.rcvd.code if closed.rcvd else None}"


def test_origins_outside_the_list_are_refused_on_every_transport(
    server_factory: ServerFactory,
) -> None:
    server = server_factory("--origins", GOOD)
    own = server.url  # same-origin: the server's own pages

    for origin in (GOOD, own, None):
        answer = open_polling(server, origin)
        assert answer.status_code == 200 and answer.text.startswith("0{"), origin
        assert websocket(server, origin) == "open", origin
    for origin in (EVIL, "null", own.replace("127.0.0.1", "localhost"), GOOD + ".evil.io"):
        answer = open_polling(server, origin)
        assert answer.status_code == 403, origin
        assert answer.json()["code"] == "forbidden"
        assert "access-control-allow-origin" not in answer.headers
        assert websocket(server, origin) in ("http 403", "close 1008"), origin

    # A session opened by an allowed page: requests on it from another origin are refused
    # too (a stolen sid gets nothing), and the session goes on for its own page.
    sid = json.loads(open_polling(server, GOOD).text[1:])["sid"]
    evil = headers_for(EVIL)
    assert httpx.get(polling(server, EVIL, sid), headers=evil, timeout=10).status_code == 403
    connect = '40{"name":"Ada"}'
    posted = httpx.post(polling(server, EVIL, sid), content=connect, headers=evil, timeout=10)
    assert posted.status_code == 403
    assert websocket(server, EVIL, sid) in ("http 403", "close 1008")
    preflight = httpx.options(polling(server, EVIL, sid), headers=evil, timeout=10)
    assert "access-control-allow-origin" not in preflight.headers
    good = headers_for(GOOD)
    assert httpx.post(
        polling(server, GOOD, sid), content=connect, headers=good, timeout=10
    ).text == ("ok")
    answer = httpx.get(polling(server, GOOD, sid), headers=good, timeout=10)
    assert answer.status_code == 200 and answer.text.startswith("40")
    assert answer.headers["access-control-allow-origin"] == GOOD
