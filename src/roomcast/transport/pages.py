"""Pages and static files: the chat app shell at ``/`` and ``/r/<room>``, the live view at
``/live/<room>``, ``live.js`` and the chat ``widget.js`` for any site's pages, the lab check
page, the demo pages, health, assets."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from roomcast.core.validation import is_room_name
from roomcast.demos.cloud import STATES, picture

__all__ = ["STATIC_DIR", "page_routes"]

WEB_DIR = Path(str(resources.files("roomcast") / "web"))
STATIC_DIR = WEB_DIR / "static"

# Everything the chat page loads comes from this server; user text is never HTML.
APP_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


# The live view shows pictures that published data names, from wherever they are.
LIVE_CSP = APP_CSP.replace("img-src 'self' data:", "img-src * data:")

# live.js, widget.js and what they load go into pages of other origins (allowed by --origins).
_EMBEDDED = {
    "live.js": "text/javascript; charset=utf-8",
    "live.js.map": "application/json",
    "live.css": "text/css; charset=utf-8",
    "widget.js": "text/javascript; charset=utf-8",
    "widget.js.map": "application/json",
    "widget.css": "text/css; charset=utf-8",
}

_BAD_ROOM = (
    "<!doctype html><title>Roomcast</title><p>Room names are 1-64 characters of "
    "A-Z a-z 0-9 . _ - </p>"
)


@functools.cache
def _template(name: str) -> str:
    return (WEB_DIR / "templates" / name).read_text(encoding="utf-8")


def page_routes(health: Callable[[], Awaitable[dict[str, object]]]) -> list[BaseRoute]:
    """Routes for the pages; ``health`` reports the state of the store and bus."""
    headers = {"content-security-policy": APP_CSP, "x-content-type-options": "nosniff"}

    def page(template: str, csp: str = APP_CSP) -> Callable[[Request], Awaitable[Response]]:
        page_headers = {**headers, "content-security-policy": csp}

        async def show(request: Request) -> Response:
            room = request.path_params.get("room")
            if room is not None and not is_room_name(room):
                return HTMLResponse(_BAD_ROOM, status_code=404)
            return HTMLResponse(_template(template), headers=page_headers)

        return show

    async def embedded(request: Request) -> Response:
        name = request.url.path.lstrip("/")
        return FileResponse(
            STATIC_DIR / name,
            media_type=_EMBEDDED[name],
            headers={"cache-control": "no-cache", "access-control-allow-origin": "*"},
        )

    async def cloud_picture(request: Request) -> Response:
        state = request.path_params["state"]
        if state not in STATES:
            return Response("no such state", status_code=404)
        return Response(
            picture(state), media_type="image/svg+xml", headers={"cache-control": "max-age=3600"}
        )

    async def healthz(request: Request) -> Response:
        report = await health()
        return JSONResponse(report, status_code=200 if report["ok"] else 503)

    app_page = page("app.html")
    return [
        Route("/", app_page),
        Route("/r/{room}", app_page),
        Route("/live/{room}", page("live.html", LIVE_CSP)),
        *(Route(f"/{name}", embedded) for name in _EMBEDDED),
        Route("/check", page("check.html")),
        Route("/demo/numbers", page("demo-numbers.html")),
        Route("/demo/cloud", page("demo-cloud.html")),
        Route("/demo/cloud/{state}.svg", cloud_picture),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
    ]
