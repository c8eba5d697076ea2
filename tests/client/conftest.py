"""Fixtures for the client tests: a proxy in front of the server, to cut connections."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from tests.conftest import RunningServer

from .proxy import Proxy

#: Generous upper bound for anything a test waits for; never a measured duration.
TIMEOUT = 20.0


@pytest.fixture
def proxy_to() -> Iterator[Callable[[RunningServer], Proxy]]:
    """Make TCP proxies to servers; all are closed at teardown."""
    proxies: list[Proxy] = []

    def make(server: RunningServer) -> Proxy:
        proxies.append(Proxy(server.port))
        return proxies[-1]

    yield make
    for proxy in proxies:
        proxy.close()


@pytest.fixture
def proxy(server: RunningServer, proxy_to: Callable[[RunningServer], Proxy]) -> Proxy:
    """A TCP proxy to ``server``: connect to ``proxy.url`` to have a connection to cut."""
    return proxy_to(server)


@pytest.fixture(autouse=True)
def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test during which the client (or asyncio, for a task that failed unseen)
    logged an error: the client swallows exceptions at its task boundaries into its log."""
    yield
    errors = [
        record.getMessage()
        for record in caplog.get_records("call")
        if record.levelno >= logging.ERROR and record.name.split(".")[0] in ("roomcast", "asyncio")
    ]
    assert errors == []
