"""A whole lab session in Chromium: a served prototype with its chat button, a tester on a
signed link, the facilitator in the console, prototype steps on the timeline, the export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect
from tests.browser.conftest import DESKTOP, PHONE, PageErrors
from tests.browser.test_console import PASSWORD, signed_in_console
from tests.browser.test_widget import connected, make_prototype, send
from tests.conftest import RunningServer
from tests.integration.test_signed_links import make_link

from roomcast.console_auth import ConsoleAuth
from roomcast.links import link_secret

pytestmark = pytest.mark.browser

ROOM = "study-P07"


def test_a_lab_session_from_link_to_transcript(
    browser: Browser,
    server_factory: Callable[..., RunningServer],
    tmp_path: Path,
    page_errors: PageErrors,
    artifacts: Path,
) -> None:
    data_dir = tmp_path / "data"
    ConsoleAuth(data_dir, lambda: link_secret(data_dir)).set_password(PASSWORD)
    server = server_factory(
        "--site", str(make_prototype(tmp_path / "export")), "--signed-links-only",
        data_dir=data_dir,
    )  # fmt: skip
    console = signed_in_console(browser.new_context(**DESKTOP), server, page_errors)
    link = make_link(server, "--room", ROOM, "--name", "P07", "--page", "/site/")

    tester = page_errors.watch(browser.new_context(**PHONE).new_page())
    tester.goto(link)
    tester.get_by_test_id("widget-button").click()
    connected(tester)
    expect(tester.get_by_test_id("widget-title")).to_have_text("Chat — P07")
    send(tester, "I can't find the checkout")

    room = console.locator(f"[data-testid=console-room][data-room='{ROOM}']")
    expect(room.get_by_test_id("unread")).to_have_text("1")
    room.click()
    expect(console.get_by_test_id("message-text")).to_have_text(["I can't find the checkout"])
    console.get_by_test_id("reply-input").fill("It's the link at the top.")
    console.get_by_test_id("reply-send").click()
    expect(tester.get_by_test_id("message-text").last).to_have_text("It's the link at the top.")

    # The tester moves on in the prototype: same conversation, and the step is recorded.
    tester.get_by_test_id("widget-close").click()
    tester.locator("#next").click()
    tester.wait_for_url("**/site/checkout.html*")
    connected(tester)
    tester.evaluate("Roomcast.track('checkout-reached', {from: 'home'})")
    tester.get_by_test_id("widget-button").click()
    expect(tester.get_by_test_id("message-text")).to_have_text(
        ["I can't find the checkout", "It's the link at the top."]
    )
    steps = console.locator("[data-testid=timeline-event][data-kind=step]")
    expect(steps.filter(has_text="checkout-reached")).to_have_count(1)
    # The first page's own track('home') in its DOMContentLoaded handler.
    expect(steps.filter(has_text="reached step “home”")).to_have_count(1)
    console.get_by_test_id("reply-input").fill("found it after the hint")
    console.get_by_test_id("add-note").click()
    expect(console.get_by_test_id("note-text")).to_have_text(["found it after the hint"])
    console.screenshot(path=artifacts / "lab-session-console.png")
    tester.screenshot(path=artifacts / "lab-session-tester-phone.png")
    assert page_errors.errors == []

    # Afterwards: the export the console links to, read back as a spreadsheet app would.
    href = console.get_by_test_id("export-csv-semicolon").get_attribute("href")
    assert href is not None
    cookies = {c["name"]: c["value"] for c in console.context.cookies()}
    got = httpx.get(
        server.url + href,
        headers={"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
        timeout=10,
    )
    assert got.status_code == 200, got.text
    rows = list(csv.DictReader(io.StringIO(got.content.decode("utf-8-sig")), delimiter=";"))
    kinds = [(row["kind"], row["text"]) for row in rows if row["kind"] in ("text", "step", "note")]
    assert ("text", "I can't find the checkout") in kinds
    assert ("text", "It's the link at the top.") in kinds
    assert ("step", "checkout-reached") in kinds
    assert ("note", "found it after the hint") in kinds
    assert {row["name"] for row in rows if row["kind"] == "join"} == {"P07"}
