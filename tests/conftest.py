"""Shared fixtures: a real ``roomcast serve`` process on a free loopback port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
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
