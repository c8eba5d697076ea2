"""Live pages in Chromium: data-live-* bindings on another site's page, the live view, demos."""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser.conftest import DESKTOP, PHONE, PageErrors
from tests.conftest import RunningServer
from tests.integration.test_http_api import make_key

from roomcast import Publisher

pytestmark = pytest.mark.browser

ServerFactory = Callable[..., RunningServer]

SITE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>My dashboard</title><link rel="icon" href="data:,">
<script src="{server}/live.js" defer></script></head>
<body>
  <p>Temperature: <span id="n" data-live-text="ticker.n" data-live-digits="1">…</span></p>
  <p>Note: <span id="note" data-live-text="ticker.note"></span></p>
  <img id="pic" data-live-src="ticker.image" alt="">
  <ul id="list" data-live-list="ticker.n" data-live-keep="3"></ul>
  <div id="state" data-live-class="ticker.state"></div>
  <p id="said" data-live-text="chat"></p>
  <div data-live-room="site.news"><b id="headline" data-live-text="title"></b></div>
</body></html>
"""


@pytest.fixture
def other_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain static site on another origin (another port): (its URL, its folder)."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}", folder
    finally:
        site.shutdown()
        site.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def open_page(browser: Browser, url: str, errors: PageErrors, viewport: dict[str, object]) -> Page:
    page = errors.watch(browser.new_context(**viewport).new_page())
    page.goto(url)
    return page


def test_a_page_on_another_site_follows_publishes_from_cli_http_and_threads(
    browser: Browser,
    server_factory: ServerFactory,
    other_site: tuple[str, Path],
    page_errors: PageErrors,
    artifacts: Path,
) -> None:
    site_url, folder = other_site
    server = server_factory("--origins", site_url)
    key = make_key(server)
    (folder / "index.html").write_text(SITE_PAGE.format(server=server.url), encoding="utf-8")
    page = open_page(browser, site_url + "/index.html", page_errors, DESKTOP)

    # From the shell.
    cli = subprocess.run(
        [sys.executable, "-m", "roomcast", "publish", "ticker", '{"n": 4.21, "state": "ok"}'],
        env={"PATH": "/usr/bin:/bin", "ROOMCAST_URL": server.url, "ROOMCAST_KEY": key},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    expect(page.locator("#n")).to_have_text("4.2")
    expect(page.locator("#state")).to_have_class("ok")

    # Over HTTP, as curl would.
    httpx.post(
        f"{server.url}/api/v1/rooms/ticker/messages",
        headers={"Authorization": f"Bearer {key}"},
        json={"data": {"n": 7, "state": "hot", "image": "/demo/cloud/running.svg"}},
    ).raise_for_status()
    expect(page.locator("#n")).to_have_text("7.0")
    expect(page.locator("#state")).to_have_class("hot")  # the previous class is gone
    expect(page.locator("#pic")).to_have_attribute("src", f"{server.url}/demo/cloud/running.svg")

    # From a plain thread of a Python program, as a Flask view or a Celery task would.
    with Publisher(server.url, key) as publisher:
        worker = threading.Thread(
            target=lambda: [
                publisher.publish("ticker", {"n": 9.96, "note": "<b>not html</b>"}),
                publisher.publish("ticker", {"n": 12}),
                publisher.publish("chat", text="a text message"),
                publisher.publish("site.news", {"title": "Dots in room names work"}),
            ]
        )
        worker.start()
        worker.join(30)
    expect(page.locator("#n")).to_have_text("12.0")
    expect(page.locator("#note")).to_have_text("<b>not html</b>")  # text, never HTML
    expect(page.locator("#list > li")).to_have_text(["12", "9.96", "7"])  # newest 3, first
    expect(page.locator("#said")).to_have_text("a text message")
    expect(page.locator("#headline")).to_have_text("Dots in room names work")
    page.screenshot(path=artifacts / "live-bindings-desktop.png")

    # A page opened late shows the last values at once.
    late = open_page(browser, site_url + "/index.html", page_errors, PHONE)
    expect(late.locator("#n")).to_have_text("12.0")
    expect(late.locator("#pic")).to_have_attribute("src", f"{server.url}/demo/cloud/running.svg")
    expect(late.locator("#list > li")).to_have_count(3)
    late.screenshot(path=artifacts / "live-bindings-phone.png")
    assert page_errors.errors == []


def test_a_page_from_an_origin_not_allowed_is_refused(
    browser: Browser, server: RunningServer, other_site: tuple[str, Path], page_errors: PageErrors
) -> None:
    site_url, folder = other_site
    (folder / "index.html").write_text(SITE_PAGE.format(server=server.url), encoding="utf-8")
    page = browser.new_page()
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text))
    page.goto(site_url + "/index.html")
    page.wait_for_function("() => window.RoomcastLive !== undefined")
    expect(page.locator("#n")).to_have_text("…")
    page.wait_for_timeout(500)
    assert not page.evaluate("window.RoomcastLive.socket.connected")


def test_the_live_view_shows_value_chart_picture_and_messages(
    browser: Browser, server: RunningServer, page_errors: PageErrors, artifacts: Path
) -> None:
    key = make_key(server)
    with Publisher(server.url, key) as publisher:
        for n in range(5):
            publisher.publish("sensors", {"temp": 20 + n, "load": {"cpu": n / 10}})
        page = open_page(browser, f"{server.url}/live/sensors", page_errors, DESKTOP)
        expect(page.locator(".status")).to_have_text("live")
        expect(page.locator("#last-value")).to_contain_text('"temp": 24')
        expect(page.locator("#messages > li")).to_have_count(5)
        expect(page.locator('[data-field="temp"]')).to_have_attribute("data-live-points", "5")
        expect(page.locator('[data-field="load.cpu"]')).to_have_attribute("data-live-points", "5")
        expect(page.locator(".picture")).to_be_hidden()
        publisher.publish("sensors", {"temp": 30, "image": "/demo/cloud/done.svg"})
        expect(page.locator('[data-field="temp"]')).to_have_attribute("data-live-points", "6")
        expect(page.locator(".picture")).to_have_attribute(
            "src", f"{server.url}/demo/cloud/done.svg"
        )
        expect(page.locator(".picture")).to_be_visible()
        page.screenshot(path=artifacts / "live-view-desktop.png", full_page=True)

    phone = open_page(browser, f"{server.url}/live/sensors", page_errors, PHONE)
    expect(phone.locator("#last-value")).to_contain_text('"temp": 30')
    expect(phone.locator("#messages > li")).to_have_count(6)
    expect(phone.locator(".picture")).to_be_visible()
    phone.screenshot(path=artifacts / "live-view-phone.png", full_page=True)
    assert page_errors.errors == []


def test_demo_numbers_keeps_the_last_ten_and_the_chart_grows(
    browser: Browser, server_factory: ServerFactory, page_errors: PageErrors, artifacts: Path
) -> None:
    server = server_factory("numbers", "--every", "0.1", command="demo")
    assert any("Demo:" in line and "/demo/numbers" in line for line in server.output)
    page = open_page(browser, f"{server.url}/demo/numbers", page_errors, PHONE)
    expect(page.locator("#last-ten > li")).to_have_count(10, timeout=15_000)
    page.wait_for_function(
        "() => Number(document.querySelector('#chart').dataset.livePoints) >= 20",
        timeout=15_000,
    )
    first = int(page.locator("#chart").get_attribute("data-live-points") or 0)
    page.wait_for_function(
        f"() => Number(document.querySelector('#chart').dataset.livePoints) > {first}"
        " || Number(document.querySelector('#chart').dataset.livePoints) === 60"
    )
    expect(page.locator("#last-ten > li")).to_have_count(10)
    newest = page.locator("#last-ten > li").first.text_content() or ""
    assert float(newest) == pytest.approx(float(newest), abs=0.01) and 0 <= float(newest) <= 100
    page.screenshot(path=artifacts / "demo-numbers-phone.png", full_page=True)
    # Members cannot post into the demo's feed.
    refused = httpx.get(f"{server.url}/api/v1/rooms/numbers").json()
    assert refused["policy"]["client_posts"] is False and refused["policy"]["keep_last"] == 1000
    assert page_errors.errors == []


def test_demo_cloud_swaps_pictures_with_the_state(
    browser: Browser, server_factory: ServerFactory, page_errors: PageErrors, artifacts: Path
) -> None:
    server = server_factory("cloud", command="demo")
    page = open_page(browser, f"{server.url}/demo/cloud", page_errors, DESKTOP)
    picture = page.locator("#picture")
    expect(picture).to_have_attribute("src", re.compile(r"/demo/cloud/\w+\.svg$"))
    # The first state seen: idle, unless a loaded machine was slow to open the page.
    first = (picture.get_attribute("src") or "").rsplit("/", 1)[-1].removesuffix(".svg")
    expect(page.locator("#cloud")).to_have_class(f"card cloud {first}")
    # The queue moves on within a few seconds; picture, text and class follow together.
    page.wait_for_function(
        f"() => !document.querySelector('#picture').src.endsWith('/{first}.svg')",
        timeout=15_000,
    )
    state = page.locator("#state").text_content() or ""
    assert state in {"queued", "running", "done", "failed", "idle"}
    src = picture.get_attribute("src") or ""
    assert src.endswith(f"/{state}.svg") or page.locator("#state").text_content() != state
    loaded = page.evaluate("document.querySelector('#picture').naturalWidth")
    assert loaded > 0  # the SVG drawn by the server really loads
    page.screenshot(path=artifacts / "demo-cloud-desktop.png")
    assert page_errors.errors == []
