"""Frames shared by every subscriber of a broadcast: encoded once, WebSocket-framed once.

A server's WebSocket frames are not masked, so a text frame's bytes are the same for
every connection: :class:`SharedText` builds them on first use (with the websockets
library's framing) and every subscriber's writer sends those same bytes through the
``roomcast.websocket.frame`` ASGI extension of :mod:`roomcast.transport.ws_protocol`.
"""

from __future__ import annotations

from collections.abc import Iterable

from websockets.frames import Frame, Opcode

__all__ = ["FRAME_EXTENSION", "FRAME_MESSAGE", "SharedText", "wire_bytes", "wire_frame"]

#: Scope extension a server advertises when it accepts pre-framed bytes.
FRAME_EXTENSION = "roomcast.websocket.frame"
#: ASGI message type carrying one complete WebSocket frame in ``"frame"``.
FRAME_MESSAGE = "roomcast.websocket.frame"


class SharedText:
    """One Engine.IO text packet that many sessions send."""

    __slots__ = ("_frame", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._frame: bytes | None = None

    def websocket_frame(self) -> bytes:
        """The complete, unmasked WebSocket text frame, built once."""
        frame = self._frame
        if frame is None:
            frame = self._frame = Frame(Opcode.TEXT, self.text.encode("utf-8")).serialize(
                mask=False
            )
        return frame

    def __len__(self) -> int:
        """Characters of text: what a session counts against its byte bound."""
        return len(self.text)

    def __repr__(self) -> str:
        return f"SharedText({self.text[:40]!r})"


def wire_frame(frame: SharedText | str | bytes) -> bytes:
    """The WebSocket frame of anything a session queues: shared, text, or binary."""
    if isinstance(frame, SharedText):
        return frame.websocket_frame()
    if isinstance(frame, str):
        return Frame(Opcode.TEXT, frame.encode("utf-8")).serialize(mask=False)
    return Frame(Opcode.BINARY, frame).serialize(mask=False)


def wire_bytes(frames: Iterable[SharedText | str | bytes]) -> bytes:
    """Several queued frames as the bytes of one socket write."""
    return b"".join(map(wire_frame, frames))
