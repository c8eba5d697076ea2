"""A python-socketio client that records what it receives, for integration tests."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import socketio


class ChatClient:
    """The official python-socketio client, connected as ``name``, recording events."""

    def __init__(
        self, url: str, name: str, transports: list[str] | None = None, **auth: Any
    ) -> None:
        self.events: list[tuple[str, Any]] = []
        self._changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        for event in ("message", "presence", "typing", "read", "timeline"):
            self.sio.on(event, self._recorder(event))
        self.sio.connect(url, auth={"name": name, **auth}, transports=transports, wait_timeout=10)

    def _recorder(self, event: str) -> Callable[..., None]:
        # Broadcasts carry Socket.IO's recovery offset as an extra argument.
        def record(payload: Any, *_recovery_offset: Any) -> None:
            with self._changed:
                self.events.append((event, payload))
                self._changed.notify_all()

        return record

    def call(self, event: str, payload: Any) -> dict[str, Any]:
        result = self.sio.call(event, payload, timeout=10)
        assert isinstance(result, dict)
        return result

    def send(self, room: str, text: str, cid: str | None = None) -> dict[str, Any]:
        return self.call("send", {"room": room, "text": text, "cid": cid or uuid.uuid4().hex})

    def messages(self, room: str) -> list[dict[str, Any]]:
        return [p for e, p in self.events if e == "message" and p["room"] == room]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; events so far: {self.events[-10:]}")
                self._changed.wait(remaining)

    def close(self) -> None:
        self.sio.disconnect()
