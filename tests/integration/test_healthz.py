"""``/healthz`` and the bus lag against real servers and real failures.

Redis is a redis-server of the test's own, killed or frozen by its PID; PostgreSQL is
reached through a TCP relay in the test, which can cut every connection or stall them
(a host that stops answering); SQLite's file is overwritten with zeros. Each time
``/healthz`` must answer 503 naming what fails, never hang, and say 200 again once the part
is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import OwnRedis, RunningServer

ServerFactory = Callable[..., RunningServer]
HEARTBEAT, TTL = 0.2, 2.0


def eventually(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    """Wait for ``check()``; prints how long it took (a figure for the docs, not a test)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    print(f"\n{what}: {time.monotonic() - started:.2f} s", end="")


def health(server: RunningServer) -> tuple[int, dict[str, Any]]:
    # The client's timeout is a deadline for a hung server, far above the server's own.
    answer = requests.get(f"{server.url}/healthz", timeout=15)
    report: dict[str, Any] = answer.json()
    assert answer.status_code == (200 if report["ok"] else 503)
    return answer.status_code, report


def shows(server: RunningServer, status: int, part: str, state: str) -> Callable[[], bool]:
    def check() -> bool:
        code, report = health(server)
        return code == status and report[part] == state

    return check


# -- Redis -------------------------------------------------------------------------------


def test_a_killed_redis_fails_healthz_until_it_is_back(
    own_redis: OwnRedis, server_factory: ServerFactory
) -> None:
    server = server_factory("--bus", own_redis.url, "--heartbeat", str(HEARTBEAT))
    assert health(server) == (200, health(server)[1])
    assert health(server)[1]["bus"] == "ok" and health(server)[1]["store"] == "ok"

    assert own_redis.process is not None
    os.kill(own_redis.process.pid, signal.SIGKILL)
    own_redis.process.wait(10)
    eventually(shows(server, 503, "bus", "failing"), "bus failing after Redis was killed")
    assert health(server)[1]["store"] == "ok"  # only the bus is named

    own_redis.start()  # the same port
    eventually(shows(server, 200, "bus", "ok"), "bus ok after Redis came back")


def test_a_frozen_redis_fails_healthz_until_it_answers_again(
    own_redis: OwnRedis, server_factory: ServerFactory
) -> None:
    # SIGSTOP: connections stay open and nothing answers, as with a hung or cut-off host.
    # The heartbeat's publish times out, so the bus is failing although no socket closed.
    server = server_factory("--bus", own_redis.url, "--heartbeat", str(HEARTBEAT))
    assert own_redis.process is not None
    pid = own_redis.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        eventually(shows(server, 503, "bus", "failing"), "bus failing while Redis is frozen")
    finally:
        os.kill(pid, signal.SIGCONT)
    eventually(shows(server, 200, "bus", "ok"), "bus ok after Redis thawed")


# -- bus lag -----------------------------------------------------------------------------


def lag_samples(server: RunningServer) -> dict[str, float]:
    text = requests.get(f"{server.url}/metrics", timeout=10).text
    return {
        sample.name + str(sample.labels.get("le", "")): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "roomcast_bus_lag_seconds"
        for sample in family.samples
    }


def test_bus_lag_is_measured_between_two_servers_on_one_redis(
    own_redis: OwnRedis, server_factory: ServerFactory
) -> None:
    liveness = ("--heartbeat", str(HEARTBEAT), "--node-ttl", str(TTL))
    alone = server_factory("--store", "memory")
    first = server_factory("--store", "memory", "--bus", own_redis.url, *liveness)
    assert lag_samples(alone)["roomcast_bus_lag_seconds_count"] == 0  # local bus: no peer
    second = server_factory("--store", "memory", "--bus", own_redis.url, *liveness)

    for server in (first, second):
        eventually(
            lambda s=server: lag_samples(s)["roomcast_bus_lag_seconds_count"] >= 5,
            "heartbeats of the other server",
        )
        samples = lag_samples(server)
        count = samples["roomcast_bus_lag_seconds_count"]
        assert samples["roomcast_bus_lag_seconds_bucket+Inf"] == count
        assert samples["roomcast_bus_lag_seconds_sum"] >= 0
        mean = samples["roomcast_bus_lag_seconds_sum"] / count
        print(f"\nbus lag: {count:.0f} heartbeats, mean {mean * 1000:.2f} ms")

    # The lag is of the other process's heartbeats: stopping it stops the count.
    second.stop()
    time.sleep(TTL)
    stopped = lag_samples(first)["roomcast_bus_lag_seconds_count"]
    time.sleep(HEARTBEAT * 5)
    assert lag_samples(first)["roomcast_bus_lag_seconds_count"] == stopped


