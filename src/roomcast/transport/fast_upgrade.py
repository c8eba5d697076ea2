"""Every connection's first protocol: new Engine.IO WebSockets straight to the engine.

uvicorn answers an upgrade by building its HTTP protocol object, parsing the request into
an ASGI scope, rebuilding the request's bytes, parsing them again in its WebSocket
protocol and calling the app through a chain of coroutines, all of which an idle
connection then keeps. This protocol reads a connection's first bytes itself, with
httptools as uvicorn does. When they hold the whole head of a new Engine.IO WebSocket
session under an engine's path, with a plainly valid handshake, it answers the handshake
and the Engine.IO open packet in one write and runs the session on a
:class:`~roomcast.transport.ws_connection.WebSocketConnection`, framed by the websockets
library. Anything else (pages, long-polling, upgrades from polling, refused, unusual,
malformed or split heads, bytes after the head) goes, with the bytes read so far, to
uvicorn's HTTP protocol (:class:`~roomcast.transport.http_guard.GuardedHttpProtocol`) and
the ASGI app, unchanged.

    uvicorn.Config(app, http=engine_http_protocol({"/socket.io/": engine}), ...)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any, ClassVar, cast

import httptools
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.protocol import OPEN
from websockets.server import ServerProtocol
from websockets.utils import accept_key

from roomcast.transport.engine_server import EngineServer
from roomcast.transport.http_guard import MAX_HEAD, GuardedHttpProtocol
from roomcast.transport.ws_connection import WebSocketConnection

__all__ = ["EngineHttpProtocol", "engine_http_protocol"]

# websockets' own per-connection logger lookups are skipped by passing one.
_WS_LOG = logging.getLogger("websockets.server")
_HTTP_LOG = logging.getLogger("uvicorn.error")  # where uvicorn's HTTP protocols log

_RESPONSE_HEAD = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: "
)


def _accept_value(method: str, version: str, headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """``Sec-WebSocket-Accept`` for a handshake that is valid by the strictest reading, else None.

    httptools has already seen an ``Upgrade`` header and ``Connection: upgrade``. Anything
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


class EngineHttpProtocol(asyncio.Protocol):
    """Serves new Engine.IO WebSocket sessions of :attr:`engines`; the rest to :attr:`fallback`."""

    __slots__ = (
        "_app_state",
        "_config",
        "_connections",
        "_head_timer",
        "_headers",
        "_loop",
        "_state",
        "_url",
        "transport",
    )

    #: (path prefix, engine) pairs; set by :func:`engine_http_protocol`.
    engines: ClassVar[tuple[tuple[bytes, EngineServer], ...]] = ()
    #: uvicorn's HTTP protocol, for every request this one does not serve.
    fallback: ClassVar[type[GuardedHttpProtocol]] = GuardedHttpProtocol

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """Called by uvicorn as it calls its own HTTP protocols."""
        self._config = config
        self._state = server_state
        self._connections: set[Any] = server_state.connections  # uvicorn's, for its shutdown
        self._app_state = app_state
        self._loop = _loop or asyncio.get_event_loop()
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._connections.add(self)  # until the first bytes
        self._head_timer = self._loop.call_later(self.fallback.head_timeout, self._hand_over, b"")

    def data_received(self, data: bytes) -> None:
        if not self._upgrade_to_engine(data):
            self._hand_over(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_timer.cancel()
        self._connections.discard(self)

    def eof_received(self) -> None:
        return None  # the transport closes itself

    def shutdown(self) -> None:
        """Called by uvicorn on server shutdown: nothing has been asked yet."""
        self.transport.close()

    # -- httptools' callbacks --------------------------------------------------------------

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))  # lower-case, as uvicorn's scope has them

    # --------------------------------------------------------------------------------------

    def _hand_over(self, received: bytes) -> None:
        """Leave the connection to uvicorn's protocol; past the head's deadline it answers 408."""
        self._head_timer.cancel()
        self._connections.discard(self)
        protocol = self.fallback(
            config=self._config,
            server_state=self._state,
            app_state=self._app_state,
            _loop=self._loop,
        )
        protocol.take_over(self.transport, received, self._head_timer.when())

    def _upgrade_to_engine(self, data: bytes) -> bool:
        """Answer the upgrade and start the session; False to leave it to uvicorn."""
        config = self._config
        if len(data) > MAX_HEAD or config.root_path or config.limit_concurrency is not None:
            return False  # uvicorn refuses, or decides
        parser = httptools.HttpRequestParser(self)
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            if upgrade.args[0] != len(data):
                return False  # bytes after the head: uvicorn's protocols know what to do
        except httptools.HttpParserError:
            return False  # uvicorn answers 400
        else:
            return False  # not an upgrade, or not all of the head yet
        url, headers = self._url, self._headers
        engine = next((engine for prefix, engine in self.engines if url.startswith(prefix)), None)
        if engine is None or not engine.takes_websocket(url.partition(b"?")[2], headers):
            return False
        accept = _accept_value(parser.get_method().decode(), parser.get_http_version(), headers)
        if accept is None:
            return False  # uvicorn's WebSocket protocol (the websockets library) answers it
        conn = ServerProtocol(state=OPEN, max_size=config.ws_max_size, logger=_WS_LOG)
        response = [_RESPONSE_HEAD, accept, b"\r\n"]
        for name, value in self._state.default_headers:
            response += [name, b": ", value, b"\r\n"]
        response.append(b"\r\n")
        self._head_timer.cancel()
        self._connections.discard(self)
        transport = self.transport
        peer = transport.get_extra_info("peername")
        remote = str(peer[0]) if isinstance(peer, tuple) else ""
        if _HTTP_LOG.isEnabledFor(logging.INFO):  # as uvicorn logs an accepted WebSocket
            where = f"{remote}:{peer[1]}" if remote else ""
            _HTTP_LOG.info('%s - "WebSocket %s" [accepted]', where, url.decode("latin-1"))
        connection = WebSocketConnection(transport, conn, self._connections)
        transport.set_protocol(connection)
        task = engine.open_websocket(connection, remote, b"".join(response))
        task.add_done_callback(self._state.tasks.discard)
        self._state.tasks.add(task)
        return True


def engine_http_protocol(
    routes: Mapping[str, EngineServer], *, head_timeout: float = 20.0
) -> type[EngineHttpProtocol]:
    """An :class:`EngineHttpProtocol` class for uvicorn's ``http`` setting.

    ``routes`` maps each path prefix the app sends to an engine (``"/socket.io/"``) to it;
    ``head_timeout`` is the seconds a request's head may take to arrive.
    """
    engines = tuple((prefix.encode("ascii"), engine) for prefix, engine in routes.items())
    fallback = type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"head_timeout": head_timeout})
    attributes = {"engines": engines, "fallback": fallback}
    return type("EngineHttpProtocol", (EngineHttpProtocol,), attributes)
