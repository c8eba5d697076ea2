"""The console's canned replies, kept in ``<data-dir>/canned-replies.json``."""

from __future__ import annotations

import json
from pathlib import Path

from roomcast.core.errors import Unavailable
from roomcast.data_files import replace_file

__all__ = ["DEFAULT_REPLIES", "CannedReplies"]

DEFAULT_REPLIES = (
    "Thanks! Please carry on.",
    "What did you expect to happen there?",
    "Please think aloud as you go.",
    "Take your time.",
)


class CannedReplies:
    """Read and replace the list; a missing or unreadable file gives the defaults."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "canned-replies.json"

    def load(self) -> list[str]:
        try:
            replies = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return list(DEFAULT_REPLIES)
        except (OSError, ValueError):
            return list(DEFAULT_REPLIES)
        if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
            return list(DEFAULT_REPLIES)
        return replies

    def save(self, replies: list[str]) -> None:
        try:
            replace_file(self.path, json.dumps(replies, ensure_ascii=False))
        except OSError as error:
            raise Unavailable(f"cannot keep the canned replies: {error}") from None
