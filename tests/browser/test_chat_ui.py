"""The chat page as people use it: two browsers chatting, on a phone and a desktop."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import DESKTOP, PHONE, PageErrors
from tests.conftest import RunningServer

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


def open_room(
    browser: Browser,
    server: RunningServer,
    room: str,
    name: str,
    viewport: dict[str, object],
    errors: PageErrors,
) -> Page:
    page = errors.watch(browser.new_context(**viewport).new_page())
    page.goto(f"{server.url}/r/{room}?name={quote(name)}")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-status", "connected")
    return page


def send(page: Page, text: str) -> None:
    page.get_by_test_id("composer-input").fill(text)
    page.get_by_test_id("composer-input").press("Enter")


def texts(page: Page) -> list[str]:
    return page.get_by_test_id("message-text").all_text_contents()


def test_lobby_leads_to_the_room(
    browser: Browser, server: RunningServer, page_errors: PageErrors
) -> None:
    page = page_errors.watch(browser.new_context(**DESKTOP).new_page())
    page.goto(server.url + "/")
    page.get_by_test_id("lobby-name").fill("Ada")
    page.get_by_test_id("lobby-room").fill("bad room!")
    page.get_by_test_id("lobby-join").click()
    assert "/r/" not in page.url  # refused with a message, not navigated
    page.get_by_test_id("lobby-room").fill("sales")
    page.get_by_test_id("lobby-join").click()
    page.wait_for_url("**/r/sales?name=Ada")
    expect(page.get_by_test_id("room-title")).to_contain_text("sales")
    assert page_errors.errors == []


def test_two_pages_chat_with_presence_typing_and_safe_text(
    browser: Browser, server: RunningServer, page_errors: PageErrors, artifacts: Path
) -> None:
    ada = open_room(browser, server, "sales", "Ada", PHONE, page_errors)
    bob = open_room(browser, server, "sales", "Bob", DESKTOP, page_errors)

    expect(bob.locator("[data-testid=member][data-state=online]")).to_have_count(2)
    send(ada, "Hello Bob, see https://example.com/a?b=1")
    send(bob, XSS)
    expect(ada.get_by_test_id("message")).to_have_count(2)
    expect(bob.get_by_test_id("message")).to_have_count(2)

    # Own bubbles on the right, others' on the left with the sender's name.
    ada_bubbles = ada.get_by_test_id("message")
    expect(ada_bubbles.nth(0)).to_have_attribute("data-own", "true")
    expect(ada_bubbles.nth(1)).to_have_attribute("data-own", "false")
    expect(bob.get_by_test_id("message").nth(0)).to_have_attribute("data-own", "false")
    own_box = ada_bubbles.nth(0).bounding_box()
    other_box = ada_bubbles.nth(1).bounding_box()
    assert own_box and other_box
    assert own_box["x"] + own_box["width"] > other_box["x"] + other_box["width"]
    assert "Bob" in ada.get_by_test_id("message-sender").all_text_contents()

    # The XSS message is shown as the characters typed, and nothing ran.
    assert texts(ada)[1] == XSS
    assert ada.locator("[data-testid=message-text] img").count() == 0
    link = ada.locator("[data-testid=message-text] a").first
    expect(link).to_have_attribute("href", "https://example.com/a?b=1")
    expect(link).to_have_attribute("rel", "noopener noreferrer")

    # Typing appears, then goes when Bob sends.
    bob.get_by_test_id("composer-input").press_sequentially("typing now")
    expect(ada.get_by_test_id("typing-line")).to_contain_text("Bob")
    ada.screenshot(path=str(artifacts / "chat-phone.png"))
    bob.screenshot(path=str(artifacts / "chat-desktop.png"))
    bob.get_by_test_id("composer-input").press("Enter")
    expect(ada.get_by_test_id("typing-line")).not_to_contain_text("Bob")

    # Presence: Bob leaves, Ada sees him offline.
    bob.context.close()
    expect(ada.locator("[data-testid=member][data-state=offline]")).to_have_count(1)
    assert page_errors.dialogs == []
    assert page_errors.errors == []


def test_offline_page_catches_up_and_sends_its_queue_once(
    browser: Browser, server: RunningServer, page_errors: PageErrors, artifacts: Path
) -> None:
    ada = open_room(browser, server, "cut", "Ada", DESKTOP, page_errors)
    bob = open_room(browser, server, "cut", "Bob", PHONE, page_errors)
    send(bob, "before the cut")
    expect(ada.get_by_test_id("message")).to_have_count(1)

    # Ada's network goes away; the page says so and keeps what she types.
    ada.context.set_offline(True)
    ada.evaluate("window.roomcast.socket.io.engine.close()")
    expect(ada.get_by_test_id("banner")).to_be_visible()
    send(ada, "typed while offline")
    expect(ada.locator('[data-testid=message][data-pending="true"]')).to_have_count(1)
    for i in range(3):
        send(bob, f"missed {i}")
    expect(bob.get_by_test_id("message")).to_have_count(4)
    ada.screenshot(path=str(artifacts / "offline-desktop.png"))

    ada.context.set_offline(False)
    expect(ada.get_by_test_id("banner")).to_be_hidden(timeout=20_000)
    expect(ada.locator('[data-testid=message][data-pending="true"]')).to_have_count(0)
    expected = ["before the cut", "missed 0", "missed 1", "missed 2", "typed while offline"]
    expect(ada.get_by_test_id("message-text")).to_have_text(expected)
    expect(bob.get_by_test_id("message-text")).to_have_text(expected)
    offsets = ada.get_by_test_id("message").evaluate_all("els => els.map(e => +e.dataset.offset)")
    assert offsets == [1, 2, 3, 4, 5]
    assert page_errors.errors == []


def test_history_is_there_after_a_restart(
    browser: Browser, server: RunningServer, page_errors: PageErrors
) -> None:
    ada = open_room(browser, server, "keep", "Ada", DESKTOP, page_errors)
    send(ada, "kept across restarts")
    expect(ada.locator('[data-testid=message][data-pending="true"]')).to_have_count(0)
    ada.context.close()
    server.restart()
    again = open_room(browser, server, "keep", "Ada", DESKTOP, page_errors)
    expect(again.get_by_test_id("message-text")).to_have_text(["kept across restarts"])


def test_phone_viewport_screenshot(
    browser: Browser, server: RunningServer, page_errors: PageErrors, artifacts: Path
) -> None:
    ada = open_room(browser, server, "phone", "Ada", PHONE, page_errors)
    send(ada, "How does this look on a phone?")
    expect(ada.get_by_test_id("message")).to_have_count(1)
    ada.get_by_test_id("members-toggle").click()
    expect(ada.get_by_test_id("member")).to_have_count(1)
    path = artifacts / "room-phone-members.png"
    ada.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    width = ada.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows sideways on a phone


# A WebSocket that fails as one refused by a proxy does: an error, then a close.
BLOCKED_WEBSOCKET = """
window.WebSocket = class {
  constructor() {
    this.readyState = 0;
    setTimeout(() => {
      this.readyState = 3;
      if (this.onerror) this.onerror(new Event("error"));
      if (this.onclose) this.onclose({ code: 1006, reason: "" });
    }, 10);
  }
  send() {}
  close() {}
};
"""


def test_websocket_first_and_long_polling_when_websocket_fails(
    browser: Browser, server: RunningServer, page_errors: PageErrors
) -> None:
    # WebSocket from the first request: no polling request that a non-sticky balancer
    # could send to another node.
    ada = open_room(browser, server, "transports", "Ada", DESKTOP, page_errors)
    assert ada.evaluate("window.roomcast.socket.io.engine.transport.name") == "websocket"
    polled = ada.evaluate(
        "performance.getEntriesByType('resource').filter(e => e.name.includes('polling')).length"
    )
    assert polled == 0
    # A browser (or proxy) where WebSocket fails falls back to long-polling.
    context = browser.new_context(**DESKTOP)
    context.add_init_script(BLOCKED_WEBSOCKET)
    bob = page_errors.watch(context.new_page())
    bob.goto(f"{server.url}/r/transports?name=Bob")
    expect(bob.get_by_test_id("connection-status")).to_have_attribute("data-status", "connected")
    assert bob.evaluate("window.roomcast.socket.io.engine.transport.name") == "polling"
    send(bob, "sent by long-polling")
    expect(ada.get_by_test_id("message-text").last).to_have_text("sent by long-polling")
    assert page_errors.errors == []
