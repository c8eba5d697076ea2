"""The whole Roomcast server (``create_app``, as ``roomcast serve`` builds it) on a fresh SQLite.

For the durable-send scenario: chat ``send`` events stored in SQLite and acked. The data
folder is a new temporary one per run and is removed afterwards. The per-connection rate
limit is lifted, since the load generator's senders are meant to go as fast as acks allow.

Usage: python roomcast_chat.py PORT [--store memory]  — prints "READY <port>" once listening.
``--store memory`` runs the same path without SQLite, to show what the store costs.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from serving import serve

from roomcast.app import SOCKET_PATH, create_app
from roomcast.config import load_settings
from roomcast.gc_tuning import tune_gc_for_connections
from roomcast.transport.fast_upgrade import engine_http_protocol
from roomcast.transport.ws_protocol import FramedWebSocketProtocol

if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="roomcast-bench-") as data_dir:
        settings = load_settings(
            {
                "data_dir": Path(data_dir),
                "rate": 1_000_000.0,
                "burst": 1_000_000,
                "store": "memory" if sys.argv[2:] == ["--store", "memory"] else "sqlite",
            },
            environ={},
        )
        app = create_app(settings)
        serve(
            app,
            lifespan="on",
            ws=FramedWebSocketProtocol,
            http=engine_http_protocol({SOCKET_PATH: app.engine}),
            ws_ping_interval=None,
            before_start=tune_gc_for_connections,
        )
