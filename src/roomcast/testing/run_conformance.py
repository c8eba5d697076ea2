"""Run the official Engine.IO and Socket.IO conformance suites against Roomcast.

    python -m roomcast.testing.run_conformance ENGINE_IO_SUITE SOCKET_IO_SUITE

Each argument is a ``test-suite`` folder of socketio/engine.io-protocol or
socketio/socket.io-protocol (a local checkout; nothing is downloaded but its npm
packages). The conformance server is started on 127.0.0.1:3000, as the suites expect.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["main"]


def _wait_until_up(url: str, deadline: float) -> None:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main(argv: list[str]) -> int:
    suites = [Path(arg) for arg in argv]
    if not suites or any(not (suite / "test-suite.js").is_file() for suite in suites):
        print(__doc__, file=sys.stderr)
        return 2
    server = subprocess.Popen([sys.executable, "-m", "roomcast.testing.conformance_server"])
    failures = 0
    try:
        _wait_until_up(
            "http://127.0.0.1:3000/engine.io/?EIO=4&transport=polling", time.monotonic() + 15
        )
        for suite in suites:
            if not (suite / "node_modules").is_dir():
                subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=suite, check=True)
            result = subprocess.run(["npx", "mocha", "test-suite.js"], cwd=suite)
            failures += result.returncode != 0
    finally:
        server.terminate()
        server.wait(10)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
