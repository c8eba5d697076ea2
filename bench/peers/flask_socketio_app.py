"""The benchmark's room-broadcast app on Flask-SocketIO (a peer, not Roomcast).

The same two events as the other peers: ``join(room)`` (acked "ok") and
``bcast(room, payload)``, which emits ``m`` with the payload to the room. WebSocket comes
from simple-websocket in both modes, as Flask-SocketIO documents:

- ``threading``: Werkzeug's threaded development server, the one
  ``socketio.run(app, allow_unsafe_werkzeug=True)`` starts (``make_server(threaded=True)``,
  as ``run_simple`` does); four threads per connection (request, Engine.IO's writer and
  pinger, simple-websocket's reader).
- ``gevent``: gevent's ``pywsgi.WSGIServer``, as ``socketio.run(app)`` starts it in gevent
  mode when gevent-websocket is not installed; no monkey patching (none is needed).

Flask-SocketIO's defaults are kept, as the tutorials use them: with ``async_handlers``
on, each event runs in a thread (or greenlet) of its own, and in threading mode broadcasts
then overtake each other; the harness reports such runs as failed. Both servers are built here
rather than through ``socketio.run`` only so that port 0 can be announced; access logs are
off, as the uvicorn peers run at log level "warning". Runs in bench/.venv
(bench/requirements.lock), not in Roomcast's environment.

Usage: python flask_socketio_app.py PORT MODE  — MODE is threading or gevent; prints
"READY <port>" once listening on 127.0.0.1 (port 0: any free port).
"""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType
from typing import Any

from flask import Flask
from flask_socketio import SocketIO, join_room

HOST = "127.0.0.1"


def build(mode: str) -> tuple[Flask, SocketIO]:
    app = Flask(__name__)
    socketio = SocketIO(app, async_mode=mode, transports=["websocket"])

    @socketio.on("join")
    def join(room: str) -> str:
        join_room(room)
        return "ok"

    @socketio.on("bcast")
    def bcast(room: str, payload: Any) -> None:
        socketio.emit("m", payload, to=room)

    return app, socketio


def _ready(port: int) -> None:
    print("READY", port, flush=True)


def serve_threading(app: Flask, port: int) -> None:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server(HOST, port, app, threaded=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    _ready(server.server_port)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def serve_gevent(app: Flask, port: int) -> None:
    import gevent
    from gevent.pywsgi import WSGIServer

    server = WSGIServer((HOST, port), app, log=None)
    server.start()
    gevent.signal_handler(signal.SIGTERM, server.stop)
    _ready(server.server_port)
    server.serve_forever()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    mode = sys.argv[2] if len(sys.argv) > 2 else "threading"
    if mode not in ("threading", "gevent"):
        raise SystemExit(f"unknown mode {mode!r}: threading or gevent")
    app, _socketio = build(mode)
    (serve_gevent if mode == "gevent" else serve_threading)(app, port)


if __name__ == "__main__":
    main()
