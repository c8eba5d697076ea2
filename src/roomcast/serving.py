"""One server process: its listening socket, and uvicorn set up with Roomcast's protocols.

``roomcast serve`` runs this once; with ``--workers N`` each worker process runs it on a
socket of its own bound to the same port (see :mod:`roomcast.workers`).
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable

import uvicorn

from roomcast.app import SOCKET_PATH, RoomcastApp
from roomcast.config import Settings
from roomcast.core.errors import ConfigError
from roomcast.gc_tuning import tune_gc_for_connections
from roomcast.log_format import uvicorn_log_options
from roomcast.transport.cut_off import AnswerCutOff
from roomcast.transport.fast_upgrade import engine_http_protocol
from roomcast.transport.ws_protocol import FramedWebSocketProtocol

__all__ = ["bind", "run_server"]


class _Server(uvicorn.Server):
    """uvicorn's server, finishing Roomcast's events and telling its clients to reconnect.

    On SIGTERM it stops listening, lets the events being handled finish (their acks go
    out), closes every Engine.IO session (WebSocket close 1012, a pending long-poll gets
    an Engine.IO close), and then drains as uvicorn does: requests still running get what
    is left of ``--shutdown-grace``.
    """

    roomcast: RoomcastApp | None = None
    on_started: Callable[[], None] | None = None
    grace = 0.0

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            self.on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.roomcast is not None:
            for server in self.servers:
                server.close()  # no new connections while draining; uvicorn's close is then a no-op
            began = time.monotonic()
            await self.roomcast.drain(self.grace)
            left = self.grace - (time.monotonic() - began)
            self.config.timeout_graceful_shutdown = max(1, round(left))  # whole s, as uvicorn's
        await super().shutdown(sockets)


def bind(
    settings: Settings, *, port: int | None = None, reuse_port: bool = False, listen: bool = True
) -> socket.socket:
    """A socket bound to ``--host`` and ``port`` (default ``--port``), listening unless told.

    ``reuse_port`` lets several processes bind the same port (``SO_REUSEPORT``): the kernel
    then spreads new connections over the listening ones. A bound socket that does not
    listen keeps the port for them without taking connections.
    """
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    where = settings.port if port is None else port
    try:
        sock.bind((settings.host, where))
    except OSError as error:
        sock.close()
        raise ConfigError(
            f"cannot listen on {settings.host}:{where} ({error.strerror}); "
            "choose another --port or stop what is using it"
        ) from None
    if listen:
        sock.listen(2048)
    sock.setblocking(False)
    return sock


def run_server(
    settings: Settings,
    app: RoomcastApp,
    sock: socket.socket,
    *,
    on_started: Callable[[], None] | None = None,
) -> int:
    """Serve ``app`` on ``sock`` until SIGINT or SIGTERM; returns the process exit code.

    ``on_started`` is called once the app has started and the socket accepts connections.
    """
    config = uvicorn.Config(
        AnswerCutOff(app),
        log_level=settings.log_level,
        ws_max_size=settings.max_payload,
        ws_ping_interval=None,  # Engine.IO has its own heartbeat
        # A broadcast is framed once for every subscriber; per-connection compression
        # would redo it for each (socket.io turns it off by default too).
        ws_per_message_deflate=False,
        ws=FramedWebSocketProtocol,
        # New Engine.IO WebSocket sessions skip ASGI: less memory and time per connection.
        # It also bounds request heads in size and time (uvicorn has no such limits).
        http=engine_http_protocol({SOCKET_PATH: app.engine}, head_timeout=settings.header_timeout),
        timeout_graceful_shutdown=max(1, round(settings.shutdown_grace)),
        server_header=False,
        **uvicorn_log_options(settings.log_format),
        lifespan="on",
    )
    server = _Server(config)
    server.roomcast = app
    server.grace = settings.shutdown_grace
    server.on_started = on_started
    tune_gc_for_connections()
    # After its graceful shutdown uvicorn re-raises the signal that stopped it: Ctrl+C would
    # end in a KeyboardInterrupt traceback and SIGTERM in death by signal. Both end here.
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        # uvicorn's own runner: its loop factory picks uvloop, which also sets TCP_NODELAY
        # on every connection (plain asyncio does not, and Nagle then delays small frames).
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if server.started else 1
