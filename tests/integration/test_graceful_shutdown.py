"""SIGTERM to ``roomcast serve``: it drains, tells clients to reconnect, and loses nothing.

On SIGTERM the server stops listening, closes every WebSocket with 1012 (service restart),
answers pending long-polls with an Engine.IO close, lets requests already running finish
(up to ``--shutdown-grace``), and exits with 0. Clients, the official socket.io-client
and Roomcast's own, reconnect by themselves to the restarted server and get what was
sent while they were away.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from typing import Any

import pytest
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.senders import Sent, check_history, retry, room_of, send_until_cut_off
from tests.integration.test_chat_js_client import NODE_MODULES, SCENARIOS

from roomcast import Client

SENDERS = 30
ROOMS = [room_of(i, 3) for i in range(3)]
UNLIMITED = ("--rate", "100000", "--burst", "100000")
SERVICE_RESTART = 1012


def make_key(server: RunningServer) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "roomcast", "key", "create", "drain", "--data-dir",
         str(server.data_dir)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return made.stdout.strip()


def start_publish(port: int, key: str, room: str, length: int) -> socket.socket:
    """An HTTP publish whose body has not been sent yet; returns once the app reads it.

    ``Expect: 100-continue`` makes the server say when the app starts reading the body:
    from then on the request is running and shutdown must wait for it.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        f"POST /api/v1/rooms/{room}/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nExpect: 100-continue\r\n\r\n".encode()
    )
    assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
    return sock


def finish_publish(sock: socket.socket, body: bytes) -> tuple[str, dict[str, Any]]:
    """Send the body; the status line and JSON of the answer (the server closes after it)."""
    sock.sendall(body)
    answer = b""
    while chunk := sock.recv(65536):
        answer += chunk
    sock.close()
    head, _, content = answer.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), json.loads(content)


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def stored_of(server: RunningServer, cids: list[str]) -> int:
    """How many of ``cids`` the stopped server's SQLite file holds."""
    path = server.data_dir / "roomcast.db"
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        marks = ",".join("?" * len(cids))
        query = f"SELECT count(*) FROM messages WHERE cid IN ({marks})"
        return int(db.execute(query, cids).fetchone()[0])


def restart_on_same_port(server: RunningServer) -> None:
    port = server.port
    server.stop()  # collects the output of the process that has exited
    server.url = ""
    server.start(port)


def test_sigterm_during_sends_drains_and_loses_no_acked_message(server_factory: Any) -> None:
    server: RunningServer = server_factory(*UNLIMITED, "--shutdown-grace", "60")
    assert server.process is not None
    key = make_key(server)
    body = json.dumps({"text": "published during the drain", "cid": "drain-publish"}).encode()
    publish = start_publish(server.port, key, ROOMS[0], len(body))
    sent = Sent()

    async def senders_then_sigterm() -> None:
        started = asyncio.Event()
        ready: list[int] = []
        tasks = [
            asyncio.create_task(
                send_until_cut_off(
                    server.url, i, room_of(i, len(ROOMS)), "t", sent, started, ready, SENDERS
                )
            )
            for i in range(SENDERS)
        ]
        async with asyncio.timeout(60):
            await started.wait()
        await asyncio.sleep(random.uniform(0.05, 0.5))
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            await asyncio.gather(*tasks)

    asyncio.run(senders_then_sigterm())
    assert sent.refused == []
    assert sent.acked, "the senders were cut off before any ack"
    # Every client was told to reconnect: a WebSocket close 1012, no Socket.IO disconnect
    # (socket.io-client would not reconnect after one).
    assert len(sent.closes) == SENDERS
    for code, reason, farewell in sent.closes:
        assert code == SERVICE_RESTART, (code, reason)
        assert all(packet == "1" for packet in farewell), farewell
    # Draining: the publish holds the process, which takes no new connections meanwhile.
    assert refused(server.port)
    assert server.process.poll() is None
    status, answer = finish_publish(publish, body)
    assert status == "HTTP/1.1 201 Created", answer
    assert server.process.wait(60) == 0
    # Sends being handled at SIGTERM were finished and acked; those after it were left
    # alone: none is stored without its sender having been told.
    assert stored_of(server, list(sent.unanswered)) == 0
    restart_on_same_port(server)
    asyncio.run(retry(server.url, sent))
    sent.acked["drain-publish"] = answer["message"]
    total = check_history(server.url, ROOMS, sent.acked)
    assert "Traceback" not in "".join(server.output)
    print(f"\nSIGTERM during {SENDERS} senders: {len(sent.acked)} acked, {total} stored")


