"""``roomcast chat`` run as a person runs it: in a pseudo-terminal, against a real server."""

from __future__ import annotations

import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from tests.conftest import RunningServer

from roomcast import Client
from roomcast.client.terminal import format_message

from .conftest import TIMEOUT

LINE = r"\d\d:\d\d "


class Terminal:
    """``python -m roomcast chat ...`` with a pseudo-terminal for its input and output."""

    def __init__(self, *args: str) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "roomcast", "chat", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
            close_fds=True,
        )
        os.close(slave)
        self.output = ""

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def expect(self, pattern: str) -> re.Match[str]:
        """Wait until the output (since the last match) matches ``pattern``."""
        deadline = time.monotonic() + TIMEOUT
        while not (match := re.search(pattern, self.output, re.MULTILINE)):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {pattern!r} in the output:\n{self.output}"
            ready, _, _ = select.select([self.master], [], [], remaining)
            if ready:
                try:
                    self.output += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # EIO: the process has exited and its end is closed
                    pytest.fail(f"the chat ended without {pattern!r}:\n{self.output}")
        self.output = self.output[match.end() :]
        return match

    def wait(self) -> int:
        return self.process.wait(TIMEOUT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(TIMEOUT)
        os.close(self.master)


def run_chat(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``roomcast chat ARGS`` to its end, with ``stdin`` as its input (none if None)."""
    return subprocess.run(
        [sys.executable, "-m", "roomcast", "chat", *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.fixture
def bob(server: RunningServer) -> Iterator[Client]:
    with Client(server.url, "Bob") as bob:
        bob.join("lobby")
        yield bob


def test_chat_in_a_terminal(server: RunningServer, bob: Client) -> None:
    bob.send("lobby", "from before")
    term = Terminal("lobby", "--name", "Tess", "--url", server.url)
    try:
        term.expect("joined lobby as Tess")
        term.expect(LINE + "Bob: from before")  # the history first

        bob.send("lobby", "live hello")
        bob.send("lobby", data={"temp": 21.5})
        term.expect(LINE + "Bob: live hello")
        term.expect(LINE + r'Bob: \{"temp":21.5\}')

        term.type("typed in the terminal")
        message = bob.receive("lobby", timeout=TIMEOUT)
        while message["sender"]["name"] == "Bob":  # Bob's own messages come back to him too
            message = bob.receive("lobby", timeout=TIMEOUT)
        assert message["text"] == "typed in the terminal"
        assert message["sender"]["name"] == "Tess"
        term.expect(LINE + "Tess: typed in the terminal")

        server.restart(same_port=True)
        term.expect("connection lost")
        term.expect("reconnected")
        bob.send("lobby", "after the restart")
        term.expect(LINE + "Bob: after the restart")

        term.type("/quit")
        assert term.wait() == 0
    finally:
        term.close()


def test_end_of_input_leaves_after_sending(server: RunningServer, bob: Client) -> None:
    done = run_chat("lobby", "--name", "Pipe", "--url", server.url, stdin="sent from a pipe\n")

    assert done.returncode == 0, done.stderr
    assert bob.receive("lobby", timeout=TIMEOUT)["text"] == "sent from a pipe"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["lobby", "--name", ""], "name must not be empty"),
        (["bad room!", "--name", "Ada"], "room"),
    ],
)
def test_a_refused_chat_says_why(server: RunningServer, args: list[str], error: str) -> None:
    done = run_chat(*args, "--url", server.url)

    assert done.returncode == 1
    assert done.stderr.startswith("roomcast chat: ")
    assert error in done.stderr
    assert "Traceback" not in done.stderr


def test_nobody_listening_fails_at_once() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"
        done = run_chat("lobby", "--name", "Ada", "--url", url)

    assert done.returncode == 1
    assert f"cannot connect to {url}" in done.stderr


def test_messages_are_formatted_for_a_terminal() -> None:
    ts = int(time.mktime((2026, 11, 22, 9, 5, 0, 0, 0, -1)) * 1000)
    sender = {"id": "n-1", "name": "Ada"}

    assert format_message({"ts": ts, "sender": sender, "text": "hi"}) == "09:05 Ada: hi"
    assert format_message({"ts": ts, "sender": sender, "data": {"a": [1, 2]}}) == (
        '09:05 Ada: {"a":[1,2]}'
    )
    assert format_message({"ts": ts, "sender": None, "text": "room opened"}) == (
        "09:05 * room opened"
    )
    # Escape sequences from others are shown, not obeyed by the terminal.
    assert format_message({"ts": ts, "sender": sender, "text": "\x1b[2Jgone"}) == (
        "09:05 Ada: \\x1b[2Jgone"
    )
