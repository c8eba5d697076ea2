"""Hostile text as names, room names, messages and data, on every page that shows it.

Each page is driven in real Chromium. What is checked everywhere: no dialog opened, no
page error, ``window.__xss`` (which every payload tries to set) is still undefined, the
text is shown as the characters that were typed, and no element was made from it.
Exports are checked too: Markdown rendered by a CommonMark renderer (with raw HTML on)
yields no link, image or tag from user text; CSV formula cells keep their ``'`` prefix.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from markdown_it import MarkdownIt
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import DESKTOP, PHONE, PageErrors
from tests.browser.test_console import PASSWORD, signed_in_console
from tests.browser.test_widget import make_prototype, open_page
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.test_http_api import make_key

from roomcast.console_auth import ConsoleAuth
from roomcast.links import link_secret

pytestmark = pytest.mark.browser

ServerFactory = Callable[..., RunningServer]
ROOM = "xss-lab"

# Names: at most 64 characters, no control characters (core/validation.py).
NAMES = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "<svg onload=window.__xss=1>",
    '"><a href="javascript:window.__xss=1">me</a>',
    "{{constructor.constructor('window.__xss=1')()}}",
    "\u0410dmin \u05d0\u05d3\u05de\u05d9\u05df",  # a Cyrillic A that looks like Latin; Hebrew
    "${window.__xss=1}`&lt;b&gt;`",
]
TEXTS = [
    *NAMES,
    "[click me](javascript:window.__xss=1) ![x](x onerror=window.__xss=1)",
    "<iframe src=javascript:window.__xss=1></iframe><b>bold?</b>",
    "javascript:window.__xss=1",
    '=HYPERLINK("http://example.invalid","x")',
    "line one\n# not a heading\n- not a list\n<div>not html</div>",
    "W" * 3000 + "<img src=x onerror=window.__xss=1>",
    "\u202eevil\u202c.exe",  # a right-to-left override (names refuse it; texts keep it)
]
DATA = {"<img src=x onerror=window.__xss=1>": "<script>window.__xss=1</script>", "n": [1, "{{x}}"]}
# Elements a payload would make, if it were ever parsed as HTML.
# (The pages' own icons are SVG, so an SVG counts only with the handler the payload gives it.)
MADE = (
    "img[src='x'], [onerror], [onload], iframe, script:not([src]), a[href^='javascript'], b, "
    "[data-testid=message-text] :not(a[href^='http']), [data-testid=message-sender] *"
)


@pytest.fixture
def server(server_factory: ServerFactory, tmp_path: Path) -> RunningServer:
    data_dir = tmp_path / "data"
    ConsoleAuth(data_dir, lambda: link_secret(data_dir)).set_password(PASSWORD)
    return server_factory(data_dir=data_dir)


@pytest.fixture
def hostile_room(server: RunningServer) -> Iterator[list[ChatClient]]:
    """ROOM with a member of each hostile name, each having sent hostile texts and data."""
    yield from _fill(server, ROOM)


def _fill(server: RunningServer, room: str) -> Iterator[list[ChatClient]]:
    clients = [ChatClient(server.url, name, ["websocket"]) for name in NAMES]
    try:
        for i, client in enumerate(clients):
            assert client.call("join", {"room": room})["ok"]
            for text in TEXTS[i :: len(clients)]:
                assert client.send(room, text)["ok"]
        answer = clients[0].call("send", {"room": room, "data": DATA, "cid": uuid.uuid4().hex})
        assert answer["ok"], answer
        yield clients
    finally:
        for client in clients:
            client.close()


def assert_inert(page: Page, errors: PageErrors, scope: str = "body") -> None:
    """Nothing ran and nothing was made from user text."""
    assert errors.dialogs == []
    assert errors.errors == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator(f"{scope} :is({MADE})").count() == 0


def shown_text(page: Page, test_id: str) -> list[str]:
    return [" ".join(t.split()) for t in page.get_by_test_id(test_id).all_inner_texts()]


def squash(text: str) -> str:
    return " ".join(text.split())


def test_the_chat_page_shows_hostile_names_and_texts_literally(
    browser: Browser,
    server: RunningServer,
    hostile_room: list[ChatClient],
    page_errors: PageErrors,
    artifacts: Path,
) -> None:
    shots = {}
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        name = NAMES[1] if label == "desktop" else NAMES[5]
        page = page_errors.watch(browser.new_context(**viewport).new_page())
        page.goto(f"{server.url}/r/{ROOM}?name={quote(name)}")
        status = page.get_by_test_id("connection-status")
        expect(status).to_have_attribute("data-status", "connected")
        expect(page.get_by_test_id("message")).to_have_count(len(TEXTS) + 1)
        shown = shown_text(page, "message-text")
        for text in TEXTS:
            assert squash(text) in shown, text[:60]
        senders = set(shown_text(page, "message-sender"))
        assert {squash(n) for n in NAMES if n != name} <= senders
        # On a phone the member list is folded away: its text, not its rendering.
        members = squash(" ".join(page.get_by_test_id("member").all_text_contents()))
        for other in NAMES:
            assert squash(other) in members, other
        assert_inert(page, page_errors)
        shots[label] = artifacts / f"xss-chat-{label}.png"
        page.screenshot(path=str(shots[label]))
        page.context.close()
    assert all(path.stat().st_size > 0 for path in shots.values())


def test_hostile_room_names_are_refused_everywhere(
    browser: Browser, server: RunningServer, page_errors: PageErrors
) -> None:
    client = ChatClient(server.url, "Probe", ["websocket"])
    try:
        for room in ("<script>window.__xss=1</script>", "a b", "\u202eroom", "{{x}}", "x" * 65):
            answer = client.call("join", {"room": room})
            assert (answer["ok"], answer["error"]["code"]) == (False, "bad_request"), room
            page = page_errors.watch(browser.new_page())
            response = page.goto(f"{server.url}/r/{quote(room, safe='')}")
            assert response is not None and response.status == 404
            # Chromium logs the 404 itself as a console error; that one is expected.
            page_errors.errors = [e for e in page_errors.errors if "status of 404" not in e]
            if "/" not in room:  # with a slash it is no room page at all: plain 404
                assert "Room names are 1-64 characters" in page.inner_text("body")
            assert_inert(page, page_errors)
            page.close()
    finally:
        client.close()


def test_the_console_shows_hostile_names_and_texts_literally(
    browser: Browser,
    server: RunningServer,
    hostile_room: list[ChatClient],
    page_errors: PageErrors,
    artifacts: Path,
) -> None:
    console = signed_in_console(browser.new_context(**DESKTOP), server, page_errors)
    room = console.locator(f"[data-testid=console-room][data-room='{ROOM}']")
    people = " ".join(squash(t) for t in room.get_by_test_id("room-person").all_inner_texts())
    for name in NAMES:
        assert squash(name) in people, name
    room.click()
    expect(console.get_by_test_id("room-title")).to_have_text(ROOM)
    expect(console.get_by_test_id("message")).to_have_count(len(TEXTS) + 1)
    shown = shown_text(console, "message-text")
    for text in TEXTS:
        assert squash(text) in shown, text[:60]
    # A facilitator's note and reply with the same payloads stay text too.
    console.get_by_test_id("reply-input").fill(NAMES[1])
    console.get_by_test_id("add-note").click()
    expect(console.get_by_test_id("note-text")).to_have_text(NAMES[1])
    assert_inert(console, page_errors)
    console.screenshot(path=str(artifacts / "xss-console-desktop.png"))


def test_the_widget_shows_hostile_names_and_texts_literally(
    browser: Browser, server_factory: ServerFactory, tmp_path: Path, page_errors: PageErrors
) -> None:
    site = server_factory("--site", str(make_prototype(tmp_path / "export")))
    for _ in _fill(site, "lab"):
        page = open_page(browser, PHONE, f"{site.url}/site/?name={quote(NAMES[0])}", page_errors)
        page.get_by_test_id("widget-button").click()
        expect(page.get_by_test_id("widget-status")).to_have_attribute("data-status", "connected")
        expect(page.get_by_test_id("widget-title")).to_have_text(f"Chat — {NAMES[0]}")
        expect(page.get_by_test_id("message")).to_have_count(len(TEXTS) + 1)
        shown = shown_text(page, "message-text")
        for text in TEXTS:
            assert squash(text) in shown, text[:60]
        # Only inside the widget: the prototype page has inline scripts of its own.
        assert_inert(page, page_errors, scope="roomcast-widget")
        assert page.evaluate("window.__csp") == []


# -- exports ----------------------------------------------------------------------------------

TAG = re.compile(r"<(a|img|script|svg|iframe|b|div|h[2-6])\b", re.IGNORECASE)


def test_exports_keep_hostile_text_inert(
    server: RunningServer, hostile_room: list[ChatClient]
) -> None:
    key = make_key(server)
    api = f"{server.url}/api/v1/rooms/{ROOM}/transcript"

    def export(fmt: str) -> str:
        response = requests.get(
            api, params={"format": fmt}, headers={"authorization": f"Bearer {key}"}, timeout=30
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-content-type-options"] == "nosniff"
        return response.content.decode("utf-8")

    markdown = export("md")
    rendered = MarkdownIt("commonmark", {"html": True}).render(markdown)
    assert TAG.findall(rendered) == []  # no link, image or HTML made from user text
    assert "javascript:" not in re.findall(r'href="([^"]*)"', rendered)
    # What a reader sees: every name and text exactly as typed, entity-like text included.
    visible = " ".join(html.unescape(re.sub(r"<[^>]+>", "", rendered)).split())
    for text in TEXTS:
        assert squash(text) in visible, text[:60]

    entries = json.loads(export("json"))["entries"]
    assert {e["text"] for e in entries if e["type"] == "message"} >= set(TEXTS)

    rows = list(csv.DictReader(io.StringIO(export("csv").lstrip("\ufeff"))))
    cells = {row["text"] for row in rows}
    assert "'" + TEXTS[10] in cells  # "=HYPERLINK(...)" cannot run as a formula
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_the_console_export_matches_the_api(
    browser: Browser, server: RunningServer, hostile_room: list[ChatClient], page_errors: PageErrors
) -> None:
    context = browser.new_context(**DESKTOP)
    signed_in_console(context, server, page_errors)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
    key = make_key(server)
    for fmt in ("md", "csv", "json"):
        from_console = requests.get(
            f"{server.url}/console/export/{ROOM}",
            params={"format": fmt},
            headers={"cookie": cookie},
            timeout=30,
        )
        from_api = requests.get(
            f"{server.url}/api/v1/rooms/{ROOM}/transcript",
            params={"format": fmt},
            headers={"authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert from_console.status_code == from_api.status_code == 200
        assert from_console.content == from_api.content