def test_a_request_that_never_ends_does_not_hold_shutdown(server_factory: Any) -> None:
    server: RunningServer = server_factory("--shutdown-grace", "1")
    assert server.process is not None
    key = make_key(server)
    publish = start_publish(server.port, key, "stuck", 100)
    server.process.send_signal(signal.SIGTERM)
    # Deadline only: the grace is 1 s; the publish's body never comes.
    assert server.process.wait(30) == 0
    status, answer = finish_publish(publish, b"")  # cut off: not acked, so not stored
    assert status == "HTTP/1.1 503 Service Unavailable"
    assert answer["error"]["code"] == "unavailable"
    restart_on_same_port(server)
    assert check_history(server.url, ["stuck"], {}) == 0
    assert "Traceback" not in "".join(server.output)


def node_restart_scenario(url: str, transports: str) -> subprocess.Popen[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed for this test (make test installs the npm packages)"
    js = subprocess.Popen(
        [node, str(SCENARIOS), "restart", url, transports],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, NODE_PATH=str(NODE_MODULES)),
    )
    assert js.stdout is not None
    assert json.loads(js.stdout.readline()) == {"joined": True}
    return js


@pytest.mark.node
@pytest.mark.parametrize("transports", ["websocket", "polling"])
def test_clients_reconnect_to_the_restarted_server_and_get_what_they_missed(
    server_factory: Any, transports: str
) -> None:
    server: RunningServer = server_factory()
    assert server.process is not None
    js = node_restart_scenario(server.url, transports)
    ends: list[str] = []
    reconnected = threading.Event()
    ours = Client(server.url, "Ro", reconnect_delay=0.1, reconnect_delay_max=0.3, timeout=30)
    ours.on("disconnect", ends.append)
    ours.on("reconnect", lambda attempts: reconnected.set())
    sender = ChatClient(server.url, "Ada", ["websocket"])
    try:
        ours.connect()
        ours.join("drain")
        assert sender.call("join", {"room": "drain"})["ok"]
        for n in (1, 2):
            assert sender.send("drain", f"before {n}")["message"]["offset"] == n
        sender.close()  # python-socketio leaves its socket open if the server goes first
        port = server.port
        server.stop()  # SIGTERM, with both clients connected
        assert server.process.returncode == 0
        # Meanwhile another server on the same data takes messages: the clients missed them.
        other = RunningServer(server.data_dir, [])
        other.start()
        try:
            away = ChatClient(other.url, "Ada", ["websocket"])
            assert away.call("join", {"room": "drain"})["ok"]
            for n in (3, 4, 5):
                assert away.send("drain", f"away {n}")["message"]["offset"] == n
            away.close()
        finally:
            other.stop()
        assert other.process is not None and other.process.returncode == 0
        server.url = ""
        server.start(port)  # where the clients keep trying
        sender = ChatClient(server.url, "Ada", ["websocket"])
        assert sender.call("join", {"room": "drain"})["ok"]
        assert sender.send("drain", "after 6")["message"]["offset"] == 6
        assert js.stdin is not None
        js.stdin.write("6\n")
        js.stdin.flush()
        result = json.loads(js.communicate(timeout=100)[0].strip().splitlines()[-1])
        got = [ours.receive("drain", timeout=30)["offset"] for _ in range(6)]
        assert reconnected.wait(30)
    finally:
        sender.close()
        ours.close()
        if js.poll() is None:
            js.kill()
            js.wait()
    assert "error" not in result, result
    assert result["offsets"] == [1, 2, 3, 4, 5, 6]
    assert result["reconnections"] >= 1
    # Told to reconnect: the transport closed (1012 on WebSocket), no "io server disconnect".
    reasons = [end["reason"] for end in result["ends"] if "reason" in end]
    assert reasons and set(reasons) == {"transport close"}, result["ends"]
    if transports == "websocket":
        codes = {end["code"] for end in result["ends"] if "engine" in end}
        assert codes == {SERVICE_RESTART}, result["ends"]
    assert got == [1, 2, 3, 4, 5, 6]
    assert ends and "server disconnect" not in ends
