"""Session records exported from a real server's data: the CLI, the console, the API."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.test_console_events import connect_console
from tests.integration.test_http_api import make_key, roomcast_cli

from roomcast.console_auth import COOKIE, ConsoleAuth
from roomcast.links import link_secret

ROOM = "study-P07"
TEXTS = ['Hello, "world"; how are you?', "line one\nline two", "Ünïcödé — 日本語 🙂", "=1+2"]


@pytest.fixture
def session(server: RunningServer) -> RunningServer:
    """A short lab session: a tester writes, reports a step, the facilitator notes."""
    console = connect_console(server)
    tester = ChatClient(server.url, 'P07, "the" tester', ["websocket"])
    try:
        tester.call("join", {"room": ROOM})
        for text in TEXTS:
            tester.send(ROOM, text)
        tester.call("track", {"room": ROOM, "step": "checkout", "data": {"items": 2}})
        console.call("note", {"room": ROOM, "text": "hesitated; then, found it"})
        tester.call("leave", {"room": ROOM})
        console.wait_for(
            lambda: any(e == "timeline" and p["kind"] == "leave" for e, p in console.events)
        )
    finally:
        tester.close()
        console.close()
    return server


def csv_rows(data: bytes, delimiter: str) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def cli_export(server: RunningServer, *args: str) -> bytes:
    done = roomcast_cli(server, "export", *args, "--data-dir", str(server.data_dir))
    assert done.returncode == 0, done.stderr
    return done.stdout.encode("utf-8")


def as_csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith("=") else value
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_the_cli_exports_csv_with_the_same_rows_as_json(
    session: RunningServer, delimiter: str
) -> None:
    rows = csv_rows(cli_export(session, ROOM, "--delimiter", delimiter), delimiter)
    entries = json.loads(cli_export(session, ROOM, "--format", "json"))["entries"]
    assert [{k: as_csv_text(v) for k, v in entry.items()} for entry in entries] == rows

    kinds = [row["kind"] for row in rows]
    assert kinds == ["join", "text", "text", "text", "text", "step", "note", "leave"]
    assert [row["text"] for row in rows[1:5]] == [*TEXTS[:3], "'=1+2"]
    assert rows[1]["name"] == 'P07, "the" tester'
    assert rows[5]["text"] == "checkout" and json.loads(rows[5]["details"])["data"] == {"items": 2}
    assert rows[6]["text"] == "hesitated; then, found it" and rows[6]["name"] == "Facilitator"
    assert all(row["time"][-6] in "+-" and row["time"][10] == "T" for row in rows)


def test_the_cli_writes_markdown_to_a_file_and_explains_a_wrong_folder(
    session: RunningServer, tmp_path: Any
) -> None:
    out = tmp_path / "P07.md"
    done = roomcast_cli(
        session, "export", ROOM, "--format", "md", "-o", str(out), "--data-dir",
        str(session.data_dir),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# Session record of room {ROOM}")
    assert "**Note** by Facilitator: hesitated; then, found it" in text

    missing = roomcast_cli(session, "export", "nobody-here", "--data-dir", str(session.data_dir))
    assert missing.returncode == 1
    assert "is it the server's store (--data-dir, --store)?" in missing.stderr
    empty = roomcast_cli(session, "export", ROOM, "--data-dir", str(tmp_path / "nothing"))
    assert empty.returncode == 2 and "no Roomcast database" in empty.stderr


def test_the_console_downloads_exports_only_when_signed_in(session: RunningServer) -> None:
    auth = ConsoleAuth(session.data_dir, lambda: link_secret(session.data_dir))
    cookie = auth.sign_in("a lab password")
    assert cookie is not None
    url = f"{session.url}/console/export/{ROOM}"
    with httpx.Client(timeout=10) as http:
        refused = http.get(url)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
    # As a header: httpx's cookie jar does not send cookies to a bare IP address.
    with httpx.Client(timeout=10, headers={"cookie": f"{COOKIE}=forged.cookie"}) as http:
        assert http.get(url).status_code == 401
    with httpx.Client(timeout=10, headers={"cookie": f"{COOKIE}={cookie}"}) as http:
        got = http.get(url, params={"delimiter": ";"})
        assert got.status_code == 200
        assert got.headers["content-type"].startswith("text/csv")
        assert f'filename="{ROOM}.csv"' in got.headers["content-disposition"]
        assert len(csv_rows(got.content, ";")) == 8
        md = http.get(url, params={"format": "md"})
        assert md.headers["content-type"].startswith("text/markdown")
        for bad in ({"format": "xls"}, {"delimiter": "|"}):
            answer = http.get(url, params=bad)
            assert answer.status_code == 400, bad
        bad_room = http.get(f"{session.url}/console/export/bad%20room")
        assert bad_room.status_code == 400


def test_the_api_exports_with_a_key(session: RunningServer) -> None:
    key = make_key(session)
    url = f"{session.url}/api/v1/rooms/{ROOM}/transcript"
    with httpx.Client(timeout=10) as http:
        assert http.get(url).status_code == 401
        got = http.get(url, params={"format": "json"}, headers={"authorization": f"Bearer {key}"})
        assert got.status_code == 200
        assert [e["kind"] for e in got.json()["entries"]][:2] == ["join", "text"]