# -- PostgreSQL --------------------------------------------------------------------------


class Relay:
    """A TCP relay to PostgreSQL on a thread of its own: ``forward``, ``cut`` or ``stall``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "forward"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()  # clear while stalled
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._flowing.set()
        server = self._loop.run_until_complete(asyncio.start_server(self._accepted, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        self._abort_all()
        for task in self._tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = self._loop.create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        mine = {writer}
        self._writers.add(writer)
        try:
            if self.mode == "cut":
                return
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            mine.add(up_writer)
            self._writers.add(up_writer)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except OSError:
            pass  # an end was cut
        finally:
            self._abort_all(only=mine)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            await self._flowing.wait()  # stalled: hold the bytes, the peer waits, nothing closes
            writer.write(data)
            await writer.drain()
        writer.transport.abort()

    def _abort_all(self, only: set[asyncio.StreamWriter] | None = None) -> None:
        for writer in tuple(self._writers if only is None else only):
            writer.transport.abort()
            self._writers.discard(writer)

    def set(self, mode: str) -> None:
        def apply() -> None:
            self.mode = mode
            if mode == "stall":
                self._flowing.clear()
            else:
                self._flowing.set()
            if mode == "cut":
                self._abort_all()

        self._loop.call_soon_threadsafe(apply)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def relay(migrated_dsn: str) -> Iterator[tuple[Relay, str]]:
    parts = urlsplit(migrated_dsn)
    relay = Relay((parts.hostname or "127.0.0.1", parts.port or 5432))
    relay.start()
    user = f"{parts.username}@" if parts.username else ""
    through = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{relay.port}"))
    try:
        yield relay, through
    finally:
        relay.set("forward")
        relay.stop()


def test_postgresql_cut_or_stalled_fails_healthz_without_hanging(
    relay: tuple[Relay, str], server_factory: ServerFactory
) -> None:
    proxy, dsn = relay
    server = server_factory("--store", dsn)
    assert health(server)[1]["store"] == "ok"

    proxy.set("cut")
    eventually(shows(server, 503, "store", "failing"), "store failing with PostgreSQL cut off")
    assert health(server)[1]["bus"] == "ok"
    proxy.set("forward")
    eventually(shows(server, 200, "store", "ok"), "store ok after the cut")

    # Stalled: the query waits for an answer that does not come. /healthz answers anyway.
    proxy.set("stall")
    eventually(shows(server, 503, "store", "failing"), "store failing with PostgreSQL stalled")
    asked = time.monotonic()
    assert health(server)[0] == 503
    print(f"\n/healthz answered 503 in {time.monotonic() - asked:.2f} s, stalled", end="")
    logs = "".join(server.output)
    assert "health check: the store did not answer within" in logs
    proxy.set("forward")
    eventually(shows(server, 200, "store", "ok"), "store ok after the stall")


# -- SQLite ------------------------------------------------------------------------------


def test_an_unreadable_sqlite_file_fails_healthz(server_factory: ServerFactory) -> None:
    server = server_factory()
    assert health(server)[1]["store"] == "ok"
    database = server.data_dir / "roomcast.db"
    with contextlib.closing(sqlite3.connect(database)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file
    size = database.stat().st_size
    with database.open("r+b") as file:
        file.write(b"\0" * size)  # what a failed disk or a stray `dd` leaves
    eventually(shows(server, 503, "store", "failing"), "store failing on a zeroed file")
    assert server.process is not None and server.process.poll() is None  # still serving
    assert requests.get(f"{server.url}/", timeout=10).status_code == 200
