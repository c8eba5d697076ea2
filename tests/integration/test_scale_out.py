"""Two `roomcast serve` processes on one PostgreSQL and one Redis act as one server."""

from __future__ import annotations

import json
import subprocess
import sys

import requests
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient


def test_two_servers_share_history_and_live_messages(
    migrated_dsn: str, redis_server: str, server_factory: object
) -> None:
    args = ("--store", migrated_dsn, "--bus", redis_server)
    first: RunningServer = server_factory(*args)  # type: ignore[operator]
    second: RunningServer = server_factory(*args)  # type: ignore[operator]
    ada = ChatClient(first.url, "Ada", ["websocket"])
    bob = ChatClient(second.url, "Bob", ["websocket"])
    try:
        assert ada.call("join", {"room": "sales"})["ok"]
        assert bob.call("join", {"room": "sales"})["ok"]

        assert bob.send("sales", "from the second")["message"]["offset"] == 1
        assert ada.send("sales", "from the first")["message"]["offset"] == 2
        for client in (ada, bob):
            client.wait_for(lambda c=client: [m["offset"] for m in c.messages("sales")] == [1, 2])
        assert [m["text"] for m in ada.messages("sales")] == ["from the second", "from the first"]

        history = requests.get(f"{first.url}/api/v1/rooms/sales/messages", timeout=5).json()
        assert [m["offset"] for m in history["messages"]] == [1, 2]
        health = requests.get(f"{second.url}/healthz", timeout=5).json()
        assert (health["ok"], health["store"], health["bus"]) == (True, "ok", "ok")
    finally:
        ada.close()
        bob.close()


def test_a_room_on_postgresql_exports_and_the_banner_names_the_store(
    migrated_dsn: str, redis_server: str, server_factory: object
) -> None:
    server: RunningServer = server_factory("--store", migrated_dsn, "--bus", redis_server)  # type: ignore[operator]
    assert any("PostgreSQL at postgresql://" in line for line in server.output)
    ada = ChatClient(server.url, "Ada", ["websocket"])
    try:
        ada.call("join", {"room": "sales"})
        ada.send("sales", "kept in PostgreSQL")
    finally:
        ada.close()
    done = subprocess.run(
        [sys.executable, "-m", "roomcast", "export", "sales", "--format", "json",
         "--store", migrated_dsn],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)["entries"]
    assert [(e["kind"], e["text"]) for e in entries][:2] == [
        ("join", ""),
        ("text", "kept in PostgreSQL"),
    ]
