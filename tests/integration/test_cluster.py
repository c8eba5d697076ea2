"""Several `roomcast serve` processes on one PostgreSQL and one Redis behave as one server.

Real processes on loopback: members on different processes chat, see the same presence and
typing, keep gapless offsets under concurrent sends, survive a `kill -9` of a process
(reconnecting elsewhere with their offset) and a Redis outage (catch-up from the store).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from tests.conftest import OwnRedis, RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.test_chat_js_client import NODE_MODULES, SCENARIOS
from tests.integration.test_console_events import connect_console, events_of
from tests.integration.test_http_api import roomcast_cli

from roomcast.client.publisher import Publisher

# Each test asks for the database before server_factory, so its servers stop (torn down
# first) before the schema is dropped: a server still writing would deadlock the DROP.
HEARTBEAT, TTL = 0.5, 2.0  # fast liveness for the tests: --heartbeat and --node-ttl


def eventually(check: Callable[[], bool], timeout: float = 15, what: str = "") -> float:
    """Wait for ``check()`` to hold; returns the seconds it took."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.05)
    return time.monotonic() - started


def cluster(factory: Any, count: int, *args: str) -> list[RunningServer]:
    liveness = ("--heartbeat", str(HEARTBEAT), "--node-ttl", str(TTL))
    return [factory(*args, *liveness) for _ in range(count)]


def members(client: ChatClient, room: str) -> list[tuple[str, str]]:
    """The room's members as a watching join on the client's process shows them."""
    ack = client.call("join", {"room": room, "watch": True})
    assert ack["ok"], ack
    return [(m["name"], m["state"]) for m in ack["members"]]


def last_presence(client: ChatClient, room: str) -> dict[str, str]:
    shown = [p for e, p in client.events if e == "presence" and p["room"] == room]
    return {m["name"]: m["state"] for m in shown[-1]["members"]} if shown else {}


def offsets(client: ChatClient, room: str) -> list[int]:
    return [m["offset"] for m in client.messages(room)]


def typing_shown(client: ChatClient, room: str) -> list[tuple[str, bool]]:
    shown = [p for e, p in client.events if e == "typing" and p["room"] == room]
    return [(p["member"]["name"], p["typing"]) for p in shown]


def history(server: RunningServer, room: str) -> list[dict[str, Any]]:
    url = f"{server.url}/api/v1/rooms/{room}/messages?since=0&limit=200"
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200, answer.text
    messages: list[dict[str, Any]] = answer.json()["messages"]
    return messages


def health(server: RunningServer) -> tuple[int, str]:
    answer = requests.get(f"{server.url}/healthz", timeout=10)
    return answer.status_code, answer.json()["bus"]


@pytest.mark.node
def test_js_and_python_clients_on_three_servers_chat_and_see_the_same_presence(
    migrated_dsn: str, redis_server: str, server_factory: object
) -> None:
    one, two, three = cluster(server_factory, 3, "--store", migrated_dsn, "--bus", redis_server)
    node = shutil.which("node")
    assert node, "Node.js is needed for this test"
    js = subprocess.Popen(
        [node, str(SCENARIOS), "mesh", one.url, "websocket"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, NODE_PATH=str(NODE_MODULES)),
    )
    clients: list[ChatClient] = []
    try:
        assert js.stdout is not None
        assert json.loads(js.stdout.readline()) == {"joined": True}
        ada = ChatClient(two.url, "Ada", ["websocket"])
        carl = ChatClient(three.url, "Carl", ["websocket"])
        clients += [ada, carl]
        assert ada.call("join", {"room": "mesh"})["ok"]
        assert carl.call("join", {"room": "mesh"})["ok"]
        watchers = [ChatClient(s.url, "Watcher", ["websocket"]) for s in (one, two, three)]
        clients += watchers
        everyone = [("Ada", "online"), ("Carl", "online"), ("Jo", "online")]
        took = eventually(
            lambda: all(members(w, "mesh") == everyone for w in watchers), what="same presence"
        )
        print(f"\npresence alike on 3 nodes after {took:.2f} s")
        ada.wait_for(lambda: last_presence(ada, "mesh") == dict(everyone))

        assert ada.call("typing", {"room": "mesh", "typing": True})["ok"]
        carl.wait_for(lambda: ("Ada", True) in typing_shown(carl, "mesh"))
        assert ada.send("mesh", "ping")["message"]["offset"] == 1
        for client in (ada, carl):
            client.wait_for(lambda c=client: offsets(c, "mesh") == [1, 2])
        result = json.loads(js.communicate(timeout=30)[0].strip().splitlines()[-1])
    finally:
        for client in clients:
            client.close()
        if js.poll() is None:
            js.kill()
            js.wait()
    assert "error" not in result, result
    assert result["joinMembers"] == ["Jo"]  # the first one in
    assert result["sentOffset"] == 2
    assert result["got"] == [[1, "ping", "Ada"], [2, "pong", "Jo"]]
    assert ["Ada", True] in result["typing"]  # typed on another process
    assert sorted(result["presence"]) == [list(m) for m in everyone]
    assert [m["text"] for m in carl.messages("mesh")] == ["ping", "pong"]


