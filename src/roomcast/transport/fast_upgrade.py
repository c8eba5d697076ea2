"""uvicorn's HTTP protocol, handing Engine.IO WebSocket upgrades straight to the engine.

uvicorn answers an upgrade by rebuilding the request's bytes, parsing them again in its
WebSocket protocol, building an ASGI scope and calling the app through a chain of
coroutines, all of which an idle connection then keeps. For a new Engine.IO WebSocket
session under an engine's path, with a plainly valid handshake (checked on the headers
httptools has parsed), this protocol instead answers the handshake and the Engine.IO open
packet in one write and runs the session on a
:class:`~roomcast.transport.ws_connection.WebSocketConnection`, framed by the websockets
library. Everything else (pages, long-polling, upgrades from polling, refused, unusual
or malformed handshakes) takes uvicorn's usual path and the ASGI app, unchanged.

    uvicorn.Config(app, http=engine_http_protocol({"/socket.io/": engine}), ...)
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import ClassVar

from websockets.protocol import OPEN
from websockets.server import ServerProtocol
from websockets.utils import accept_key

from roomcast.transport.engine_server import EngineServer
from roomcast.transport.http_guard import GuardedHttpProtocol
from roomcast.transport.ws_connection import WebSocketConnection

__all__ = ["EngineHttpProtocol", "engine_http_protocol"]

# websockets' own per-connection logger lookups are skipped by passing one.
_WS_LOG = logging.getLogger("websockets.server")

_RESPONSE_HEAD = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: "
)


def _accept_value(method: str, version: str, headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """``Sec-WebSocket-Accept`` for a handshake that is valid by the strictest reading, else None.

    uvicorn has already seen ``Upgrade: websocket`` and ``Connection: upgrade``. Anything
    unusual (a repeated header, another version, a malformed key) returns None, and
    websockets' own checks, behind uvicorn's WebSocket protocol, then decide and answer.
    The full check there (``ServerProtocol.process_request``) costs 20 us per connection;
    this one about 1.
    """
    if method != "GET" or version != "1.1":
        return None
    key = version_value = upgrade = None
    for name, value in headers:
        if name == b"sec-websocket-key":
            if key is not None:
                return None
            key = value
        elif name == b"sec-websocket-version":
            if version_value is not None:
                return None
            version_value = value
        elif name == b"upgrade":
            if upgrade is not None:
                return None
            upgrade = value
    if key is None or version_value != b"13" or upgrade is None:
        return None
    if upgrade.lower() != b"websocket":
        return None
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except binascii.Error:
        return None
    return accept_key(key.decode("ascii")).encode("ascii")


class EngineHttpProtocol(GuardedHttpProtocol):
    """Serves new Engine.IO WebSocket sessions of :attr:`engines` without ASGI."""

    #: (path prefix, engine) pairs; set by :func:`engine_http_protocol`.
    engines: ClassVar[tuple[tuple[bytes, EngineServer], ...]] = ()

    def handle_websocket_upgrade(self) -> None:
        if not self._upgrade_to_engine():
            super().handle_websocket_upgrade()

    def _upgrade_to_engine(self) -> bool:
        """Answer the upgrade and start the session; False to leave it to uvicorn."""
        url: bytes = self.url
        engine = next((engine for prefix, engine in self.engines if url.startswith(prefix)), None)
        headers = self.headers  # the list httptools filled, the scope's too
        if engine is None or self.root_path:
            return False
        if not engine.takes_websocket(url.partition(b"?")[2], headers):
            return False
        accept = _accept_value(self.scope["method"], self.scope["http_version"], headers)
        if accept is None:
            return False  # uvicorn's WebSocket protocol (the websockets library) answers it
        conn = ServerProtocol(state=OPEN, max_size=self.config.ws_max_size, logger=_WS_LOG)
        response = [_RESPONSE_HEAD, accept, b"\r\n"]
        for name, value in self.server_state.default_headers:
            response += [name, b": ", value, b"\r\n"]
        response.append(b"\r\n")
        client = self.client
        if self.logger.isEnabledFor(logging.INFO):  # as uvicorn logs an accepted WebSocket
            where = f"{client[0]}:{client[1]}" if client else ""
            self.logger.info('%s - "WebSocket %s" [accepted]', where, url.decode("latin-1"))
        self.connections.discard(self)
        connection = WebSocketConnection(self.transport, conn, self.connections)
        self.transport.set_protocol(connection)
        remote = client[0] if client else ""
        task = engine.open_websocket(connection, remote, b"".join(response))
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)
        # The parser refers back to this protocol: breaking the cycle frees both now,
        # not at the next garbage collection.
        self.parser = None  # type: ignore[assignment]
        return True


def engine_http_protocol(
    routes: Mapping[str, EngineServer], *, head_timeout: float = 20.0
) -> type[EngineHttpProtocol]:
    """An :class:`EngineHttpProtocol` class for uvicorn's ``http`` setting.

    ``routes`` maps each path prefix the app sends to an engine (``"/socket.io/"``) to it;
    ``head_timeout`` is the seconds a request's head may take to arrive.
    """
    engines = tuple((prefix.encode("ascii"), engine) for prefix, engine in routes.items())
    attributes = {"engines": engines, "head_timeout": head_timeout}
    return type("EngineHttpProtocol", (EngineHttpProtocol,), attributes)
