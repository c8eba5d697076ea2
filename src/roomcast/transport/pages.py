"""Pages and static files: the chat app shell at ``/`` and ``/r/<room>``, health, assets."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from roomcast.core.validation import is_room_name

__all__ = ["STATIC_DIR", "page_routes"]

WEB_DIR = Path(str(resources.files("roomcast") / "web"))
STATIC_DIR = WEB_DIR / "static"

# Everything the chat page loads comes from this server; user text is never HTML.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


@functools.cache
def _app_shell() -> str:
    return (WEB_DIR / "templates" / "app.html").read_text(encoding="utf-8")


def page_routes(health: Callable[[], Awaitable[dict[str, object]]]) -> list[BaseRoute]:
    """Routes for the pages; ``health`` reports the state of the store and bus."""
    headers = {"content-security-policy": APP_CSP, "x-content-type-options": "nosniff"}

    async def app_page(request: Request) -> Response:
        room = request.path_params.get("room")
        if room is not None and not is_room_name(room):
            return HTMLResponse(
                "<!doctype html><title>Roomcast</title><p>Room names are 1-64 characters of "
                "A-Z a-z 0-9 . _ - </p>",
                status_code=404,
            )
        return HTMLResponse(_app_shell(), headers=headers)

    async def healthz(request: Request) -> Response:
        report = await health()
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    return [
        Route("/", app_page),
        Route("/r/{room}", app_page),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