def test_twenty_concurrent_senders_on_three_servers_get_gapless_offsets(
    migrated_dsn: str, redis_server: str, server_factory: object
) -> None:
    servers = cluster(server_factory, 3, "--store", migrated_dsn, "--bus", redis_server)
    senders = [ChatClient(servers[i % 3].url, f"S{i}", ["websocket"]) for i in range(20)]
    per_sender = 5
    total = 20 * per_sender
    try:
        for sender in senders:
            assert sender.call("join", {"room": "busy"})["ok"]
        start = threading.Barrier(20)

        def send_all(sender: ChatClient) -> list[str]:
            start.wait()
            cids = [uuid.uuid4().hex for _ in range(per_sender)]
            for cid in cids:
                assert sender.send("busy", "hi", cid=cid)["ok"]
            return cids

        started = time.monotonic()
        with ThreadPoolExecutor(20) as pool:
            sent = [cid for cids in pool.map(send_all, senders) for cid in cids]
        took = time.monotonic() - started
        print(f"\n{total} sends from 20 clients on 3 nodes acked in {took:.2f} s")
        for sender in senders:
            sender.wait_for(lambda s=sender: len(offsets(s, "busy")) >= total)
            assert sorted(offsets(sender, "busy")) == list(range(1, total + 1))  # each once
        stored = history(servers[1], "busy")
        assert [m["offset"] for m in stored] == list(range(1, total + 1))
        assert sorted(m["cid"] for m in stored) == sorted(sent)
    finally:
        for sender in senders:
            sender.close()


def test_a_killed_server_s_members_go_offline_and_resume_elsewhere(
    migrated_dsn: str, redis_server: str, server_factory: object
) -> None:
    doomed, survivor = cluster(server_factory, 2, "--store", migrated_dsn, "--bus", redis_server)
    ada = ChatClient(doomed.url, "Ada", ["websocket"])
    bob = ChatClient(survivor.url, "Bob", ["websocket"])
    clients = [ada, bob]
    try:
        assert ada.call("join", {"room": "k"})["ok"] and bob.call("join", {"room": "k"})["ok"]
        bob.wait_for(lambda: last_presence(bob, "k").get("Ada") == "online")
        for i in range(2):
            ada.send("k", f"ada {i}")
            bob.send("k", f"bob {i}")
        ada.wait_for(lambda: sorted(offsets(ada, "k")) == [1, 2, 3, 4])
        last = max(offsets(ada, "k"))

        assert doomed.process is not None
        doomed.process.kill()  # SIGKILL: no goodbye on the bus
        doomed.process.wait(10)
        killed = time.monotonic()
        for i in range(3):
            bob.send("k", f"missed {i}")
        bob.wait_for(lambda: last_presence(bob, "k").get("Ada") == "offline", timeout=TTL + 10)
        offline_after = time.monotonic() - killed
        print(f"\nAda offline on the survivor {offline_after:.2f} s after kill -9 (TTL {TTL} s)")
        assert offline_after <= TTL + HEARTBEAT + 1.0

        again = ChatClient(survivor.url, "Ada", ["websocket"])
        clients.append(again)
        ack = again.call("join", {"room": "k", "since": last})
        assert [m["text"] for m in ack["messages"]] == ["missed 0", "missed 1", "missed 2"]
        assert [m["offset"] for m in ack["messages"]] == [5, 6, 7]
        bob.send("k", "welcome back")
        again.wait_for(lambda: offsets(again, "k") == [8])  # live, once
        bob.wait_for(lambda: last_presence(bob, "k").get("Ada") == "online")
        assert [m["offset"] for m in history(survivor, "k")] == list(range(1, 9))
    finally:
        for client in clients:
            client.close()


