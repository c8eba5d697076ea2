"""``/site/``: a folder of exported prototype pages, served as it is on disk, with the chat
widget added to every HTML page on its way out (the files themselves are never changed).

A usability lab edits the prototype between sessions, so nothing is cached: every reload
shows the file as it is now. Only files inside the folder are served: ``..`` segments
(however they were encoded) and symbolic links that lead outside are answered 404.
"""

from __future__ import annotations

import html
import mimetypes
import re
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from roomcast.core.errors import ConfigError

__all__ = ["SITE_CSP", "SITE_PREFIX", "SiteFolder", "site_routes", "widget_tag"]

SITE_PREFIX = "/site"

# Exported prototypes (Axure, Figma, hand-made) rely on inline scripts and styles and
# sometimes eval, so those stay allowed; everything must come from this server, though:
# no request leaves for another origin, which keeps a lab working offline and keeps what
# testers type from reaching third parties. docs/howto/usability-lab.md explains the choice.
SITE_CSP = (
    "default-src 'self' 'unsafe-inline' 'unsafe-eval' data: blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)

# HTML files up to this size are read and the widget is put before </body>; a larger one
# is streamed with the widget appended after its last byte, which browsers also accept.
_INJECT_IN_MEMORY = 8 * 1024 * 1024
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"<meta[^>]+charset", re.IGNORECASE)
_HTML_TYPES = frozenset({"text/html"})
_NO_CACHE = {"cache-control": "no-store", "x-content-type-options": "nosniff"}
_NOT_FOUND = "<!doctype html><title>Not found</title><p>No such page in this prototype.</p>"


def widget_tag(room: str) -> bytes:
    """The script element added to each page: the widget, in ``room`` unless a link says."""
    return (
        f'<script src="/widget.js" data-room="{html.escape(room, quote=True)}" defer></script>'
    ).encode("ascii")


def inject(page: bytes, tag: bytes) -> bytes:
    """``page`` with ``tag`` before its last ``</body>``, or at its end when there is none."""
    ends = [match.start() for match in _BODY_END.finditer(page)]
    if not ends:
        return page + tag
    return page[: ends[-1]] + tag + page[ends[-1] :]


class SiteFolder:
    """The folder that ``--site`` names; maps URL paths to files inside it, never outside."""

    def __init__(self, folder: Path) -> None:
        if not folder.exists():
            raise ConfigError(f"--site: {folder} does not exist; give the prototype's folder")
        if not folder.is_dir():
            raise ConfigError(f"--site: {folder} is not a folder; give the prototype's folder")
        self.root = folder.resolve()

    def locate(self, relative: str) -> Path | None:
        """The real path of the file or folder at ``relative``, or ``None`` when it is not
        served: a ``..`` segment, a NUL, a missing file or a link that leads outside."""
        if "\x00" in relative or ".." in relative.replace("\\", "/").split("/"):
            return None
        try:
            real = (self.root / relative.lstrip("/")).resolve(strict=True)
        except (OSError, RuntimeError):  # missing, unreadable, or a symlink loop
            return None
        return real if real == self.root or real.is_relative_to(self.root) else None


def _media_type(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _html_content_type(head: bytes) -> str:
    # A page that names its charset in a <meta> keeps it; others are read as UTF-8.
    return "text/html" if _META_CHARSET.search(head[:2048]) else "text/html; charset=utf-8"


async def _html_response(path: Path, size: int, tag: bytes | None) -> Response:
    async with await anyio.open_file(path, "rb") as file:
        head = await file.read(2048)
    headers = {
        **_NO_CACHE,
        "content-security-policy": SITE_CSP,
        "content-type": _html_content_type(head),
    }
    if tag is None:
        return FileResponse(path, headers=headers)
    if size <= _INJECT_IN_MEMORY:
        return Response(inject(await anyio.Path(path).read_bytes(), tag), headers=headers)

    async def stream() -> AsyncIterator[bytes]:
        async with await anyio.open_file(path, "rb") as file:
            while chunk := await file.read(FileResponse.chunk_size):
                yield chunk
        yield tag

    headers["content-length"] = str(size + len(tag))
    return StreamingResponse(stream(), headers=headers)


def site_routes(folder: SiteFolder, tag: bytes | None) -> list[BaseRoute]:
    """Routes for ``/site/…``; ``tag`` is the widget's script element, ``None`` for none."""

    async def serve(request: Request) -> Response:
        relative: str = request.path_params.get("path", "")
        real = folder.locate(relative)
        if real is None:
            return Response(_NOT_FOUND, 404, headers=_NO_CACHE, media_type="text/html")
        if real.is_dir():
            if relative and not relative.endswith("/"):
                # Relative links inside the folder's index need the slash.
                return await _slash_redirect(request)
            real = folder.locate(relative + "index.html") or real
            if real.is_dir():
                return Response(_NOT_FOUND, 404, headers=_NO_CACHE, media_type="text/html")
        stat = real.stat()
        media_type = _media_type(real)
        if media_type in _HTML_TYPES:
            return await _html_response(real, stat.st_size, tag)
        # Streamed in chunks by Starlette, Range requests included (video in prototypes).
        return FileResponse(real, media_type=media_type, headers=_NO_CACHE, stat_result=stat)

    return [
        Route(SITE_PREFIX, _slash_redirect, methods=["GET", "HEAD"]),
        Route(SITE_PREFIX + "/{path:path}", serve, methods=["GET", "HEAD"]),
    ]


async def _slash_redirect(request: Request) -> Response:
    # The query goes along: a signed link's ?token= must reach the page.
    target = urllib.parse.quote(request.url.path + "/")
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(target, status_code=307, headers=_NO_CACHE)
