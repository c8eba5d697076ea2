"""``roomcast serve --site``: an exported prototype served at /site/ with the chat widget.

Requests go through ``http.client`` so that paths reach the server exactly as written
(``..`` and ``%2e%2e`` included); clients such as httpx would tidy them up first.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest
from tests.conftest import RunningServer
from tests.integration.test_signed_links import make_link, token_of

ServerFactory = Callable[..., RunningServer]

TAG = b'<script src="/widget.js" data-room="lab" defer></script>'


def make_prototype(folder: Path) -> Path:
    """A small export: linked pages, one with inline script and style, one without </body>."""
    (folder / "pages").mkdir(parents=True)
    (folder / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Start</title></head>"
        "<body><h1>Start</h1><a href='checkout.html'>Checkout</a>"
        "<a href='pages/'>More</a></body></html>\n",
        encoding="utf-8",
    )
    (folder / "checkout.html").write_text(
        "<!doctype html><html><head><title>Checkout</title>"
        "<style>h1 { color: rebeccapurple }</style></head>"
        "<body><h1 id='title'>Checkout</h1>"
        "<script>document.getElementById('title').dataset.ran = 'yes'</script>"
        "<a href='index.html'>Back</a></BODY></html>\n",
        encoding="utf-8",
    )
    (folder / "pages" / "index.html").write_text(
        "<!doctype html><title>More</title><p>No body end tag here.", encoding="utf-8"
    )
    (folder / "style.css").write_text("body { margin: 0 }\n", encoding="utf-8")
    return folder


def get(
    server: RunningServer, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one request, ``path`` sent verbatim."""
    where = urlparse(server.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    try:
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


@pytest.fixture
def prototype(tmp_path: Path) -> Path:
    return make_prototype(tmp_path / "export")


@pytest.fixture
def site_server(server_factory: ServerFactory, prototype: Path) -> RunningServer:
    return server_factory("--site", str(prototype))


def serve_fails(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMCAST_")}
    done = subprocess.run(
        [sys.executable, "-m", "roomcast", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    return done


def test_a_missing_site_folder_stops_the_start_naming_the_setting(tmp_path: Path) -> None:
    done = serve_fails(tmp_path, "--site", str(tmp_path / "nope"))
    assert "--site" in done.stderr
    assert "does not exist" in done.stderr


def test_a_site_that_is_a_file_stops_the_start_naming_the_setting(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>hi", encoding="utf-8")
    done = serve_fails(tmp_path, "--site", str(tmp_path / "page.html"))
    assert "--site" in done.stderr
    assert "is not a folder" in done.stderr


def test_a_bad_site_room_stops_the_start(tmp_path: Path, prototype: Path) -> None:
    done = serve_fails(tmp_path, "--site", str(prototype), "--site-room", "no room!")
    assert "--site-room" in done.stderr


def test_the_folder_index_and_pages_get_the_widget(
    site_server: RunningServer, prototype: Path
) -> None:
    status, headers, body = get(site_server, "/site/")
    assert status == 200
    assert headers["content-type"] == "text/html"  # the page's own <meta charset> decides
    assert body.count(TAG) == 1
    assert body.index(TAG) < body.index(b"</body>")
    assert body.replace(TAG, b"") == (prototype / "index.html").read_bytes()
    assert int(headers["content-length"]) == len(body)

    status, headers, body = get(site_server, "/site/checkout.html")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"  # no <meta charset>
    assert body.endswith(TAG + b"</BODY></html>\n")
    assert b"<script>document.getElementById" in body  # inline script kept as it was

    status, _, body = get(site_server, "/site/pages/")
    assert status == 200
    assert body.endswith(b"No body end tag here." + TAG)


def test_files_on_disk_are_never_changed(site_server: RunningServer, prototype: Path) -> None:
    before = {path: path.read_bytes() for path in prototype.rglob("*") if path.is_file()}
    for path in ("/site/", "/site/checkout.html", "/site/pages/", "/site/style.css"):
        assert get(site_server, path)[0] == 200
    after = {path: path.read_bytes() for path in prototype.rglob("*") if path.is_file()}
    assert after == before


def test_no_inject_serves_pages_as_they_are(server_factory: ServerFactory, prototype: Path) -> None:
    server = server_factory("--site", str(prototype), "--no-inject")
    for path, file in (("/site/", "index.html"), ("/site/checkout.html", "checkout.html")):
        status, headers, body = get(server, path)
        assert status == 200
        assert body == (prototype / file).read_bytes()
        assert b"widget.js" not in body
        assert "default-src 'self'" in headers["content-security-policy"]


def test_site_room_names_the_widget_room(server_factory: ServerFactory, prototype: Path) -> None:
    server = server_factory("--site", str(prototype), "--site-room", "study-1")
    assert b'data-room="study-1"' in get(server, "/site/")[2]


def test_injected_pages_send_a_csp_that_allows_only_this_server(
    site_server: RunningServer,
) -> None:
    _, headers, _ = get(site_server, "/site/checkout.html")
    policy = headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    # Inline scripts and styles of exported prototypes keep working...
    assert "'unsafe-inline'" in directives["default-src"]
    # ...but nothing is loaded from or sent to another origin.
    assert directives["connect-src"] == "'self'"
    for sources in directives.values():
        assert "*" not in sources.split()
        assert "http" not in sources
    assert headers["x-content-type-options"] == "nosniff"


def test_nothing_is_cached_and_an_edit_shows_on_the_next_request(
    site_server: RunningServer, prototype: Path
) -> None:
    for path in ("/site/checkout.html", "/site/style.css"):
        _, headers, _ = get(site_server, path)
        assert headers["cache-control"] == "no-store"
    (prototype / "checkout.html").write_text(
        "<html><body><h1>Checkout v2</h1></body></html>", encoding="utf-8"
    )
    (prototype / "style.css").write_text("body { margin: 4px }", encoding="utf-8")
    assert b"Checkout v2" in get(site_server, "/site/checkout.html")[2]
    assert get(site_server, "/site/style.css")[2] == b"body { margin: 4px }"


def test_other_files_keep_their_type(site_server: RunningServer) -> None:
    status, headers, body = get(site_server, "/site/style.css")
    assert status == 200
    assert headers["content-type"].startswith("text/css")
    assert body == b"body { margin: 0 }\n"
    assert "content-security-policy" not in headers


def test_folders_redirect_to_their_slash_keeping_the_query(site_server: RunningServer) -> None:
    status, headers, _ = get(site_server, "/site?token=abc.def")
    assert status == 307
    assert headers["location"] == "/site/?token=abc.def"
    status, headers, _ = get(site_server, "/site/pages?name=P07")
    assert status == 307
    assert headers["location"] == "/site/pages/?name=P07"


@pytest.mark.parametrize(
    "path",
    [
        "/site/../pyproject.toml",
        "/site/%2e%2e/secret.txt",
        "/site/%2E%2E/secret.txt",
        "/site/..%2fsecret.txt",
        "/site/..%2Fsecret.txt",
        "/site/pages/../../secret.txt",
        "/site/pages/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/site/..%5csecret.txt",
        "/site/%00index.html",
        "/site/outside.txt",
        "/site/outside-dir/secret.txt",
        "/site/missing.html",
    ],
)
def test_nothing_outside_the_folder_is_served(
    server_factory: ServerFactory, tmp_path: Path, path: str
) -> None:
    prototype = make_prototype(tmp_path / "lab" / "export")
    secret = tmp_path / "lab" / "secret.txt"
    secret.write_text("not for testers", encoding="utf-8")
    (prototype / "outside.txt").symlink_to(secret)
    (prototype / "outside-dir").symlink_to(secret.parent)
    server = server_factory("--site", str(prototype))
    status, _, body = get(server, path)
    assert status in (400, 403, 404)
    assert b"not for testers" not in body


def test_a_symlink_inside_the_folder_is_served(
    server_factory: ServerFactory, prototype: Path
) -> None:
    (prototype / "home.html").symlink_to(prototype / "index.html")
    server = server_factory("--site", str(prototype))
    status, _, body = get(server, "/site/home.html")
    assert status == 200
    assert TAG in body


def test_a_big_file_streams_with_its_length(site_server: RunningServer, prototype: Path) -> None:
    size = 50 * 1024 * 1024
    with (prototype / "video.mp4").open("wb") as file:
        file.truncate(size)  # sparse: no 50 MB written to the disk
    where = urlparse(site_server.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=60)
    try:
        connection.request("GET", "/site/video.mp4")
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("content-length") == str(size)
        assert response.getheader("content-type") == "video/mp4"
        received = 0
        while chunk := response.read(1024 * 1024):
            received += len(chunk)
        assert received == size
    finally:
        connection.close()
    status, headers, body = get(site_server, "/site/video.mp4", headers={"range": "bytes=0-9"})
    assert status == 206
    assert headers["content-range"] == f"bytes 0-9/{size}"
    assert body == bytes(10)


def test_a_big_html_page_streams_with_the_widget_at_its_end(
    site_server: RunningServer, prototype: Path
) -> None:
    page = b"<!doctype html><title>Big</title><body><p>" + b"x" * (9 * 1024 * 1024)
    (prototype / "big.html").write_bytes(page)
    status, headers, body = get(site_server, "/site/big.html")
    assert status == 200
    assert int(headers["content-length"]) == len(page) + len(TAG) == len(body)
    assert body == page + TAG


def test_a_link_can_open_a_page_of_the_site(site_server: RunningServer) -> None:
    link = make_link(site_server, "--room", "study-P07", "--name", "P07", "--page", "/site/")
    assert link.startswith(f"{site_server.url}/site/?token=")
    token = token_of(link)
    assert token == token_of(make_link(site_server, "--room", "study-P07", "--name", "P07"))
    status, _, body = get(site_server, link.removeprefix(site_server.url))
    assert status == 200
    assert TAG in body

    link = make_link(site_server, "--room", "r", "--name", "n", "--page", "/site/a.html?step=2#top")
    assert link.startswith(f"{site_server.url}/site/a.html?step=2&token=")
    assert link.endswith("#top")


@pytest.mark.parametrize("page", ["site/", "//evil.example/", "https://evil.example/"])
def test_a_link_page_must_be_a_path_of_the_server(tmp_path: Path, page: str) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "roomcast", "link", "--data-dir", str(tmp_path / "data")),
            *("--room", "r", "--name", "n", "--page", page),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--page" in done.stderr
    assert done.stdout == ""
