"""The facilitator console's HTTP side: sign-in page, session cookie, connection tickets.

``GET /console`` shows the console to a live session and the sign-in form to anyone else.
The session is an HttpOnly cookie scoped to ``/console``; the page's script never sees it
and trades it for a one-minute ticket (``POST /console/ticket``) each time its Socket.IO
connection (re)connects. Every POST must come from the server's own origin (a browser
says where a request comes from in ``Origin``): SameSite=Strict already keeps the cookie
off cross-site requests, and this refuses the rest, sign-in forms on other sites included.
Wrong passwords are throttled per client address (see :mod:`roomcast.core.sign_in_throttle`).
"""

from __future__ import annotations

import functools
import html
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, request_response

from roomcast.console_auth import COOKIE, ConsoleAuth
from roomcast.core.console_access import SESSION_MS
from roomcast.core.sign_in_throttle import SignInThrottle
from roomcast.transport.api_limits import CountRefusals
from roomcast.transport.asgi import ASGIApp, BodyTooLarge, read_body
from roomcast.transport.pages import WEB_DIR

__all__ = ["CONSOLE_CSP", "CONSOLE_PATH", "console_routes"]

CONSOLE_PATH = "/console"

# Only what the console loads: its own script and styles, QR codes as data: images, and its
# own Socket.IO connection. No frames, no plugins, forms post only to this server.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
CONSOLE_HEADERS = {
    "content-security-policy": CONSOLE_CSP,
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}
_MAX_FORM = 4096  # a password field and nothing else

WRONG_PASSWORD = "Wrong password. Try again."
NO_PASSWORD = "The console has no password yet; run roomcast admin set-password."
OTHER_ORIGIN = "Sign in from this server's own console page."


@functools.cache
def _template(name: str) -> str:
    return (WEB_DIR / "templates" / name).read_text(encoding="utf-8")


def _sign_in_page(message: str = "", status: int = 200) -> HTMLResponse:
    notice = (
        f'<p class="signin__error" role="alert" data-testid="signin-error">'
        f"{html.escape(message)}</p>"
        if message
        else ""
    )
    body = _template("console-signin.html").replace("{{message}}", notice)
    return HTMLResponse(body, status_code=status, headers=CONSOLE_HEADERS)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error": {"code": code, "message": message}},
        status_code=status,
        headers=CONSOLE_HEADERS,
    )


def is_cross_origin(request: Request) -> bool:
    """Whether a browser sent this request from a page of another origin.

    ``Sec-Fetch-Site`` answers directly where browsers send it. ``Origin`` is checked too, by
    host and port as :class:`~roomcast.transport.origins.OriginPolicy` does (a TLS-terminating
    proxy must not make every request look foreign). Our pages' ``no-referrer`` policy makes
    browsers send ``Origin: null`` even for the page's own POSTs, so ``null`` alone proves
    nothing; nor does a missing header (a non-browser client has no cookie to abuse). Both
    gaps are covered by the SameSite=Strict cookie: this check is defence in depth.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return False
    host = request.headers.get("host", "")
    scheme, _, rest = origin.partition("://")
    return scheme not in ("http", "https") or rest.rstrip("/").lower() != host.lower()


def _session_cookie(value: str, *, secure: bool, max_age: int) -> str:
    # Written out by hand so that the attributes read exactly as documented.
    parts = [f"{COOKIE}={value}", f"Max-Age={max_age}", f"Path={CONSOLE_PATH}", "HttpOnly"]
    parts.append("SameSite=Strict")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def console_routes(
    auth: ConsoleAuth,
    throttle: SignInThrottle | None = None,
    clock: Callable[[], float] = time.monotonic,
    refusals: Counter[str] | None = None,
) -> list[BaseRoute]:
    """Routes of ``/console`` and its sign-in, sign-out and ticket endpoints.

    Refused sign-ins are counted by error code in ``refusals`` (``/metrics``).
    """
    guard = throttle or SignInThrottle()

    def signed_in(request: Request) -> bool:
        return auth.session_ok(request.cookies.get(COOKIE))

    async def console(request: Request) -> Response:
        if signed_in(request):
            return HTMLResponse(_template("console.html"), headers=CONSOLE_HEADERS)
        if auth.password_hash() is None:
            return _sign_in_page(NO_PASSWORD)
        return _sign_in_page()

    async def login(request: Request) -> Response:
        if is_cross_origin(request):
            return _sign_in_page(OTHER_ORIGIN, 403)
        address = request.client.host if request.client else "unknown"
        wait = guard.retry_after(address, clock())
        if wait > 0:
            seconds = max(1, round(wait))
            page = _sign_in_page(
                f"Too many wrong passwords. Wait {seconds} seconds, then try again.", 429
            )
            page.headers["retry-after"] = str(seconds)
            return page
        try:
            form = urllib.parse.parse_qs((await read_body(request.receive, _MAX_FORM)).decode())
        except BodyTooLarge:
            return _sign_in_page(WRONG_PASSWORD, 413)
        except UnicodeDecodeError:
            return _sign_in_page(WRONG_PASSWORD, 400)
        password = (form.get("password") or [""])[0]
        # scrypt takes tens of milliseconds on purpose: not on the event loop.
        session = await run_in_threadpool(auth.sign_in, password)
        if session is None:
            guard.failed(address, clock())
            no_password = auth.password_hash() is None
            return _sign_in_page(NO_PASSWORD if no_password else WRONG_PASSWORD, 401)
        guard.succeeded(address)
        response = RedirectResponse(CONSOLE_PATH, status_code=303, headers=CONSOLE_HEADERS)
        secure = request.url.scheme == "https"
        cookie = _session_cookie(session, secure=secure, max_age=SESSION_MS // 1000)
        response.headers.append("set-cookie", cookie)
        return response

    async def login_page(request: Request) -> Response:
        # A reload after a wrong password lands here; the form lives at /console.
        return RedirectResponse(CONSOLE_PATH, status_code=303, headers=CONSOLE_HEADERS)

    async def logout(request: Request) -> Response:
        if is_cross_origin(request):
            return _error(403, "forbidden", "cross-origin requests are refused")
        response = RedirectResponse(CONSOLE_PATH, status_code=303, headers=CONSOLE_HEADERS)
        secure = request.url.scheme == "https"
        response.headers.append("set-cookie", _session_cookie("", secure=secure, max_age=0))
        return response

    async def ticket(request: Request) -> Response:
        if is_cross_origin(request):
            return _error(403, "forbidden", "cross-origin requests are refused")
        if not signed_in(request):
            return _error(401, "unauthorized", "sign in at /console first")
        return JSONResponse({"ok": True, "ticket": auth.ticket()}, headers=CONSOLE_HEADERS)

    counted_login: ASGIApp = request_response(login)
    if refusals is not None:
        counted_login = CountRefusals(counted_login, refusals)
    return [
        Route(CONSOLE_PATH, console, methods=["GET"]),
        Route(f"{CONSOLE_PATH}/login", counted_login, methods=["POST"]),
        Route(f"{CONSOLE_PATH}/login", login_page, methods=["GET"]),
        Route(f"{CONSOLE_PATH}/logout", logout, methods=["POST"]),
        Route(f"{CONSOLE_PATH}/ticket", ticket, methods=["POST"]),
    ]
