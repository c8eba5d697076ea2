"""The chat widget on a served prototype, as a tester and a facilitator use it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import DESKTOP, PHONE, PageErrors
from tests.conftest import RunningServer
from tests.integration.chat_client import ChatClient
from tests.integration.test_http_api import make_key
from tests.integration.test_signed_links import make_link

pytestmark = pytest.mark.browser

ServerFactory = Callable[..., RunningServer]
XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"
# Records CSP violations and the widget's postMessage events before any page script runs.
WATCH = """
window.__csp = [];
window.__posted = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__csp.push(e.violatedDirective + " " + e.blockedURI));
window.addEventListener("message", (e) => {
  if (e.data && e.data.source === "roomcast") window.__posted.push(e.data);
});
"""
HEAD = "<meta charset='utf-8'><link rel='icon' href='data:,'>"


def make_prototype(folder: Path) -> Path:
    """Linked pages: hostile CSS and inline code on one, no </body> on another."""
    folder.mkdir()
    (folder / "index.html").write_text(
        f"<!doctype html><html><head>{HEAD}<title>Shop</title>"
        "<style>* { color: red !important; font-size: 40px } button { display: none }"
        " div { position: relative; z-index: 1 }</style></head>"
        "<body><h1>Shop</h1><a id='next' href='checkout.html'>Checkout</a>"
        "<button>Buy (hidden by the page)</button>"
        "<script>document.addEventListener('DOMContentLoaded', () =>"
        " { Roomcast.track('home', {visits: 1}); document.body.dataset.ready = 'yes' })</script>"
        "</body></html>",
        encoding="utf-8",
    )
    (folder / "checkout.html").write_text(
        f"<!doctype html><html><head>{HEAD}<meta name='viewport' "
        "content='width=device-width'><title>Checkout</title></head>"
        "<body><h1>Checkout</h1><a id='back' href='index.html'>Back</a></body></html>",
        encoding="utf-8",
    )
    (folder / "done.html").write_text(
        f"<!doctype html>{HEAD}<title>Done</title><p>Thanks! No body end tag here.",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def site(server_factory: ServerFactory, tmp_path: Path) -> RunningServer:
    return server_factory("--site", str(make_prototype(tmp_path / "export")))


@pytest.fixture
def facilitator(site: RunningServer) -> Iterator[ChatClient]:
    client = ChatClient(site.url, "Facilitator")
    assert client.call("join", {"room": "lab"})["ok"]
    yield client
    client.close()


def open_page(browser: Browser, viewport: dict[str, object], url: str, errors: PageErrors) -> Page:
    context = browser.new_context(**viewport)
    context.add_init_script(WATCH)
    page = errors.watch(context.new_page())
    page.goto(url)
    expect(page.get_by_test_id("widget-button")).to_be_visible()
    return page


def send(page: Page, text: str) -> None:
    page.get_by_test_id("composer-input").fill(text)
    page.get_by_test_id("composer-input").press("Enter")


def connected(page: Page) -> None:
    expect(page.get_by_test_id("widget-status")).to_have_attribute("data-status", "connected")


def assert_clean(page: Page, errors: PageErrors) -> None:
    assert errors.errors == []
    assert errors.dialogs == []
    assert page.evaluate("window.__csp") == []


def test_the_button_opens_a_side_panel_on_a_desktop(
    browser: Browser, site: RunningServer, page_errors: PageErrors, artifacts: Path
) -> None:
    page = open_page(browser, DESKTOP, f"{site.url}/site/?name=Dana", page_errors)
    expect(page.get_by_test_id("widget-panel")).to_be_hidden()
    page.get_by_test_id("widget-button").click()
    panel = page.get_by_test_id("widget-panel")
    expect(panel).to_be_visible()
    connected(page)
    expect(page.get_by_test_id("widget-title")).to_have_text("Chat — Dana")
    box = panel.bounding_box()
    assert box is not None
    assert box["x"] + box["width"] == pytest.approx(1280, abs=1)  # docked on the right
    assert 300 <= box["width"] <= 420
    assert box["height"] == pytest.approx(800, abs=1)
    # The page's hostile CSS does not reach in: sizes and colours are the widget's own.
    composer = page.get_by_test_id("composer-input")
    assert composer.evaluate("e => getComputedStyle(e).fontSize") == "16px"
    send(page, "Hello from the desktop")
    bubble = page.get_by_test_id("message").last
    expect(bubble).to_have_attribute("data-own", "true")
    colour = bubble.locator(".msg__bubble").evaluate("e => getComputedStyle(e).color")
    assert colour == "rgb(255, 255, 255)"
    expect(bubble.locator("[data-testid=message-time]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    page.screenshot(path=artifacts / "widget-desktop-open.png")
    page.get_by_test_id("widget-close").click()
    expect(panel).to_be_hidden()
    # postMessage delivers on a later task: wait for the close event to land.
    page.wait_for_function("window.__posted.length >= 3")
    posted = page.evaluate("window.__posted")
    assert [p["type"] for p in posted] == ["open", "message", "close"]
    assert posted[1]["message"]["text"] == "Hello from the desktop"
    assert_clean(page, page_errors)

    # Open or closed, the panel stays as it was on the prototype's next page.
    page.get_by_test_id("widget-button").click()
    page.locator("#next").click()  # the side panel leaves the page usable
    page.wait_for_url("**/site/checkout.html")
    expect(page.get_by_test_id("widget-panel")).to_be_visible()
    connected(page)
    expect(page.get_by_test_id("message-text")).to_have_text(["Hello from the desktop"])
    page.get_by_test_id("widget-close").click()
    page.locator("#back").click()
    page.wait_for_url("**/site/index.html")
    connected(page)
    expect(page.get_by_test_id("widget-panel")).to_be_hidden()
    assert_clean(page, page_errors)


@pytest.mark.parametrize("path", ["/site/", "/site/checkout.html"])
def test_the_panel_covers_a_phone_screen(
    browser: Browser,
    site: RunningServer,
    page_errors: PageErrors,
    artifacts: Path,
    path: str,
) -> None:
    # index.html has no viewport meta (laid out 980px wide), checkout.html has one.
    page = open_page(browser, PHONE, f"{site.url}{path}?name=Pia", page_errors)
    button = page.get_by_test_id("widget-button").bounding_box()
    assert button is not None
    assert button["x"] + button["width"] > 300  # bottom right, on screen
    page.get_by_test_id("widget-button").click()
    connected(page)
    send(page, "Hi from my phone")
    expect(page.get_by_test_id("message-text")).to_have_text(["Hi from my phone"])
    rect = page.get_by_test_id("widget-panel").evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return [r.width, r.height, innerWidth, innerHeight] }"
    )
    width, height, inner_width, inner_height = rect
    assert width == pytest.approx(inner_width, abs=2)
    assert height == pytest.approx(inner_height, abs=2)
    name = "widget-phone-open.png" if path == "/site/" else "widget-phone-open-viewport.png"
    page.screenshot(path=artifacts / name)
    assert_clean(page, page_errors)


def test_tester_and_facilitator_chat_and_the_chat_follows_the_tester(
    browser: Browser,
    site: RunningServer,
    facilitator: ChatClient,
    page_errors: PageErrors,
    artifacts: Path,
) -> None:
    page = open_page(browser, PHONE, f"{site.url}/site/?name=P07", page_errors)
    page.get_by_test_id("widget-button").click()
    connected(page)
    send(page, XSS)
    facilitator.wait_for(lambda: any(m["text"] == XSS for m in facilitator.messages("lab")))
    sent = next(m for m in facilitator.messages("lab") if m["text"] == XSS)
    assert sent["sender"]["name"] == "P07"

    assert facilitator.send("lab", "Welcome! <b>Try</b> the checkout.")["ok"]
    replies = page.get_by_test_id("message")
    expect(replies).to_have_count(2)
    expect(replies.nth(1)).to_have_attribute("data-own", "false")
    expect(replies.nth(1).get_by_test_id("message-sender")).to_have_text("Facilitator")
    expect(page.get_by_test_id("message-text")).to_have_text(
        [XSS, "Welcome! <b>Try</b> the checkout."]
    )
    assert page.locator("roomcast-widget img, roomcast-widget b").count() == 0
    page.wait_for_function(
        "window.__posted.some(p => p.message && p.message.text.startsWith('Welcome!'))"
    )
    posted = page.evaluate("window.__posted")
    assert posted[-1]["type"] == "message"
    assert posted[-1]["message"]["text"] == "Welcome! <b>Try</b> the checkout."

    # The next page of the prototype has no ?name=: same person, same conversation.
    page.get_by_test_id("widget-close").click()  # the panel covers the phone's screen
    page.locator("#next").click()
    page.wait_for_url("**/site/checkout.html")
    connected(page)
    expect(page.get_by_test_id("widget-panel")).to_be_hidden()
    page.get_by_test_id("widget-button").click()
    expect(page.get_by_test_id("widget-title")).to_have_text("Chat — P07")
    expect(page.get_by_test_id("message-text")).to_have_text(
        [XSS, "Welcome! <b>Try</b> the checkout."]
    )
    send(page, "On the checkout page now")
    facilitator.wait_for(
        lambda: any(m["text"] == "On the checkout page now" for m in facilitator.messages("lab"))
    )
    names = {m["sender"]["name"] for m in facilitator.messages("lab") if m["sender"]}
    assert names == {"P07", "Facilitator"}
    page.screenshot(path=artifacts / "widget-phone-after-navigation.png")

    page.goto(f"{site.url}/site/done.html")  # a page without </body>
    connected(page)
    expect(page.get_by_test_id("message")).to_have_count(3)
    assert_clean(page, page_errors)


def test_messages_while_closed_show_an_unread_badge(
    browser: Browser,
    site: RunningServer,
    facilitator: ChatClient,
    page_errors: PageErrors,
    artifacts: Path,
) -> None:
    page = open_page(browser, DESKTOP, f"{site.url}/site/?name=Uma", page_errors)
    expect(page.locator("body[data-ready=yes]")).to_have_count(1)
    page.wait_for_function("window.Roomcast && window.Roomcast.server")
    page.evaluate(
        "window.__seen = []; void Roomcast.on('message', (m) => window.__seen.push(m.text))"
    )
    badge = page.get_by_test_id("widget-badge")
    expect(badge).to_be_hidden()
    page.wait_for_timeout(300)  # joined, with nothing unread
    facilitator.send("lab", "Are you there?")
    facilitator.send("lab", "Take your time.")
    expect(badge).to_have_text("2")
    expect(badge).to_be_visible()
    assert page.evaluate("window.__seen") == ["Are you there?", "Take your time."]
    page.screenshot(path=artifacts / "widget-button-badge.png")
    page.get_by_test_id("widget-button").screenshot(path=artifacts / "widget-button-badge-zoom.png")

    # A command by postMessage opens the panel; what was shown is now read.
    page.evaluate("window.postMessage({roomcast: 'open'}, location.origin)")
    expect(page.get_by_test_id("widget-panel")).to_be_visible()
    expect(badge).to_be_hidden()
    page.evaluate("Roomcast.close()")
    expect(page.get_by_test_id("widget-panel")).to_be_hidden()
    page.reload()
    connected(page)
    page.wait_for_timeout(300)
    expect(badge).to_be_hidden()  # read on the server: not unread again on the next page
    facilitator.send("lab", "One more thing")
    expect(badge).to_have_text("1")
    assert_clean(page, page_errors)


def test_without_a_name_the_panel_asks_for_one(
    browser: Browser, site: RunningServer, facilitator: ChatClient, page_errors: PageErrors
) -> None:
    page = open_page(browser, PHONE, f"{site.url}/site/", page_errors)
    page.get_by_test_id("widget-button").click()
    page.get_by_test_id("widget-name").fill("  Sam   Lee ")
    page.get_by_test_id("widget-join").click()
    connected(page)
    expect(page.get_by_test_id("widget-title")).to_have_text("Chat — Sam Lee")
    send(page, "named")
    facilitator.wait_for(lambda: any(m["text"] == "named" for m in facilitator.messages("lab")))
    page.get_by_test_id("widget-close").click()
    page.locator("#next").click()
    connected(page)
    expect(page.get_by_test_id("widget-title")).to_have_text("Chat — Sam Lee")
    expect(page.get_by_test_id("widget-name-form")).to_be_hidden()
    assert_clean(page, page_errors)


def test_a_signed_link_opens_as_its_name_and_a_bad_one_says_why(
    browser: Browser,
    server_factory: ServerFactory,
    tmp_path: Path,
    page_errors: PageErrors,
    artifacts: Path,
) -> None:
    server = server_factory(
        "--site", str(make_prototype(tmp_path / "export")), "--signed-links-only"
    )
    link = make_link(
        server, "--room", "study-P07", "--name", "P07", "--page", "/site/checkout.html"
    )
    page = open_page(browser, DESKTOP, link, page_errors)
    page.get_by_test_id("widget-button").click()
    connected(page)
    expect(page.get_by_test_id("widget-title")).to_have_text("Chat — P07")
    send(page, "signed hello")
    expect(page.get_by_test_id("message")).to_have_attribute("data-own", "true")
    page.locator("#back").click()  # index.html: no token in the address
    page.wait_for_url("**/site/index.html")
    connected(page)
    expect(page.get_by_test_id("widget-title")).to_have_text("Chat — P07")
    expect(page.get_by_test_id("message-text")).to_have_text(["signed hello"])
    assert_clean(page, page_errors)

    changed = open_page(browser, PHONE, link[:-6] + "AAAAAA", PageErrors())
    changed.get_by_test_id("widget-button").click()
    expect(changed.get_by_test_id("widget-notice")).to_contain_text("This link is not valid")
    expect(changed.get_by_test_id("composer-input")).to_be_hidden()
    changed.screenshot(path=artifacts / "widget-phone-bad-link.png")
    name_only = open_page(browser, PHONE, f"{server.url}/site/?name=P07", PageErrors())
    name_only.get_by_test_id("widget-button").click()
    expect(name_only.get_by_test_id("widget-notice")).to_contain_text("only personal links")


def test_steps_reported_by_the_prototype_reach_the_timeline(
    browser: Browser, site: RunningServer, page_errors: PageErrors
) -> None:
    key = make_key(site, "lab-export")
    page = open_page(browser, DESKTOP, f"{site.url}/site/?name=Tia", page_errors)
    connected(page)  # index.html reports "home" on DOMContentLoaded, before the connection
    page.evaluate("Roomcast.track('by-api', {n: 2})")
    page.evaluate(
        "window.postMessage({roomcast: 'track', step: 'by-message', data: {n: 3}}, location.origin)"
    )

    def steps() -> list[str]:
        response = httpx.get(
            f"{site.url}/api/v1/rooms/lab/transcript",
            params={"format": "md"},
            headers={"authorization": f"Bearer {key}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return [s for s in ("home", "by-api", "by-message") if s in response.text]

    deadline = time.monotonic() + 10
    while steps() != ["home", "by-api", "by-message"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert steps() == ["home", "by-api", "by-message"]
    assert_clean(page, page_errors)
