"""A tester opens a personal link on a phone: in the room under that name, with no typing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from tests.browser.conftest import PHONE, PageErrors
from tests.conftest import RunningServer
from tests.integration.test_signed_links import make_link

pytestmark = pytest.mark.browser


def test_a_signed_link_opens_the_room_as_its_name_and_a_changed_one_says_why(
    browser: Browser,
    server_factory: Callable[..., RunningServer],
    page_errors: PageErrors,
    artifacts: Path,
) -> None:
    server = server_factory("--signed-links-only")
    link = make_link(server, "--room", "study-P07", "--name", "P07")
    page = page_errors.watch(browser.new_context(**PHONE).new_page())
    page.goto(link)
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-status", "connected")
    expect(page.get_by_test_id("room-title")).to_contain_text("study-P07")
    page.get_by_test_id("composer-input").fill("hello from the lab")
    page.get_by_test_id("composer-input").press("Enter")
    expect(page.get_by_test_id("message-text")).to_have_text(["hello from the lab"])
    page.screenshot(path=artifacts / "signed-link-phone.png")
    assert page_errors.errors == []

    changed = browser.new_context(**PHONE).new_page()
    changed.goto(link[:-6] + "AAAAAA")
    expect(changed.get_by_test_id("banner")).to_contain_text("This link is not valid")
    # Another name would not help: the tester is told whom to ask instead.
    expect(changed.get_by_test_id("banner-action")).to_be_hidden()
    name_only = browser.new_context(**PHONE).new_page()
    name_only.goto(f"{server.url}/r/study-P07?name=P07")
    expect(name_only.get_by_test_id("banner")).to_contain_text("only personal links")
    name_only.screenshot(path=artifacts / "signed-links-only-refused-phone.png")
