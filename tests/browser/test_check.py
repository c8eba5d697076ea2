"""The lab check page: a tester sees in words whether this device can hold the chat."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import DESKTOP, PHONE, PageErrors
from tests.conftest import RunningServer

pytestmark = pytest.mark.browser


def hide_for(page: Page, seconds: float) -> None:
    """Put the page in the background as switching tabs would, then bring it back."""
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", {value: true, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    page.wait_for_timeout(seconds * 1000)
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", {value: false, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )


@pytest.mark.parametrize(("device", "label"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_check_page_reports_websocket_speed_and_background(
    browser: Browser,
    server_factory: Callable[..., RunningServer],
    page_errors: PageErrors,
    artifacts: Path,
    device: dict[str, object],
    label: str,
) -> None:
    # Even a server that accepts only personal links lets a tester run the check.
    server = server_factory("--signed-links-only")
    page = page_errors.watch(browser.new_context(**device).new_page())
    page.goto(f"{server.url}/check")
    expect(page.locator("#websocket")).to_have_attribute("data-state", "ok")
    expect(page.locator("#transport")).to_have_text("websocket")
    expect(page.locator("#rtt")).to_have_attribute("data-state", "ok")
    expect(page.locator("#rtt .verdict")).to_contain_text("ms typical")
    hide_for(page, 4)
    expect(page.locator("#background")).to_have_attribute("data-state", "ok")
    expect(page.locator("#background .verdict")).to_contain_text("stayed up")
    page.screenshot(path=artifacts / f"check-{label}.png", full_page=True)
    assert page_errors.errors == []


def test_the_check_page_says_so_when_the_connection_drops_in_the_background(
    browser: Browser, server: RunningServer
) -> None:
    page = browser.new_context(**DESKTOP).new_page()
    page.goto(f"{server.url}/check")
    expect(page.locator("#rtt")).to_have_attribute("data-state", "ok")
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", {value: true, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
            window.roomcastCheck.socket.io.engine.close();
        }"""
    )
    page.wait_for_timeout(3500)
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", {value: false, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    expect(page.locator("#background")).to_have_attribute("data-state", "fail")
    expect(page.locator("#background .verdict")).to_contain_text("dropped")