def test_a_redis_outage_keeps_local_delivery_and_catches_up_after(
    migrated_dsn: str, own_redis: OwnRedis, server_factory: object
) -> None:
    first, second = cluster(server_factory, 2, "--store", migrated_dsn, "--bus", own_redis.url)
    ada = ChatClient(first.url, "Ada", ["websocket"])
    cy = ChatClient(first.url, "Cy", ["websocket"])
    bob = ChatClient(second.url, "Bob", ["websocket"])
    everyone = (ada, cy, bob)
    try:
        for client in everyone:
            assert client.call("join", {"room": "out"})["ok"]
        ada.send("out", "before")
        for client in everyone:
            client.wait_for(lambda c=client: offsets(c, "out") == [1])

        own_redis.stop()
        down = time.monotonic()
        for server in (first, second):
            eventually(lambda s=server: health(s) == (503, "failing"), what="bus failing")
        print(f"\n/healthz 503 on both nodes {time.monotonic() - down:.2f} s after Redis stopped")
        for i in range(2):
            assert ada.send("out", f"ada during {i}")["ok"]  # stored: acked, not refused
            assert bob.send("out", f"bob during {i}")["ok"]
        cy.wait_for(lambda: len(offsets(cy, "out")) == 3)  # local delivery goes on
        bob.wait_for(lambda: len(offsets(bob, "out")) == 3)
        assert [m["text"] for m in cy.messages("out")][1:] == ["ada during 0", "ada during 1"]

        own_redis.start()  # same port
        up = time.monotonic()
        for client in everyone:
            client.wait_for(lambda c=client: len(offsets(c, "out")) >= 5, timeout=20)
        print(f"caught up on both nodes {time.monotonic() - up:.2f} s after Redis came back")
        for server in (first, second):
            eventually(lambda s=server: health(s) == (200, "ok"), what="bus ok")
        assert requests.get(f"{first.url}/healthz", timeout=10).json()["peers"] == 1
        bob.send("out", "after")
        for client in everyone:
            client.wait_for(lambda c=client: len(offsets(c, "out")) >= 6)
        time.sleep(HEARTBEAT * 3)  # a late repeat would show up here
        for client in everyone:
            assert sorted(offsets(client, "out")) == [1, 2, 3, 4, 5, 6]  # none lost, none twice
        assert [m["offset"] for m in history(first, "out")] == [1, 2, 3, 4, 5, 6]
        logs = "".join(first.output)
        assert "bus: lost Redis" in logs and "connected to Redis" in logs
        assert "stored, delivered here only" in logs  # the bus refused them: caught up
    finally:
        for client in everyone:
            client.close()


def test_a_console_on_one_server_sees_members_of_another_and_policies_spread(
    migrated_dsn: str, redis_server: str, server_factory: object
) -> None:
    one, two = cluster(server_factory, 2, "--store", migrated_dsn, "--bus", redis_server)
    console = connect_console(one)
    tester = ChatClient(two.url, "P07", ["websocket"])
    try:
        assert tester.call("join", {"room": "study"})["ok"]
        assert tester.call("typing", {"room": "study", "typing": True})["ok"]
        assert tester.call("track", {"room": "study", "step": "checkout"})["ok"]
        console.wait_for(lambda: ("P07", True) in typing_shown(console, "study"))
        console.wait_for(lambda: last_presence(console, "study").get("P07") == "online")
        console.wait_for(
            lambda: {"join", "step"} <= {e["kind"] for e in events_of(console, "timeline", "study")}
        )
        listed = {r["room"]: r for r in console.call("rooms", {})["rooms"]}
        assert [m["name"] for m in listed["study"]["members"]] == ["P07"]

        made = roomcast_cli(one, "key", "create", "cron", "--store", migrated_dsn)
        assert made.returncode == 0, made.stderr
        headers = {"Authorization": f"Bearer {made.stdout.strip()}"}
        changed = requests.put(
            f"{one.url}/api/v1/rooms/study",
            json={"client_posts": False},
            headers=headers,
            timeout=10,
        )
        assert changed.status_code == 200, changed.text
        # The other server follows the policy set through the first one.
        eventually(lambda: not tester.send("study", "hello?")["ok"], what="policy on two")
        assert tester.send("study", "hello?")["error"]["code"] == "forbidden"
    finally:
        console.close()
        tester.close()


def test_publishing_on_any_server_reaches_members_on_every_server(
    migrated_dsn: str, redis_server: str, server_factory: object
) -> None:
    servers = cluster(server_factory, 2, "--store", migrated_dsn, "--bus", redis_server)
    made = roomcast_cli(servers[0], "key", "create", "feeds", "--store", migrated_dsn)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    watchers = [ChatClient(server.url, f"W{i}", ["websocket"]) for i, server in enumerate(servers)]
    try:
        for watcher in watchers:
            assert watcher.call("join", {"room": "ticker", "watch": True})["ok"]
        with Publisher(servers[0].url, key) as publisher:
            publisher.publish("ticker", {"n": 1})
        answer = requests.post(
            f"{servers[1].url}/api/v1/rooms/ticker/messages",
            json={"data": {"n": 2}},
            headers={"authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        for watcher in watchers:
            watcher.wait_for(lambda w=watcher: len(w.messages("ticker")) == 2)
            assert [m["data"]["n"] for m in watcher.messages("ticker")] == [1, 2]
    finally:
        for watcher in watchers:
            watcher.close()
