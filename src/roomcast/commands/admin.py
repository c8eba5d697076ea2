"""``roomcast admin set-password``: the facilitator console's password.

It works whether or not the server runs: the server re-reads the password file when it
changes, so a new password takes effect at once and signs every facilitator out.
"""

from __future__ import annotations

import functools
import getpass
import sys
from collections.abc import Callable
from typing import TextIO

from roomcast.config import Settings
from roomcast.console_auth import ConsoleAuth
from roomcast.core.console_access import MIN_PASSWORD
from roomcast.core.errors import BadRequest
from roomcast.links import link_secret

__all__ = ["run_set_password"]


def _ask(prompt: Callable[[str], str]) -> str:
    try:
        first = prompt("New console password: ")
        second = prompt("The same password again: ")
    except EOFError:
        raise BadRequest(
            "no terminal to ask on; pipe the password in with --password-stdin"
        ) from None
    if first != second:
        raise BadRequest("the two passwords differ; nothing changed")
    return first


def run_set_password(
    settings: Settings,
    from_stdin: bool,
    *,
    stdin: TextIO | None = None,
    prompt: Callable[[str], str] = getpass.getpass,
) -> int:
    """Set the console password from a prompt (asked twice) or one line of stdin."""
    password = (stdin or sys.stdin).readline().rstrip("\r\n") if from_stdin else _ask(prompt)
    if len(password) < MIN_PASSWORD:
        raise BadRequest(
            f"the password is too short: a console password has at least {MIN_PASSWORD} "
            "characters; nothing changed"
        )
    auth = ConsoleAuth(settings.data_dir, functools.partial(link_secret, settings.data_dir))
    auth.set_password(password)
    print(
        f"Console password changed in {auth.path}; everyone signed in to the console "
        "is signed out and signs in with the new one."
    )
    return 0
