"""The OpenAPI 3.1 document of the HTTP API, served at ``/api/v1/openapi.json``.

Written out rather than generated, so that it reads as documentation; a test checks it
against the routes and validates real responses against its schemas.
"""

from __future__ import annotations

import functools
from typing import Any

from roomcast import __version__
from roomcast.core.policy import DURATION_PATTERN, MAX_KEEP_FOR
from roomcast.core.validation import MAX_CID, MAX_HISTORY_LIMIT, MAX_NAME, Limits

__all__ = ["openapi_document"]

_ERROR_CODES = [
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "too_large",
    "rate_limited",
    "unavailable",
]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_RATE_LIMITED = {
    **_ok(
        "Too many requests from this API key (or, without one, this address): over "
        "--api-rate a second, after a burst of --api-burst.",
        "Error",
    ),
    "headers": {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": True,
            "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"},
        }
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    """The error answers of an operation; every one may also get a 429 (its rate limit)."""
    reasons = {
        400: "Bad input: the message says what is wrong.",
        401: "No API key, or an unknown or revoked one.",
        404: "No such room.",
        413: "The body, text or data is too large.",
        503: "The store cannot take the request now.",
    }
    answers = {str(status): _ok(reasons[status], "Error") for status in statuses}
    return {**answers, "429": _RATE_LIMITED}


_ROOM = {
    "name": "room",
    "in": "path",
    "required": True,
    "description": "1-64 characters of A-Z a-z 0-9 . _ -",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"},
}


def _query(name: str, description: str, minimum: int, maximum: int) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "integer", "minimum": minimum, "maximum": maximum},
    }


# Not blank as Python's str.isspace() sees it, which is what the server checks.
_NOT_BLANK = "[^\\s\\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
# Names may not hold control characters (other than whitespace, which is folded).
_NO_CONTROL = "^[^\\x00-\\x08\\x0e-\\x1b\\x7f-\\x84\\x86-\\x9f]*$"


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _text(max_length: int, description: str, *, name: bool = False) -> dict[str, Any]:
    patterns = [{"pattern": _NOT_BLANK}, *([{"pattern": _NO_CONTROL}] if name else [])]
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "allOf": patterns,
        "description": description,
    }


_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["ok", "error"],
        "additionalProperties": False,
        "properties": {
            "ok": {"const": False},
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {"enum": _ERROR_CODES},
                    "message": {"type": "string"},
                },
            },
        },
    },
    "Policy": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "client_posts": {
                "type": "boolean",
                "description": "Whether members may send in the room; false makes it a feed.",
            },
            "keep_last": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": 2**53 - 1,
                "description": "Keep only the newest N messages (null: all).",
            },
            "keep_for": {
                "description": "Keep only messages younger than this many seconds, or a "
                "text like '2h' (null: forever). Answers give seconds.",
                "anyOf": [
                    {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_KEEP_FOR},
                    {"type": "string", "pattern": DURATION_PATTERN},
                    {"type": "null"},
                ],
            },
        },
    },
    "Message": {
        "type": "object",
        "required": ["room", "offset", "id", "ts", "kind", "sender"],
        "additionalProperties": False,
        "properties": {
            "room": {"type": "string"},
            "offset": {"type": "integer", "minimum": 1},
            "id": {"type": "string"},
            "ts": {"type": "integer", "description": "ms since the Unix epoch"},
            "kind": {"enum": ["text", "data", "system"]},
            "sender": {
                "type": ["object", "null"],
                "required": ["id", "name"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            },
            "text": {"type": "string"},
            "data": {},
            "cid": {"type": "string"},
        },
    },
    "Publish": {
        "type": "object",
        "additionalProperties": False,
        "description": "Give text or data (any JSON but null), or both; null is as absent.",
        "anyOf": [
            {"required": ["text"], "properties": {"text": {"type": "string"}}},
            {"required": ["data"], "properties": {"data": {"not": {"type": "null"}}}},
        ],
        "properties": {
            "text": _or_null(_text(Limits().max_text, "The message's text (up to --max-text).")),
            "data": {},
            "cid": _or_null(
                {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_CID,
                    "description": "Your id for the message: a retry with the same cid "
                    "returns the stored message instead of a second one.",
                }
            ),
            "name": _or_null(_text(MAX_NAME, "Sender name shown; default: the key's.", name=True)),
        },
    },
    "Room": {
        "type": "object",
        "required": ["ok", "room", "last_offset", "policy"],
        "additionalProperties": False,
        "properties": {
            "ok": {"const": True},
            "room": {"type": "string"},
            "last_offset": {"type": "integer"},
            "policy": _ref("Policy"),
        },
    },
    "RoomList": {
        "type": "object",
        "required": ["ok", "rooms"],
        "additionalProperties": False,
        "properties": {
            "ok": {"const": True},
            "rooms": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["room", "last_offset", "last_ts", "policy"],
                    "properties": {
                        "room": {"type": "string"},
                        "last_offset": {"type": "integer"},
                        "last_ts": {"type": ["integer", "null"]},
                        "policy": _ref("Policy"),
                    },
                },
            },
        },
    },
    "MessagePage": {
        "type": "object",
        "required": ["ok", "room", "messages", "more"],
        "additionalProperties": False,
        "properties": {
            "ok": {"const": True},
            "room": {"type": "string"},
            "messages": {"type": "array", "items": _ref("Message")},
            "more": {"type": "boolean", "description": "A full page: ask again for more."},
        },
    },
    "Published": {
        "type": "object",
        "required": ["ok", "message"],
        "additionalProperties": False,
        "properties": {"ok": {"const": True}, "message": _ref("Message")},
    },
}

