"""Shared fixtures: a real ``roomcast serve`` process on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
T = TypeVar("T")
_BANNER_URL = re.compile(r"Chat:\s+(http://\S+?)/\s*$")


class RunningServer:
    """A ``roomcast serve`` subprocess; ``url`` has no trailing slash."""

    def __init__(self, data_dir: Path, extra_args: list[str], command: str = "serve") -> None:
        self.data_dir = data_dir
        self.extra_args = extra_args
        self.command = command  # "serve", or "demo" with the demo's name in extra_args
        self.url = ""
        self.output: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self._drainer: threading.Thread | None = None

    def start(self, port: int = 0) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "roomcast",
                self.command,
                "--port",
                str(port),
                "--data-dir",
                str(self.data_dir),
                "--log-level",
                "warning",
                *self.extra_args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 30
        for line in self.process.stdout:
            self.output.append(line)
            match = _BANNER_URL.search(line)
            if match:
                self.url = match.group(1)
                break
            if time.monotonic() > deadline:
                break
        if not self.url:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.output))
        # Keep draining output so the pipe never fills up.
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        self._wait_healthy()

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def _wait_healthy(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is not None:
            self._close_output()
            return
        process.send_signal(sig)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        self._close_output()

    def _close_output(self) -> None:
        if self._drainer is not None:
            self._drainer.join(5)  # ends at end of output, once the process has exited
            self._drainer = None
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    @property
    def port(self) -> int:
        return int(self.url.rpartition(":")[2])

    def restart(self, *, same_port: bool = False) -> None:
        """Stop and start again on the same data dir (and port, for clients that come back)."""
        port = self.port if same_port else 0
        self.stop()
        self.url = ""
        self.start(port)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[object]:
    """Start servers with extra CLI arguments; all are stopped at teardown."""
    servers: list[RunningServer] = []

    def start(
        *extra_args: str, data_dir: Path | None = None, command: str = "serve"
    ) -> RunningServer:
        folder = data_dir or tmp_path / f"data{len(servers)}"
        server = RunningServer(folder, list(extra_args), command)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(server_factory: object) -> RunningServer:
    """One running server with an SQLite store in a temporary folder."""
    return server_factory()  # type: ignore[operator, no-any-return]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# PostgreSQL and Redis for the adapter tests. Missing services skip those tests with a
# message that says how to start them, except in CI (CI set), where a missing one fails.
POSTGRES_URL = os.environ.get("ROOMCAST_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ROOMCAST_TEST_REDIS", "redis://127.0.0.1:6379/0")
_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log",
}


def _service_missing(name: str, url: str, error: BaseException) -> None:
    variable = "ROOMCAST_TEST_POSTGRES" if name == "PostgreSQL" else "ROOMCAST_TEST_REDIS"
    message = (
        f"{name} is not reachable at {url} ({error}). Start it with:\n  {_START[name]}\n"
        f"or point {variable} at one."
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_apart(coro: Coroutine[object, object, T]) -> T:
    """Run ``coro`` to its end on a thread and loop of its own.

    Sync fixtures use it, so a test's own event loop (or an async fixture's, which may ask
    for them through ``request.getfixturevalue``) is never entered twice.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The base URL of a reachable PostgreSQL (skips or fails when there is none)."""
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(POSTGRES_URL, timeout=3)
        await conn.close()

    try:
        run_apart(probe())
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        _service_missing("PostgreSQL", POSTGRES_URL, error)
    return POSTGRES_URL


def with_search_path(url: str, schema: str) -> str:
    """``url`` with asyncpg's server setting ``search_path`` set to ``schema``."""
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


async def _postgres_execute(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def postgres_dsn(postgres_server: str) -> Iterator[str]:
    """A URL whose tables go to a fresh, empty schema of their own, dropped afterwards."""
    import uuid

    schema = f"roomcast_test_{uuid.uuid4().hex[:12]}"
    run_apart(_postgres_execute(postgres_server, f"CREATE SCHEMA {schema}"))
    try:
        yield with_search_path(postgres_server, schema)
    finally:
        run_apart(_postgres_execute(postgres_server, f"DROP SCHEMA {schema} CASCADE"))


@pytest.fixture
def migrated_dsn(postgres_dsn: str) -> str:
    """Like ``postgres_dsn``, with Roomcast's schema made by ``roomcast migrate``'s code."""
    from roomcast.adapters.store.postgres_schema import migrate

    run_apart(migrate(postgres_dsn))
    return postgres_dsn


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The URL of a reachable Redis (skips or fails when there is none)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=3) as sock:
            sock.sendall(b"PING\r\n")
            reply = sock.recv(64)
        if not reply.startswith(b"+PONG"):
            raise OSError(f"answered {reply!r} to PING")
    except OSError as error:
        _service_missing("Redis", REDIS_URL, error)
    return REDIS_URL


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A redis-server of this test's own on a loopback port, stopped by its PID."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, 15)
            self.process.wait(10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()
