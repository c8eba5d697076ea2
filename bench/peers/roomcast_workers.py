"""``roomcast serve --workers N`` as a benchmark peer: the whole server, N processes.

On a fresh SQLite folder and the Redis at ``ROOMCAST_BENCH_REDIS`` (default
redis://127.0.0.1:6379/0), with the per-connection rate limit lifted (one sender goes as
fast as the window allows). Prints ``READY <port>`` once every worker serves; SIGTERM
stops the server (its supervisor stops the workers).

Usage: python roomcast_workers.py WORKERS
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from types import FrameType

_CHAT = re.compile(r"Chat:\s+http://127\.0\.0\.1:(\d+)/")


def main() -> int:
    workers = sys.argv[1] if len(sys.argv) > 1 else "1"
    redis = os.environ.get("ROOMCAST_BENCH_REDIS", "redis://127.0.0.1:6379/0")
    with tempfile.TemporaryDirectory(prefix="roomcast-bench-") as data_dir:
        server = subprocess.Popen(
            [sys.executable, "-m", "roomcast", "serve", "--port", "0", "--workers", workers,
             "--bus", redis, "--data-dir", data_dir, "--rate", "1000000", "--burst", "1000000",
             "--send-buffer", "10000", "--log-level", "warning"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip

        def stop(signum: int, frame: FrameType | None) -> None:
            server.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        assert server.stdout is not None
        for line in server.stdout:
            if match := _CHAT.search(line):
                print("READY", match.group(1), flush=True)
                break
        for _line in server.stdout:  # keep the pipe drained until the server ends
            pass
        return server.wait()


if __name__ == "__main__":
    sys.exit(main())
