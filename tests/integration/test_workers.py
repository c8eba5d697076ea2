"""``roomcast serve --workers 2``: two processes on one port act as one server."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import urllib.request
from collections import Counter

import pytest
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient

_WORKERS = re.compile(r"Workers:\s+(\d+) processes share port \d+ \(pids ([\d, ]+)\)")


def worker_pids(server: RunningServer) -> list[int]:
    """The workers' pids, from the banner."""
    for line in server.output:
        if match := _WORKERS.search(line):
            return [int(pid) for pid in match.group(2).split(", ")]
    raise AssertionError("no Workers line in the banner:\n" + "".join(server.output))


def connections_by_worker(url: str, tries: int = 60) -> dict[int, int]:
    """``/healthz`` asked on fresh connections, which the kernel spreads over the workers."""
    seen: dict[int, int] = {}
    for _ in range(tries):
        with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
            report = json.load(response)
        seen[report["pid"]] = report["connections"]
    return seen


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def workers(server_factory: object, redis_server: str) -> RunningServer:
    return server_factory("--workers", "2", "--bus", redis_server)  # type: ignore[operator, no-any-return]


def test_one_room_spread_over_two_workers_is_one_room(workers: RunningServer) -> None:
    pids = worker_pids(workers)
    assert len(pids) == 2
    clients = [ChatClient(workers.url, f"m{i}", ["websocket"]) for i in range(16)]
    try:
        for client in clients:
            assert client.call("join", {"room": "spread"})["ok"]
        # Members sit on both workers (the kernel hashes each connection to one).
        spread = connections_by_worker(workers.url)
        assert set(spread) == set(pids)
        assert all(spread[pid] > 0 for pid in pids), spread
        assert sum(spread.values()) == len(clients)

        # Concurrent senders on both workers: every member gets offsets 1..N, each once.
        senders = clients[:8]
        per_sender = 10

        def send_all(client: ChatClient) -> None:
            for n in range(per_sender):
                assert client.send("spread", f"{client.sio.sid} {n}")["ok"]

        threads = [threading.Thread(target=send_all, args=(c,)) for c in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        total = len(senders) * per_sender
        for client in clients:
            client.wait_for(lambda c=client: len(c.messages("spread")) >= total, timeout=20)
            # Each offset once. Across workers they may arrive out of order (a worker
            # delivers its own at once, the other's after Redis): clients order by offset.
            offsets = [m["offset"] for m in client.messages("spread")]
            assert sorted(offsets) == list(range(1, total + 1)), offsets
        texts = Counter(m["text"].split()[0] for m in clients[-1].messages("spread"))
        assert len(texts) == len(senders) and set(texts.values()) == {per_sender}
    finally:
        for client in clients:
            client.close()


def test_sigterm_stops_the_parent_and_every_worker(workers: RunningServer) -> None:
    pids = worker_pids(workers)
    assert workers.process is not None
    workers.process.send_signal(signal.SIGTERM)
    assert workers.process.wait(30) == 0
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids), "a worker outlived its parent"


def test_a_killed_worker_is_started_again(workers: RunningServer) -> None:
    first, second = worker_pids(workers)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    pids: set[int] = set()
    while time.monotonic() < deadline:
        try:
            pids = set(connections_by_worker(workers.url, tries=10))
        except OSError:  # a connection queued at the killed worker is reset
            continue
        if len(pids) == 2 and first not in pids:
            break
        time.sleep(0.1)
    assert second in pids and first not in pids and len(pids) == 2, pids
    log = "".join(workers.output)
    assert f"worker 0 (pid {first}) ended with signal SIGKILL" in log
    assert "worker 0 is serving again" in log
    # The new worker serves the room like the old one did.
    clients = [ChatClient(workers.url, f"m{i}", ["websocket"]) for i in range(8)]
    try:
        for client in clients:
            client.call("join", {"room": "after"})
        assert clients[0].send("after", "still one room")["ok"]
        for client in clients:
            client.wait_for(lambda c=client: len(c.messages("after")) == 1)
    finally:
        for client in clients:
            client.close()
