"""Signed links against a real server: join as the link's name, refusals people understand."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import pytest
import socketio
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient

ServerFactory = Callable[..., RunningServer]


def make_link(server: RunningServer, *args: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "roomcast",
            "link",
            "--data-dir",
            str(server.data_dir),
            "--url",
            server.url,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "█" in done.stderr  # the QR code, on stderr so that scripts can take the link
    return done.stdout.strip()


def token_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["token"][0]


def refusal(server: RunningServer, auth: dict[str, str]) -> str:
    """The message of the connect_error the server refuses ``auth`` with."""
    client = socketio.Client(reconnection=False)
    errors: list[dict[str, str]] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=10)
    assert errors and errors[0]["code"] == "forbidden"
    return errors[0]["message"]


def test_a_link_joins_its_room_as_its_name_only(server: RunningServer) -> None:
    link = make_link(server, "--room", "study-P07", "--name", "P07", "--expires", "2h")
    assert link.startswith(f"{server.url}/r/study-P07?token=")
    tester = ChatClient(server.url, "Someone Else", ["websocket"], token=token_of(link))
    try:
        joined = tester.call("join", {"room": "study-P07"})
        assert joined["ok"] and joined["me"]["name"] == "P07"  # the link's name wins
        other = tester.call("join", {"room": "study-P08"})
        assert other["error"] == {
            "code": "forbidden",
            "message": "your link is for room 'study-P07' only",
        }
        assert tester.send("study-P07", "hello")["message"]["sender"]["name"] == "P07"
    finally:
        tester.close()


def test_tampered_and_expired_links_are_refused(server: RunningServer) -> None:
    token = token_of(make_link(server, "--room", "study-P07", "--name", "P07"))
    body, signature = token.split(".")
    forged = body.replace(body[5], "A" if body[5] != "A" else "B") + "." + signature
    assert "not valid" in refusal(server, {"token": forged})
    expired = token_of(
        make_link(server, "--room", "study-P07", "--name", "P07", "--expires", "1ms")
    )
    assert "expired" in refusal(server, {"token": expired})


def test_signed_links_only_refuses_names(server_factory: ServerFactory) -> None:
    server = server_factory("--signed-links-only")
    assert "only personal links" in refusal(server, {"name": "P07"})
    token = token_of(make_link(server, "--room", "study-P07", "--name", "P07"))
    tester = ChatClient(server.url, "ignored", ["websocket"], token=token)
    try:
        assert tester.call("join", {"room": "study-P07"})["me"]["name"] == "P07"
    finally:
        tester.close()


def test_the_secret_survives_a_restart(server: RunningServer) -> None:
    token = token_of(make_link(server, "--room", "r", "--name", "Ada"))
    server.restart()
    tester = ChatClient(server.url, "x", ["websocket"], token=token)
    try:
        assert tester.call("join", {"room": "r"})["me"]["name"] == "Ada"
    finally:
        tester.close()
    assert (server.data_dir / "link-secret").stat().st_mode & 0o077 == 0
