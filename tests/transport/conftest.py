"""The conformance app served by a real uvicorn on a free loopback port."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn

from roomcast.testing.conformance_server import build_app, serving_options

from .wire import TIMEOUT, LiveServer


class _ErrorLog(logging.Handler):
    """Collects ERROR records: the server swallows exceptions into its log."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken = [self.format(record) for record in self.records]
        self.records.clear()
        return taken


_errors = _ErrorLog()
_WATCHED = ("uvicorn.error", "roomcast")


@pytest.fixture(scope="session", params=["fast-upgrade", "asgi"])
def live(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """The conformance app on uvicorn, in a thread of its own with its own event loop.

    Served twice: as ``roomcast serve`` does (new WebSocket sessions skip ASGI), and
    through ASGI alone, as any ASGI server would run it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    app = build_app()
    options = serving_options(app) if request.param == "fast-upgrade" else {}
    config = uvicorn.Config(
        app,
        **options,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ws_max_size=1_000_000,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + TIMEOUT
        while not server.started:
            assert thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield LiveServer(host, port)
    finally:
        server.should_exit = True
        thread.join(TIMEOUT + 5)
        sock.close()
    assert not thread.is_alive(), "uvicorn did not shut down"
    assert _errors.take() == []


@pytest.fixture(scope="session")
def _error_log() -> Iterator[_ErrorLog]:
    for name in _WATCHED:
        logging.getLogger(name).addHandler(_errors)
    yield _errors
    for name in _WATCHED:
        logging.getLogger(name).removeHandler(_errors)


@pytest.fixture(autouse=True)
def _no_server_errors(_error_log: _ErrorLog) -> Iterator[None]:
    """Fail a test during which a server logged an error (an exception it swallowed)."""
    _error_log.take()
    yield
    assert _error_log.take() == []


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        yield client