_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]
# Reads need no key, except on a server with --signed-links-only, whose rooms are closed.
_KEY_IF_CLOSED: list[dict[str, list[str]]] = [{}, {"apiKey": []}]


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document; built once."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Roomcast HTTP API",
            "version": __version__,
            "description": "Rooms, history and publishing. Reads are open (on a server with "
            "--signed-links-only they need a key too); writes need an API key made with "
            "`roomcast key create NAME`, sent as a bearer token. Each key, and each client "
            "address for requests without one, may make --api-rate requests a second after "
            "a burst of --api-burst; more get 429 and Retry-After.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": _SCHEMAS,
        },
        "paths": {
            "/rooms": {
                "get": {
                    "operationId": "listRooms",
                    "summary": "Every room with messages, most recently active first.",
                    "security": _KEY_IF_CLOSED,
                    "responses": {"200": _ok("The rooms.", "RoomList"), **_errors(401, 503)},
                }
            },
            "/rooms/{room}": {
                "parameters": [_ROOM],
                "get": {
                    "operationId": "getRoom",
                    "summary": "A room's newest offset and policy.",
                    "security": _KEY_IF_CLOSED,
                    "responses": {
                        "200": _ok("The room.", "Room"),
                        **_errors(400, 401, 404, 503),
                    },
                },
                "put": {
                    "operationId": "setRoomPolicy",
                    "summary": "Change a room's policy; fields left out keep their value.",
                    "security": _KEY,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("Policy")}},
                    },
                    "responses": {
                        "200": _ok("The room with its new policy.", "Room"),
                        **_errors(400, 401, 404, 413, 503),
                    },
                },
            },
            "/rooms/{room}/messages": {
                "parameters": [_ROOM],
                "get": {
                    "operationId": "readMessages",
                    "summary": "Messages in offset order: after `since`, before `before`, "
                    "else the newest.",
                    "security": _KEY_IF_CLOSED,
                    "parameters": [
                        _query("since", "Only messages with a greater offset.", 0, 2**53),
                        _query("before", "Only messages with a smaller offset.", 0, 2**53),
                        _query("limit", "At most this many (1-200).", 1, MAX_HISTORY_LIMIT),
                    ],
                    "responses": {
                        "200": _ok("A page of messages.", "MessagePage"),
                        **_errors(400, 401, 404, 503),
                    },
                },
                "post": {
                    "operationId": "publish",
                    "summary": "Publish a text or data message to everyone in the room.",
                    "security": _KEY,
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("Publish")}},
                    },
                    "responses": {
                        "201": _ok("Stored and sent; the message as members get it.", "Published"),
                        **_errors(400, 401, 404, 413, 503),
                    },
                },
            },
            "/rooms/{room}/transcript": {
                "parameters": [_ROOM],
                "get": {
                    "operationId": "transcript",
                    "summary": "The room's session record (messages, joins, leaves, steps, "
                    "notes) as a download.",
                    "security": _KEY,
                    "parameters": [
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "description": "csv (UTF-8 with a byte-order mark), json or md.",
                            "schema": {"type": "string", "enum": ["csv", "json", "md"]},
                        },
                        {
                            "name": "delimiter",
                            "in": "query",
                            "required": False,
                            "description": "Between CSV fields: , or ;",
                            "schema": {"type": "string", "enum": [",", ";"]},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The record, streamed.",
                            "content": {
                                "text/csv": {"schema": {"type": "string"}},
                                "application/json": {"schema": {"type": "object"}},
                                "text/markdown": {"schema": {"type": "string"}},
                            },
                        },
                        **_errors(400, 401, 404, 503),
                    },
                },
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {
                        "200": {"description": "The OpenAPI document."},
                        **_errors(),
                    },
                }
            },
        },
    }
