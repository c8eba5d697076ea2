"""Readers that never read, in a room where large messages flow: bounded, dropped, harmless.

Each stuck reader may hold at most ``--send-buffer-bytes`` in the server before it is cut
off, so the server's memory grows by a bound computed from that setting, not by the
traffic; its sockets are closed (the descriptors go), its members go offline, and the
healthy members get every message in order. How much the stuck ones slow the healthy
ones is a timing: see the ``slow-clients`` scenario in bench/.
"""

from __future__ import annotations

import socket
import threading
import time

from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.test_hostile_input import open_stuck_reader
from tests.soak.procstat import fd_count, rss_kib

STUCK = 5
MESSAGES = 600
BLOB = "x" * 60_000  # each message about 60 KB: 36 MB in all, more than any bound here
BOUND = 1024 * 1024  # --send-buffer-bytes
# What else may grow while the messages flow: allocator pools, SQLite's page cache, the
# healthy members' socket buffers. Far below what the stuck readers hold unbounded: with
# --send-buffer-bytes out of reach the server grew by 60 MB (2026-12-05), by 1 MB with it.
SLACK_KIB = 16 * 1024


class RssSampler(threading.Thread):
    """The highest VmRSS of a process, sampled every 50 ms until stopped."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_kib(pid)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, rss_kib(self.pid))


def wait_closed(sock: socket.socket, deadline: float) -> bool:
    """Read what the server sent until it closes or resets the connection."""
    sock.settimeout(1)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1 << 20):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            continue
    return False


def send_all(sender: ChatClient, start: int, count: int) -> None:
    for i in range(start, start + count):
        answer = sender.call(
            "send", {"room": "busy", "data": {"i": i, "blob": BLOB}, "cid": f"c{i}"}
        )
        assert answer["ok"] is True, answer


def test_stuck_readers_are_bounded_dropped_and_do_not_cost_others(
    server_factory: object,
) -> None:
    # Recovery off: its buffer keeps every broadcast for a while whoever reads, which
    # would hide what the stuck readers hold. A join's page of 5 such messages stays under
    # the bound (50 would not: a stuck reader's join would already be over it).
    server: RunningServer = server_factory(  # type: ignore[operator]
        "--send-buffer-bytes", str(BOUND), "--recovery-window", "0", "--history-page", "5",
        "--rate", "1000", "--burst", "1000",
    )  # fmt: skip
    assert server.process is not None
    pid = server.process.pid
    ada = ChatClient(server.url, "Ada", ["websocket"])
    bob = ChatClient(server.url, "Bob", ["websocket"])
    stuck: list[socket.socket] = []
    try:
        for client in (ada, bob):
            assert client.call("join", {"room": "busy"})["ok"] is True
        warm_up = 60  # the allocator and SQLite settle before the baseline
        send_all(ada, 0, warm_up)
        bob.wait_for(lambda: len(bob.messages("busy")) == warm_up, 60)
        fds_before = fd_count(pid)
        rss_before = rss_kib(pid)
        sampler = RssSampler(pid)
        sampler.start()
        stuck = [open_stuck_reader(server, "busy") for _ in range(STUCK)]
        send_all(ada, warm_up, MESSAGES)
        total = warm_up + MESSAGES
        for client in (ada, bob):
            client.wait_for(lambda c=client: len(c.messages("busy")) == total, 60)  # type: ignore[misc]
        sampler.done.set()
        sampler.join()

        grown = sampler.peak - rss_before
        bound_kib = STUCK * 2 * BOUND // 1024 + SLACK_KIB  # the bound, and as much again
        print(f"RSS {rss_before} KiB -> peak {sampler.peak} KiB: +{grown} KiB, bound {bound_kib}")
        assert grown < bound_kib

        deadline = time.monotonic() + 30
        assert all(wait_closed(sock, deadline) for sock in stuck)
        members = ada.call("join", {"room": "busy"})["members"]
        # The five share a name, so they are one member: offline once all five are gone.
        assert [m["state"] for m in members if m["name"] == "Stuck"] == ["offline"]
        while fd_count(pid) > fds_before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fd_count(pid) == fds_before  # the stuck sockets are closed, not left hanging

        for client in (ada, bob):
            offsets = [m["offset"] for m in client.messages("busy")]
            assert offsets == sorted(offsets) and len(set(offsets)) == total
            assert [m["data"]["i"] for m in client.messages("busy")] == list(range(total))
    finally:
        for sock in stuck:
            sock.close()
        ada.close()
        bob.close()
