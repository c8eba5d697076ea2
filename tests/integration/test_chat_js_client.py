"""The chat wire contract, driven by the official socket.io-client (npm) under Node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest
from tests.conftest import ROOT, RunningServer

SCENARIOS = ROOT / "tests" / "integration" / "js" / "scenarios.cjs"
NODE_MODULES = ROOT / "frontend" / "node_modules"

pytestmark = pytest.mark.node


def run_scenario(name: str, url: str, transports: str = "both") -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "Node.js is needed for these tests (make test installs the npm packages)"
    assert (NODE_MODULES / "socket.io-client").is_dir(), "run make setup first"
    done = subprocess.run(
        [node, str(SCENARIOS), name, url, transports],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, NODE_PATH=str(NODE_MODULES)),
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output; stderr: {done.stderr}"
    result: dict[str, Any] = json.loads(lines[-1])
    assert "error" not in result, result
    return result


@pytest.mark.parametrize("transports", ["websocket", "polling", "both"])
def test_official_js_client_chats(server: RunningServer, transports: str) -> None:
    result = run_scenario("chat", server.url, transports)
    expected_transport = "polling" if transports == "polling" else "websocket"
    assert result["transport"] == expected_transport  # "both" means it upgraded
    assert result["joinOk"] is True
    assert result["members"] == ["Ada", "Bob"]
    assert result["sentOffset"] == 1
    assert result["retrySameId"] is True
    assert result["badCode"] == "bad_request"
    # The retry is broadcast again; clients drop what they have by offset.
    assert {tuple(m) for m in result["bobGot"]} == {(1, "from node", "Ada")}


def test_official_js_client_sees_connect_error_code(server: RunningServer) -> None:
    result = run_scenario("refused", server.url, "websocket")
    assert result["data"]["code"] == "bad_request"
    assert "name" in result["message"]


@pytest.mark.parametrize("transports", ["websocket", "polling"])
def test_stock_js_client_gets_connection_state_recovery(
    server: RunningServer, transports: str
) -> None:
    result = run_scenario("recovery", server.url, transports)
    assert result["recovered"] is True
    assert result["sameId"] is True
    assert result["offsets"] == [1, 2, 3, 4, 5]
