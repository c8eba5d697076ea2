"""``--log-format json`` against a real server: every line JSON, every line of a request or a
connection carrying its id; the text format by default, as before."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
import socketio
from tests.conftest import RunningServer

ServerFactory = Callable[..., RunningServer]
_TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+: ")


def log_lines(server: RunningServer) -> list[str]:
    """The server's output after its banner (which is for people, on stdout)."""
    output = list(server.output)
    end = next(i for i, line in enumerate(output) if line.startswith("Press Ctrl+C"))
    return [line for line in output[end + 1 :] if line.strip()]


def json_lines(server: RunningServer) -> list[dict[str, Any]]:
    records = []
    for line in log_lines(server):
        record = json.loads(line)  # every line, not only those the test looks for
        assert isinstance(record, dict), line
        assert {"ts", "level", "logger", "message"} <= record.keys(), line
        records.append(record)
    return records


def wait_for_line(
    server: RunningServer, found: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for record in json_lines(server):
            if found(record):
                return record
        time.sleep(0.05)
    raise AssertionError(f"no log line {what} in:\n" + "".join(server.output))


def test_json_lines_carry_the_request_id_and_the_connection_id(
    server_factory: ServerFactory,
) -> None:
    server = server_factory("--log-format", "json", "--log-level", "info", "--signed-links-only")

    # An HTTP request (refused: reads need a key here): its id is made, echoed, and on
    # its access line.
    answer = requests.get(f"{server.url}/api/v1/rooms", timeout=10)
    assert answer.status_code == 401
    made = answer.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    access = wait_for_line(
        server, lambda r: r.get("path") == "/api/v1/rooms", "for GET /api/v1/rooms"
    )
    assert access["logger"] == "uvicorn.access"
    assert access["request_id"] == made
    assert access["status"] == 401 and access["method"] == "GET"

    # A sane incoming id is kept; a hostile one is replaced, in the header and the log.
    kept = requests.get(
        f"{server.url}/healthz", headers={"x-request-id": "trace-7f3a/1"}, timeout=10
    )
    assert kept.headers["x-request-id"] == "trace-7f3a/1"
    wait_for_line(server, lambda r: r.get("request_id") == "trace-7f3a/1", "with the kept id")
    hostile = requests.get(
        f"{server.url}/healthz", headers={"x-request-id": 'a" "b' + "x" * 300}, timeout=10
    )
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])

    # A refused Socket.IO connection (no signed link) over WebSocket, with no HTTP request
    # around it: its line carries the connection's Engine.IO session id.
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth={"name": "Ada"}, transports=["websocket"], wait_timeout=10)
    refused = wait_for_line(
        server, lambda r: "refused a connection" in r["message"], "for the refused connect"
    )
    assert refused["level"] == "info"
    assert re.fullmatch(r"[\w-]{20}", refused["connection"])
    assert "request_id" not in refused

    # Long-polling: a malformed Socket.IO packet, logged deep in the Socket.IO layer, carries
    # both the session id and the id of the HTTP request that brought it.
    base = f"{server.url}/socket.io/?EIO=4&transport=polling"
    opened = requests.get(base, timeout=10)
    sid = json.loads(opened.text[1:])["sid"]
    posted = requests.post(
        f"{base}&sid={sid}", data="4{not a packet", headers={"x-request-id": "bad-post"}, timeout=10
    )
    assert posted.status_code == 200
    closing = wait_for_line(
        server, lambda r: r["message"].startswith(f"closing session {sid}"), "for the bad packet"
    )
    assert closing["connection"] == sid
    assert closing["request_id"] == "bad-post"

    # Every line logged for a request has a request id, every roomcast line one id or both.
    for record in json_lines(server):
        if record["logger"] == "uvicorn.access":
            assert "request_id" in record, record
        elif record["logger"].startswith("roomcast.transport"):
            assert "request_id" in record or "connection" in record, record


def test_a_signed_link_token_never_reaches_the_log(server_factory: ServerFactory) -> None:
    server = server_factory("--log-format", "json", "--log-level", "info")
    requests.get(f"{server.url}/r/lobby?name=Ada&token=s3cr3t-t0ken", timeout=10)
    access = wait_for_line(server, lambda r: r.get("path", "").startswith("/r/lobby"), "for /r")
    assert access["path"] == "/r/lobby?name=Ada&token=[redacted]"
    assert "s3cr3t" not in "".join(server.output)


def test_text_is_the_default_and_looks_as_before(server_factory: ServerFactory) -> None:
    server = server_factory("--log-level", "info", "--signed-links-only")
    answer = requests.get(f"{server.url}/healthz", timeout=10)
    assert answer.headers["x-request-id"]  # the header is there in either format
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth={"name": "Ada"}, transports=["websocket"], wait_timeout=10)
    deadline = time.monotonic() + 15
    while not any("refused a connection" in line for line in server.output):
        assert time.monotonic() < deadline, "".join(server.output)
        time.sleep(0.05)
    lines = log_lines(server)
    assert not any(line.startswith("{") for line in lines)
    refused = next(line for line in lines if "refused a connection" in line)
    assert _TEXT_LINE.match(refused), refused
    # uvicorn's own look, and no access log, as before.
    assert any(line.startswith("INFO:     Started server process") for line in lines)
    assert not any("GET /healthz" in line for line in lines)
