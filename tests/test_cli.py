"""The ``roomcast`` command, run as a user runs it: in its own process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from roomcast.config import SETTING_FIELDS, env_var, flag_name

_CHAT_LINE = re.compile(r"Chat:\s+http://([^/\s]+):(\d+)/\s*$")


def clean_env() -> dict[str, str]:
    """The environment without ROOMCAST_* variables, which would change the settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMCAST_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "200"
    return env


def roomcast(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roomcast", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(),
        timeout=60,
        check=False,
    )


class Server:
    """``roomcast serve`` in a subprocess, read line by line up to a marker."""

    def __init__(self, *args: str, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "roomcast", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
            env=clean_env(),
        )
        self.lines: list[str] = []

    def read_until(self, marker: str) -> str:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if marker in line:
                return line
        raise AssertionError(f"no {marker!r} line in the output:\n" + "".join(self.lines))

    def wait_started(self) -> None:
        """Wait until the server answers: past that, SIGTERM gets a graceful shutdown."""
        health = self.read_until("Health:").split()[-1]
        with urllib.request.urlopen(health, timeout=30) as response:
            assert response.status == 200

    def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit code and all of the output; always closes the pipe."""
        process = self.process
        assert process.stdout is not None
        try:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            # The little output left fits in the pipe, so waiting first cannot block the
            # server; communicate() would skip what the line reader has buffered already.
            process.wait(timeout=20)
            self.lines.append(process.stdout.read())
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        finally:
            process.stdout.close()
        return process.returncode, "".join(self.lines)


def test_help(tmp_path: Path) -> None:
    result = roomcast("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "serve" in result.stdout
    assert result.stderr == ""


def test_no_command_prints_help(tmp_path: Path) -> None:
    result = roomcast(cwd=tmp_path)
    assert result.returncode == 0
    assert "serve" in result.stdout


def test_serve_help_lists_every_flag_and_variable(tmp_path: Path) -> None:
    result = roomcast("serve", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for f in SETTING_FIELDS:
        assert flag_name(f.name) in result.stdout, f.name
        assert env_var(f.name) in result.stdout, f.name


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--port", "notanumber"], "--port"),
        (["--store", "nope"], "--store"),
        (["--port", "70000"], "--port"),
        (["--port", "-1"], "--port"),
        (["--shutdown-grace", "inf"], "--shutdown-grace"),
        (["--ping-interval", "nan"], "--ping-interval"),
        (["--origins", "example.com"], "--origins"),
        (["--log-level", "loud"], "--log-level"),
    ],
)
def test_bad_settings_exit_2_naming_the_flag(args: list[str], flag: str, tmp_path: Path) -> None:
    result = roomcast("serve", *args, "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert result.returncode == 2
    assert flag in result.stderr
    assert result.stderr.startswith("roomcast: error: ")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()


def test_bad_env_value_exits_2_naming_the_flag(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "roomcast", "serve"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**clean_env(), "ROOMCAST_PORT": "eighty"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "--port" in result.stderr
    assert "ROOMCAST_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_prints_the_chat_url_with_the_real_port_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    server = Server("--port", "0", "--data-dir", str(data_dir), cwd=tmp_path)
    try:
        chat = server.read_until("Chat:")
        match = _CHAT_LINE.search(chat)
        assert match, chat
        host, port = match.group(1), int(match.group(2))
        assert host == "127.0.0.1"
        assert port != 0
        # The banner's port is the one listened on: the server answers there.
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=30) as response:
            assert response.status == 200
    finally:
        code, output = server.stop()
    assert code == 0, output
    assert "Traceback" not in output
    assert "Application shutdown complete" in output  # graceful, not killed
    assert data_dir.is_dir()
    assert not (tmp_path / "roomcast-data").exists()


def test_serve_on_all_interfaces_warns(tmp_path: Path) -> None:
    server = Server(
        "--host",
        "0.0.0.0",
        "--port",
        "0",
        "--store",
        "memory",
        "--data-dir",
        str(tmp_path / "data"),
        cwd=tmp_path,
    )
    try:
        server.wait_started()
    finally:
        code, output = server.stop()
    warning = next(line for line in output.splitlines() if "WARNING" in line)
    assert "0.0.0.0" in warning
    assert "open to anyone" in warning
    assert "network" in warning
    assert code == 0, output


def test_serve_on_loopback_does_not_warn(tmp_path: Path) -> None:
    server = Server(
        "--port", "0", "--store", "memory", "--data-dir", str(tmp_path / "data"), cwd=tmp_path
    )
    try:
        server.wait_started()
    finally:
        _, output = server.stop()
    assert "WARNING" not in output


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = roomcast(
            "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
        )
    assert result.returncode == 1
    assert f"127.0.0.1:{port}" in result.stderr
    assert "--port" in result.stderr
    assert result.stderr.startswith("roomcast: error: cannot listen on")
    assert "Traceback" not in result.stderr
    assert "Chat:" not in result.stdout
