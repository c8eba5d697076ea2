"""How the benchmark's Python peers are served: uvicorn on uvloop, READY on stdout.

uvloop as ``uvicorn.run`` and ``roomcast serve`` use it (it also sets TCP_NODELAY);
the harness reads the ``READY <port>`` line to learn where the peer listens.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

import uvicorn
import uvloop


def bound_socket(port: int) -> socket.socket:
    """A loopback socket bound to ``port`` (0: any free port), for a peer to listen on."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


async def _serve(app: Any, port: int, options: dict[str, Any]) -> None:
    sock = bound_socket(port)
    config = uvicorn.Config(app, log_level="warning", ws_per_message_deflate=False, **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 -- uvicorn offers no start event
        await asyncio.sleep(0.01)
    print("READY", sock.getsockname()[1], flush=True)
    await task


def serve(app: Any, *, before_start: Any = None, **options: Any) -> None:
    """Serve ``app`` on the port given as the first argument (0: any free port).

    ``before_start`` runs just before serving (Roomcast's peers tune the GC there, as
    ``roomcast serve`` does).
    """
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if before_start is not None:
        before_start()
    uvloop.run(_serve(app, port, options))
