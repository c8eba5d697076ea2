"""The HTTP API at ``/api/v1``: rooms, history, publishing, room policies.

Reads are open, like the rooms themselves; writes need an API key (``roomcast key create``).
With ``--signed-links-only`` the rooms are closed, and reads need a key too.
Every answer is JSON: ``{"ok": true, ...}``, or ``{"ok": false, "error": {"code", "message"}}``
with the error's HTTP status — errors are mapped here, in one place. The OpenAPI document
at ``/api/v1/openapi.json`` describes exactly these routes (a test compares them).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from roomcast.core.errors import (
    BadRequest,
    NotFound,
    RoomcastError,
    TooLarge,
    Unauthorized,
)
from roomcast.core.limits import Unlimited
from roomcast.core.policy import parse_policy
from roomcast.core.ratelimit import KeyedBuckets
from roomcast.core.validation import MAX_HISTORY_LIMIT, Limits, parse_name, parse_room, parse_send
from roomcast.ports import MessageDraft, Sender, Store
from roomcast.transport.api_keys import authenticate
from roomcast.transport.api_limits import CountRefusals, RateLimit
from roomcast.transport.asgi import BodyTooLarge, read_body
from roomcast.transport.exports import transcript_response
from roomcast.transport.openapi import openapi_document
from roomcast.transport.rooms import RoomService

__all__ = ["API_PREFIX", "api_not_found", "create_api"]

API_PREFIX = "/api/v1"
_PUBLISH_FIELDS = frozenset({"text", "data", "cid", "name"})

Endpoint = Callable[[Request], Awaitable[Response]]


class _JSONText(Response):
    """A JSON body that is already encoded (a published message's one encoding)."""

    media_type = "application/json"


def _error_response(error: RoomcastError) -> JSONResponse:
    headers = {"www-authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
    return JSONResponse(
        {"ok": False, "error": error.to_wire()}, status_code=error.http_status, headers=headers
    )


def _mapped(endpoint: Endpoint) -> Endpoint:
    async def guarded(request: Request) -> Response:
        try:
            response = await endpoint(request)
        except RoomcastError as error:
            return _error_response(error)
        response.headers["cache-control"] = "no-store"
        return response

    return guarded


async def api_not_found(request: Request, exc: Exception) -> Response:
    """A 404 in the API's error shape, for paths under the API's prefix that no route takes."""
    return await _http_error(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown paths and wrong methods under /api/v1 answer in the API's error shape too.
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        error: RoomcastError = BadRequest(f"{request.method} is not allowed on {request.url.path}")
        # Starlette names the allowed methods in the exception; RFC 9110 wants them sent.
        allow = (exc.headers or {}) if isinstance(exc, HTTPException) else {}
        return JSONResponse({"ok": False, "error": error.to_wire()}, 405, headers=dict(allow))
    return _error_response(
        NotFound(f"no API route {request.url.path}; see {API_PREFIX}/openapi.json")
    )


async def _json_body(request: Request, limit: int) -> Any:
    try:
        body = await read_body(request.receive, limit)
    except BodyTooLarge:
        raise TooLarge(f"the request body is larger than {limit} bytes") from None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest('the request body must be JSON, e.g. {"data": {"n": 4.2}}') from None
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None


def _query_int(request: Request, name: str, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _resource(path: str, **endpoints: Endpoint) -> Route:
    """One route for every method of ``path``, so a 405 names all of them in ``Allow``."""
    mapped = {method: _mapped(endpoint) for method, endpoint in endpoints.items()}

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await mapped[method](request)

    return Route(path, dispatch, methods=list(endpoints))


def create_api(
    store: Store,
    rooms: RoomService,
    *,
    limits: Limits,
    max_body: int,
    origins: tuple[str, ...],
    rate: KeyedBuckets | None = None,
    unlimited: Unlimited | None = None,
    refusals: Counter[str] | None = None,
    reads_need_key: bool = False,
) -> Starlette:
    """The ASGI app of the HTTP API, to be mounted at :data:`API_PREFIX`.

    ``rate`` limits requests per API key or client address (none in ``unlimited``);
    ``refusals`` counts every error answer by its code; ``reads_need_key``: rooms that
    only signed links open must not be read without a key.
    """

    async def key_name(request: Request) -> str:
        # RateLimit has looked the key up already; only a missing or wrong one is looked
        # at again, for the message that says what is wrong with it.
        name: str | None = getattr(request.state, "api_key", None)
        return name or await authenticate(store, request.headers.get("authorization"))

    async def may_read(request: Request) -> None:
        if reads_need_key:
            await key_name(request)

    async def room_info(room: str) -> dict[str, Any]:
        last = await store.last_offset(room)
        if last == 0 and not rooms.has_policy(room):
            raise NotFound(f"no room named {room!r}: nothing was ever posted in it")
        return {"room": room, "last_offset": last, "policy": rooms.policy(room).to_wire()}

    async def list_rooms(request: Request) -> Response:
        await may_read(request)
        listed = [
            {
                "room": summary.room,
                "last_offset": summary.last_offset,
                "last_ts": summary.last_ts,
                "policy": rooms.policy(summary.room).to_wire(),
            }
            for summary in await store.rooms()
        ]
        return JSONResponse({"ok": True, "rooms": listed})

    async def get_room(request: Request) -> Response:
        await may_read(request)
        room = parse_room(request.path_params["room"])
        return JSONResponse({"ok": True, **await room_info(room)})

    async def put_room(request: Request) -> Response:
        await key_name(request)
        room = parse_room(request.path_params["room"])
        policy = parse_policy(await _json_body(request, max_body), rooms.policy(room))
        await rooms.set_policy(room, policy)
        return JSONResponse({"ok": True, **await room_info(room)})

    async def get_messages(request: Request) -> Response:
        await may_read(request)
        room = parse_room(request.path_params["room"])
        since = _query_int(request, "since", 0, 2**53)
        before = _query_int(request, "before", 0, 2**53)
        limit = _query_int(request, "limit", 1, MAX_HISTORY_LIMIT) or limits.history_page
        messages = await store.read(room, since=since, before=before, limit=limit)
        if not messages:
            await room_info(room)  # an empty page of a room, or no such room (404)?
        return JSONResponse(
            {
                "ok": True,
                "room": room,
                "messages": [message.to_wire() for message in messages],
                # A full page may have more behind it; retention can leave fewer than asked.
                "more": len(messages) == limit,
            }
        )

    async def post_message(request: Request) -> Response:
        publisher = await key_name(request)
        room = parse_room(request.path_params["room"])
        body = await _json_body(request, max_body)
        if not isinstance(body, dict):
            raise BadRequest('the body must be a JSON object, e.g. {"text": "hello"}')
        unknown = sorted(set(body) - _PUBLISH_FIELDS)
        if unknown:
            raise BadRequest(f"unknown fields {', '.join(unknown)}; use text, data, cid, name")
        request_ = parse_send({**body, "room": room}, limits)
        name = publisher if body.get("name") is None else parse_name(body["name"])
        draft = MessageDraft(
            room=room,
            kind="text" if request_.text is not None else "data",
            ts=rooms.now_ms(),
            sender=Sender(f"key:{publisher}", name),
            text=request_.text,
            data=request_.data,
            cid=request_.cid,
        )
        _, text = await rooms.publish(draft)
        return _JSONText(f'{{"ok":true,"message":{text}}}', status_code=201)

    async def get_transcript(request: Request) -> Response:
        await key_name(request)
        return transcript_response(store, request)

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    routes = [
        Route("/rooms", _mapped(list_rooms), methods=["GET"]),
        _resource("/rooms/{room}", GET=get_room, PUT=put_room),
        _resource("/rooms/{room}/messages", GET=get_messages, POST=post_message),
        Route("/rooms/{room}/transcript", _mapped(get_transcript), methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    cors = Middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT"],
        allow_headers=["authorization", "content-type"],
    )
    middleware = [cors]
    if refusals is not None:  # inside CORS, so refused browser requests can be read
        middleware.append(Middleware(CountRefusals, refusals=refusals))
    if rate is not None:
        middleware.append(
            Middleware(RateLimit, store=store, buckets=rate, unlimited=unlimited or Unlimited())
        )
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: _http_error, 404: _http_error, 405: _http_error},
    )
