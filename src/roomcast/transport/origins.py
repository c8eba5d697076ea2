"""Which browser origins may open a connection: same-origin by default, plus an allow-list."""

from __future__ import annotations

from roomcast.transport.asgi import Scope, header

__all__ = ["OriginPolicy"]


class OriginPolicy:
    """Decides whether a request's ``Origin`` is allowed.

    Requests without an ``Origin`` header come from non-browser clients (scripts, the
    Python and Node clients) and are allowed: the check protects browsers' users from
    other sites, it is not authentication.
    """

    def __init__(self, allowed: tuple[str, ...]) -> None:
        self._any = "*" in allowed
        self._allowed = frozenset(origin.rstrip("/").lower() for origin in allowed)

    def rejected_origin(self, scope: Scope) -> str | None:
        """The request's origin if it is not allowed, else ``None``."""
        origin = header(scope, b"origin")
        if origin is None or self._any:
            return None
        normalized = origin.rstrip("/").lower()
        if normalized in self._allowed:
            return None
        host = header(scope, b"host")
        if host is not None and normalized.split("://", 1)[-1] == host.lower():
            return None
        return origin

    def cors_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """Headers that let an allowed cross-origin page read the response; none for others.

        A refused origin gets none, so that a preflight does not promise what the request
        that follows is refused.
        """
        origin = header(scope, b"origin")
        if origin is None or self.rejected_origin(scope) is not None:
            return []
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]
