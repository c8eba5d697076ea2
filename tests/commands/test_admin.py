"""``roomcast admin set-password``: asked twice, or one line of stdin; too short is refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from roomcast.commands.admin import run_set_password
from roomcast.config import load_settings
from roomcast.console_auth import ConsoleAuth
from roomcast.core.errors import BadRequest


def auth(data_dir: Path) -> ConsoleAuth:
    return ConsoleAuth(data_dir, lambda: b"k" * 32)


def test_asked_twice_and_stored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["a good password", "a good password"])
    settings = load_settings({"data_dir": tmp_path}, environ={})
    assert run_set_password(settings, False, prompt=lambda _: next(answers)) == 0
    assert auth(tmp_path).sign_in("a good password") is not None
    assert "signed out" in capsys.readouterr().out


def test_two_different_answers_change_nothing(tmp_path: Path) -> None:
    answers = iter(["a good password", "a typo password"])
    settings = load_settings({"data_dir": tmp_path}, environ={})
    with pytest.raises(BadRequest, match="differ"):
        run_set_password(settings, False, prompt=lambda _: next(answers))
    assert auth(tmp_path).password_hash() is None


def test_no_terminal_says_to_use_stdin(tmp_path: Path) -> None:
    def no_tty(prompt: str) -> str:
        raise EOFError

    with pytest.raises(BadRequest, match="--password-stdin"):
        run_set_password(load_settings({"data_dir": tmp_path}, environ={}), False, prompt=no_tty)


def test_stdin_takes_one_line_and_refuses_short_ones(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": tmp_path}, environ={})
    with pytest.raises(BadRequest, match="too short"):
        run_set_password(settings, True, stdin=io.StringIO("short\n"))
    assert run_set_password(settings, True, stdin=io.StringIO("from a script\nignored\n")) == 0
    assert auth(tmp_path).sign_in("from a script") is not None
