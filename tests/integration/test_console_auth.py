"""Signing in to /console against a real server: the page, the cookie, tickets, the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import socketio
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.test_metrics import refusals

from roomcast.console_auth import ConsoleAuth
from roomcast.links import link_secret

PASSWORD = "a lab password"
ServerFactory = Callable[..., RunningServer]


def with_password(tmp_path: Path, password: str = PASSWORD) -> Path:
    data_dir = tmp_path / "data"
    ConsoleAuth(data_dir, lambda: link_secret(data_dir)).set_password(password)
    return data_dir


def sign_in(server: RunningServer, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(
        f"{server.url}/console/login",
        data={"password": password},
        headers={"origin": server.url},
        follow_redirects=False,
    )


def session_of(response: httpx.Response) -> str:
    match = re.match(r"roomcast_console=([^;]+);", response.headers["set-cookie"])
    assert match, response.headers.get("set-cookie")
    return match.group(1)


def console_page(server: RunningServer, session: str | None = None) -> httpx.Response:
    cookies = {"roomcast_console": session} if session else None
    return httpx.get(f"{server.url}/console", cookies=cookies)


def is_app(page: httpx.Response) -> bool:
    return "/static/console.js" in page.text and "signin-form" not in page.text


def ticket(
    server: RunningServer, session: str | None, origin: str | None = None, site: str | None = None
) -> httpx.Response:
    headers = {"origin": origin} if origin else {}
    if site:
        headers["sec-fetch-site"] = site
    cookies = {"roomcast_console": session} if session else None
    return httpx.post(f"{server.url}/console/ticket", cookies=cookies, headers=headers)


def set_password_cli(data_dir: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    command = ["admin", "set-password", "--password-stdin", f"--data-dir={data_dir}"]
    return subprocess.run(
        [sys.executable, "-m", "roomcast", *command],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def server(server_factory: ServerFactory, tmp_path: Path) -> RunningServer:
    return server_factory(data_dir=with_password(tmp_path))


def test_without_a_session_the_console_is_the_sign_in_page(server: RunningServer) -> None:
    page = console_page(server)
    assert page.status_code == 200
    assert 'data-testid="signin-form"' in page.text and not is_app(page)
    assert console_page(server, "forged.session").text == page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "img-src 'self' data:" in csp and "script-src 'self';" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"


def test_a_wrong_password_is_refused_and_the_right_one_sets_a_strict_cookie(
    server: RunningServer,
) -> None:
    wrong = sign_in(server, "not the password")
    assert wrong.status_code == 401
    assert "Wrong password" in wrong.text and "set-cookie" not in wrong.headers
    assert wrong.headers["content-security-policy"].startswith("default-src 'none'")

    right = sign_in(server)
    assert right.status_code == 303 and right.headers["location"] == "/console"
    cookie = right.headers["set-cookie"]
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/console"):
        assert attribute in cookie.split("; "), cookie
    assert "Secure" not in cookie  # plain http here; https adds it
    page = console_page(server, session_of(right))
    assert page.status_code == 200 and is_app(page)
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_tickets_need_a_session_and_the_servers_own_origin(server: RunningServer) -> None:
    refused = ticket(server, None)
    assert refused.status_code == 401
    assert refused.json() == {
        "ok": False,
        "error": {"code": "unauthorized", "message": "sign in at /console first"},
    }
    session = session_of(sign_in(server))
    same_origin = ticket(server, session, origin=server.url)
    assert same_origin.status_code == 200 and same_origin.json()["ticket"]
    assert ticket(server, session).status_code == 200  # no Origin: not a browser
    # The page's no-referrer policy makes Chromium send "Origin: null" with its own POSTs.
    assert ticket(server, session, origin="null", site="same-origin").status_code == 200
    for origin, site in [
        ("http://evil.example", None),
        (server.url.replace("127.0.0.1", "localhost"), None),
        ("null", "cross-site"),
        (server.url, "same-site"),
    ]:
        cross = ticket(server, session, origin=origin, site=site)
        assert cross.status_code == 403, (origin, site)
        assert cross.json()["error"]["code"] == "forbidden"
    # Nor can another site post the sign-in form.
    forged = httpx.post(
        f"{server.url}/console/login",
        data={"password": PASSWORD},
        headers={"origin": "http://evil.example"},
    )
    assert forged.status_code == 403 and "set-cookie" not in forged.headers


def test_a_ticket_from_the_session_opens_a_console_connection(server: RunningServer) -> None:
    session = session_of(sign_in(server))
    console = ChatClient(
        server.url, "Facilitator", ["websocket"], console=ticket(server, session).json()["ticket"]
    )
    try:
        assert console.call("rooms", {})["ok"] is True
    finally:
        console.close()


def test_sign_out_clears_the_cookie(server: RunningServer) -> None:
    session = session_of(sign_in(server))
    out = httpx.post(
        f"{server.url}/console/logout",
        cookies={"roomcast_console": session},
        headers={"origin": server.url},
    )
    assert out.status_code == 303 and out.headers["location"] == "/console"
    cleared = out.headers["set-cookie"]
    assert cleared.startswith("roomcast_console=;") and "Max-Age=0" in cleared
    assert "Path=/console" in cleared


def test_wrong_passwords_are_throttled_per_address(server: RunningServer) -> None:
    for _ in range(5):
        assert sign_in(server, "guess guess").status_code == 401
    throttled = sign_in(server)  # even the right password waits now
    assert throttled.status_code == 429
    assert "Too many wrong passwords" in throttled.text
    assert 1 <= int(throttled.headers["retry-after"]) <= 60
    assert refusals(server, "unauthorized") == 5
    assert refusals(server, "rate_limited") == 1


def test_set_password_on_the_command_line_signs_everyone_out(server: RunningServer) -> None:
    session = session_of(sign_in(server))
    assert is_app(console_page(server, session))

    short = set_password_cli(server.data_dir, "short\n")
    assert short.returncode == 1
    assert "too short" in short.stderr and "at least 8 characters" in short.stderr

    changed = set_password_cli(server.data_dir, "a brand new password\n")
    assert changed.returncode == 0, changed.stderr
    assert "Console password changed" in changed.stdout
    assert not is_app(console_page(server, session))
    assert ticket(server, session).status_code == 401
    assert sign_in(server).status_code == 401
    assert sign_in(server, "a brand new password").status_code == 303


def test_the_first_start_prints_a_password_that_works(server_factory: ServerFactory) -> None:
    server = server_factory()
    deadline = time.monotonic() + 10
    password = None
    while password is None and time.monotonic() < deadline:
        match = re.search(r"Console password \(shown only now\): (\S+)", "".join(server.output))
        password = match.group(1) if match else None
        time.sleep(0.05)
    assert password is not None, "".join(server.output)
    output = "".join(server.output)
    assert f"Console:  {server.url}/console" in output
    assert "roomcast admin set-password" in output
    assert sign_in(server, password).status_code == 303

    # The next start has a password already: it is not shown again.
    server.restart()
    deadline = time.monotonic() + 10
    while "".join(server.output).count("Press Ctrl+C") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "".join(server.output).count("Press Ctrl+C") == 2
    assert "".join(server.output).count("shown only now") == 1


def test_an_old_ticket_stops_working_after_a_new_password(server: RunningServer) -> None:
    old = ticket(server, session_of(sign_in(server))).json()["ticket"]
    assert set_password_cli(server.data_dir, "another new password\n").returncode == 0
    refused = socketio.Client(reconnection=False)
    errors: list[dict[str, str]] = []
    refused.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(
            server.url, auth={"console": old}, transports=["websocket"], wait_timeout=10
        )
    assert errors and errors[0]["code"] == "forbidden"
