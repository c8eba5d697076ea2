"""Which request or connection a log line belongs to, without passing ids around.

The HTTP layer sets :data:`REQUEST_ID` for each request and the Engine.IO endpoint sets
:data:`CONNECTION_ID` to the session id for everything it does on a connection's behalf.
Both are context variables: asyncio copies them into every task and callback started from
there, so a line logged deep in the store or the chat namespace carries them too, and
:mod:`roomcast.log_format` writes them into JSON lines.

Work shared by many connections (timers of many sessions, a catch-up of every room) runs in
:func:`detached` contexts, so that it never carries the id of whichever connection happened
to start it.
"""

from __future__ import annotations

import contextvars
import re
import uuid

__all__ = ["CONNECTION_ID", "REQUEST_ID", "detached", "request_id_from"]

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "roomcast_request_id", default=None
)
CONNECTION_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "roomcast_connection_id", default=None
)

# What a proxy or a tracing system sends: UUIDs, hex trace ids, "abc-123/1". Anything else
# (too long, spaces, quotes, control characters) is replaced: it would be copied into every
# log line and the response header.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")


def request_id_from(incoming: str | None) -> str:
    """The incoming ``X-Request-ID`` if it is sane, else a new random one."""
    if incoming is not None and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _clear() -> None:
    REQUEST_ID.set(None)
    CONNECTION_ID.set(None)


def detached() -> contextvars.Context:
    """The current context without request and connection id, for work done for many."""
    context = contextvars.copy_context()
    context.run(_clear)
    return context
