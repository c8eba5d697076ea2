"""The Python Client and the web chat page in Chromium, talking to each other."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from tests.browser.conftest import DESKTOP, PageErrors, browser, page_errors
from tests.browser.test_chat_ui import open_room, send
from tests.conftest import RunningServer

from roomcast import Client

from .conftest import TIMEOUT

pytestmark = pytest.mark.browser
__all__ = ["browser", "page_errors"]  # fixtures, shared with tests/browser


def test_a_python_client_and_a_page_chat(
    browser: Browser, server: RunningServer, page_errors: PageErrors
) -> None:
    page = open_room(browser, server, "mixed", "Ada", DESKTOP, page_errors)
    with Client(server.url, "Bot") as bot:
        bot.join("mixed")
        expect(page.locator("[data-testid=member][data-state=online]")).to_have_count(2)

        sent = bot.send("mixed", "hello from Python")
        expect(page.get_by_test_id("message-text")).to_have_text(["hello from Python"])
        expect(page.get_by_test_id("message")).to_have_attribute("data-offset", str(sent["offset"]))

        send(page, "hello from Chromium")
        from_page = (
            m for m in bot.messages("mixed", timeout=TIMEOUT) if m["sender"]["name"] == "Ada"
        )
        received = next(from_page, None)  # the Bot's own message comes back first
        assert received is not None
        assert received["text"] == "hello from Chromium"

    expect(page.locator("[data-testid=member][data-state=offline]")).to_have_count(1)
    assert page_errors.errors == []
