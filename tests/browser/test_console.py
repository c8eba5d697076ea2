"""The facilitator console as a facilitator uses it, with a tester chatting in a room."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from tests.browser.conftest import DESKTOP, PHONE, PageErrors
from tests.conftest import RunningServer

from roomcast.console_auth import ConsoleAuth
from roomcast.links import link_secret

pytestmark = pytest.mark.browser

PASSWORD = "a lab password"
ROOM = "study-P07"


@pytest.fixture
def server(server_factory: Callable[..., RunningServer], tmp_path: Path) -> RunningServer:
    data_dir = tmp_path / "data"
    ConsoleAuth(data_dir, lambda: link_secret(data_dir)).set_password(PASSWORD)
    return server_factory(data_dir=data_dir)


def signed_in_console(context: BrowserContext, server: RunningServer, errors: PageErrors) -> Page:
    page = errors.watch(context.new_page())
    page.goto(f"{server.url}/console")
    page.get_by_test_id("signin-password").fill(PASSWORD)
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-status", "connected")
    return page


def open_tester(browser: Browser, server: RunningServer, errors: PageErrors) -> Page:
    page = errors.watch(browser.new_context(**PHONE).new_page())
    page.goto(f"{server.url}/r/{ROOM}?name=P07")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-status", "connected")
    return page


def send_reply(console: Page, text: str) -> None:
    console.get_by_test_id("reply-input").fill(text)
    console.get_by_test_id("reply-send").click()
    expect(console.get_by_test_id("reply-input")).to_have_value("")


def test_sign_in_page_refuses_a_wrong_password(
    browser: Browser, server: RunningServer, page_errors: PageErrors, artifacts: Path
) -> None:
    page = page_errors.watch(browser.new_context(**PHONE).new_page())
    page.goto(f"{server.url}/console")
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    page.screenshot(path=str(artifacts / "console-signin-phone.png"))
    page.get_by_test_id("signin-password").fill("not it at all")
    page.get_by_test_id("signin-submit").click()
    expect(page.get_by_test_id("signin-error")).to_contain_text("Wrong password")
    page.screenshot(path=str(artifacts / "console-signin-wrong-phone.png"))
    assert page.locator("script[src='/static/console.js']").count() == 0
    # Chromium logs the 401 answer itself; nothing else may go wrong.
    assert [e for e in page_errors.errors if "status of 401" not in e] == []


def test_the_facilitator_watches_answers_and_notes(
    browser: Browser, server: RunningServer, page_errors: PageErrors, artifacts: Path
) -> None:
    p07 = open_tester(browser, server, page_errors)
    p07.get_by_test_id("composer-input").fill("Where is the checkout button?")
    p07.get_by_test_id("composer-input").press("Enter")

    desk = browser.new_context(**DESKTOP)
    console = signed_in_console(desk, server, page_errors)
    room = console.locator(f"[data-testid=console-room][data-room='{ROOM}']")
    expect(room.get_by_test_id("unread")).to_have_text("1")
    expect(room.locator("[data-testid=room-person][data-state=online]")).to_contain_text("P07")
    p07.get_by_test_id("composer-input").fill("Hello?")
    p07.get_by_test_id("composer-input").press("Enter")
    expect(room.get_by_test_id("unread")).to_have_text("2")

    # Opening the room shows its timeline and reads it; watching adds nobody to the room.
    room.click()
    expect(console.get_by_test_id("room-title")).to_have_text(ROOM)
    expect(console.get_by_test_id("message-text")).to_have_text(
        ["Where is the checkout button?", "Hello?"]
    )
    expect(console.get_by_test_id("timeline-event").first).to_contain_text("P07 joined")
    expect(room.get_by_test_id("unread")).to_have_count(0)
    expect(p07.locator("[data-testid=member]")).to_have_count(1)

    # A reply reaches the tester; a note stays in the console.
    send_reply(console, "Try the menu at the top right.")
    expect(p07.get_by_test_id("message-text").last).to_have_text("Try the menu at the top right.")
    console.get_by_test_id("reply-input").fill("P07 looked for checkout in the footer")
    console.get_by_test_id("add-note").click()
    expect(console.get_by_test_id("note-text")).to_have_text(
        "P07 looked for checkout in the footer"
    )

    # Send as system.
    console.get_by_test_id("send-as-system").check()
    send_reply(console, "The session ends in 5 minutes.")
    console.get_by_test_id("send-as-system").uncheck()
    expect(p07.locator("[data-testid=message][data-kind=system]")).to_contain_text(
        "The session ends in 5 minutes."
    )

    # Wizard of Oz: the tester sees "Assistant is typing…" until the facilitator sends.
    console.get_by_test_id("typing-as-name").fill("Assistant")
    console.get_by_test_id("typing-as-name").press("Tab")
    console.get_by_test_id("typing-as-toggle").check()
    expect(p07.get_by_test_id("typing-line")).to_contain_text("Assistant is typing")

    # Canned replies (the server starts with a few): add one, send it with a click.
    canned = console.get_by_test_id("canned-reply")
    expect(canned.first).to_be_visible()
    before = canned.count()
    console.get_by_test_id("canned-input").fill("Thanks, that helps a lot!")
    console.get_by_test_id("canned-add").click()
    expect(canned).to_have_count(before + 1)
    mine = canned.filter(has_text="Thanks, that helps a lot!")
    mine.get_by_test_id("canned-send").click()
    expect(p07.get_by_test_id("message-text").last).to_have_text("Thanks, that helps a lot!")
    expect(p07.get_by_test_id("typing-line")).not_to_contain_text("Assistant")
    expect(console.get_by_test_id("typing-as-toggle")).not_to_be_checked()

    # The tester never saw the note.
    p07_texts = p07.get_by_test_id("message-text").all_text_contents()
    assert not any("footer" in text for text in p07_texts)
    assert p07.get_by_text("P07 looked for checkout").count() == 0

    # A signed link with its QR code.
    console.get_by_test_id("link-room").fill("study-P08")
    console.get_by_test_id("link-name").fill("P08")
    console.get_by_test_id("link-create").click()
    expect(console.get_by_test_id("link-url")).to_have_value(
        re.compile(rf"^{server.url}/r/study-P08\?token=")
    )
    qr = console.get_by_test_id("link-qr")
    expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")

    # Exports are plain links that the session cookie opens.
    for kind in ("csv-comma", "csv-semicolon", "json", "md"):
        href = console.get_by_test_id(f"export-{kind}").get_attribute("href")
        assert href is not None and href.startswith(f"/console/export/{ROOM}?format=")
        answer = console.request.get(server.url + href)
        assert answer.status == 200, (kind, answer.status)
    assert (
        "Try the menu"
        in console.request.get(f"{server.url}/console/export/{ROOM}?format=md").text()
    )

    console.screenshot(path=str(artifacts / "console-desktop.png"))
    assert page_errors.errors == []
    assert page_errors.dialogs == []


def test_phone_layout_and_a_dropped_connection(
    browser: Browser, server: RunningServer, page_errors: PageErrors, artifacts: Path
) -> None:
    p07 = open_tester(browser, server, page_errors)
    p07.get_by_test_id("composer-input").fill("Hi from my phone")
    p07.get_by_test_id("composer-input").press("Enter")

    context = browser.new_context(**PHONE)
    console = signed_in_console(context, server, page_errors)
    room = console.locator(f"[data-testid=console-room][data-room='{ROOM}']")
    expect(room.get_by_test_id("unread")).to_have_text("1")
    expect(console.get_by_test_id("reply")).to_be_hidden()
    console.screenshot(path=str(artifacts / "console-phone-rooms.png"))

    room.click()
    expect(console.get_by_test_id("room-list")).to_be_hidden()
    expect(console.get_by_test_id("message-text")).to_have_text(["Hi from my phone"])
    send_reply(console, "Hello P07, I am here.")
    expect(p07.get_by_test_id("message-text").last).to_have_text("Hello P07, I am here.")
    console.screenshot(path=str(artifacts / "console-phone-room.png"))

    console.get_by_test_id("tools-toggle").click()
    expect(console.get_by_test_id("tools")).to_be_visible()
    console.screenshot(path=str(artifacts / "console-phone-tools.png"))
    console.get_by_label("Close tools").click()
    console.get_by_test_id("back").click()
    expect(console.get_by_test_id("room-list")).to_be_visible()

    # The network drops: the console says so, then reconnects with a fresh ticket.
    context.set_offline(True)
    console.evaluate("window.roomcast.socket.io.engine.close()")
    expect(console.get_by_test_id("banner")).to_be_visible()
    expect(console.get_by_test_id("connection-status")).to_have_attribute(
        "data-status", "reconnecting"
    )
    p07.get_by_test_id("composer-input").fill("Are you still there?")
    p07.get_by_test_id("composer-input").press("Enter")
    context.set_offline(False)
    expect(console.get_by_test_id("banner")).to_be_hidden(timeout=20_000)
    expect(room.get_by_test_id("unread")).to_have_text("1")

    # Signing out leads back to the sign-in page.
    console.get_by_test_id("sign-out").click()
    expect(console.get_by_test_id("signin-form")).to_be_visible()
    assert page_errors.errors == []
