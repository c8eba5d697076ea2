"""docs/deploy/nginx.conf, as committed, in front of two nodes on PostgreSQL and Redis."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import ROOT, RunningServer
from tests.integration.chat_client import ChatClient

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONFIG = ROOT / "docs" / "deploy" / "nginx.conf"
DOC_NODES = ("127.0.0.1:8001", "127.0.0.1:8002")


def render(nodes: list[int], port: int) -> str:
    """The committed config with the test's node ports and a loopback listen port."""
    text = CONFIG.read_text(encoding="utf-8")
    for listed, node in zip(DOC_NODES, nodes, strict=True):
        assert text.count(f"server {listed};") == 2, "each upstream lists every node"
        text = text.replace(f"server {listed};", f"server 127.0.0.1:{node};")
    assert text.count("listen 80;") == 1
    return text.replace("listen 80;", f"listen 127.0.0.1:{port};")


def main_config(folder: Path, site: Path) -> str:
    """What /etc/nginx/nginx.conf gives the site config: here, everything in ``folder``."""
    temp = "\n".join(
        f"  {kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"  access_log {folder / 'access.log'};\n"
        f"{temp}\n"
        f"  include {site};\n"
        "}\n"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def nginx_binary() -> str:
    if not os.path.exists(NGINX):
        message = "nginx is missing: apt-get install -y nginx (.ci/run installs it in CI)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return NGINX


def start_nginx(binary: str, folder: Path, nodes: list[int]) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    site = folder / "roomcast.conf"
    site.write_text(render(nodes, port), encoding="utf-8")
    conf = folder / "nginx.conf"
    conf.write_text(main_config(folder, site), encoding="utf-8")
    # In the foreground, one process as the current user, logging into the folder.
    process = subprocess.Popen(
        [binary, "-p", str(folder), "-c", str(conf), "-e", str(folder / "error.log"),
         "-g", "daemon off; master_process off;"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.communicate()[0]
                log = (folder / "error.log").read_text() if (folder / "error.log").exists() else ""
                raise RuntimeError(f"nginx did not start:\n{output}\n{log}") from None
        time.sleep(0.05)


@pytest.fixture
def nodes(server_factory: object, migrated_dsn: str, redis_server: str) -> list[RunningServer]:
    args = ("--store", migrated_dsn, "--bus", redis_server)
    return [server_factory(*args) for _ in range(2)]  # type: ignore[operator]


@pytest.fixture
def nginx(nginx_binary: str, nodes: list[RunningServer], tmp_path: Path) -> Iterator[str]:
    folder = tmp_path / "nginx"
    folder.mkdir()
    process, url = start_nginx(nginx_binary, folder, [node.port for node in nodes])
    try:
        yield url
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        assert process.stdout is not None
        process.stdout.close()


def test_a_client_through_nginx_chats_with_one_on_a_node(
    nginx: str, nodes: list[RunningServer]
) -> None:
    ada = ChatClient(nginx, "Ada", ["websocket"])
    bob = ChatClient(nodes[1].url, "Bob", ["websocket"])
    # Long-polling through nginx: its requests stick to one node, so the session holds.
    cy = ChatClient(nginx, "Cy", ["polling"])
    clients = (ada, bob, cy)
    try:
        for client in clients:
            assert client.call("join", {"room": "deploy"})["ok"]
        assert ada.send("deploy", "through nginx")["ok"]
        assert bob.send("deploy", "straight to a node")["ok"]
        assert cy.send("deploy", "by long-polling")["ok"]
        for client in clients:
            client.wait_for(lambda c=client: len(c.messages("deploy")) == 3)
            assert sorted(m["offset"] for m in client.messages("deploy")) == [1, 2, 3]
        assert cy.sio.transport() == "polling"
    finally:
        for client in clients:
            client.close()
