"""What guards the HTTP API: a request rate per API key or client address, and a count
of every refusal by its error code (for ``/metrics``).

Both are ASGI middleware inside the API's app, behind CORS, so a refused browser request
still carries the headers that let its page read why.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from roomcast.core.errors import RateLimited, code_for_status
from roomcast.core.limits import Unlimited
from roomcast.core.ratelimit import KeyedBuckets, retry_after_header
from roomcast.ports import Store
from roomcast.transport.api_keys import identify
from roomcast.transport.asgi import ASGIApp, Message, Receive, Scope, Send, header, respond

__all__ = ["CountRefusals", "RateLimit"]


class CountRefusals:
    """Counts every answer of 400 or more in ``refusals``, by its error code.

    Counting by status sees the answers Starlette makes itself too (a wrong method's 405).
    """

    def __init__(self, app: ASGIApp, refusals: Counter[str]) -> None:
        self.app = app
        self.refusals = refusals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                self.refusals[code_for_status(message["status"])] += 1
            await send(message)

        await self.app(scope, receive, counted)


class RateLimit:
    """A token bucket per API key, or per client address for requests without a valid key.

    A valid key is looked up once here; the endpoints find its name in the request's
    state (``api_key``). Addresses in ``unlimited`` skip the per-address bucket.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: Store,
        buckets: KeyedBuckets,
        unlimited: Unlimited,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.store = store
        self.buckets = buckets
        self.unlimited = unlimited
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = await identify(self.store, header(scope, b"authorization"))
        scope.setdefault("state", {})["api_key"] = name
        client = scope.get("client")
        address = client[0] if client else ""
        if name is not None:
            wait = self.buckets.take("key:" + name, self.clock())
        elif address in self.unlimited:
            wait = 0.0
        else:
            wait = self.buckets.take("ip:" + address, self.clock())
        if wait > 0:
            who = "this API key" if name is not None else "your address"
            error = RateLimited(
                f"too many requests from {who} (at most {self.buckets.rate:g} a second); "
                "try again later"
            )
            await respond(
                send,
                error.http_status,
                {"ok": False, "error": error.to_wire()},
                headers=[(b"retry-after", retry_after_header(wait).encode("ascii"))],
            )
            return
        await self.app(scope, receive, send)
