"""Calling a channel's handlers: the one delivery loop every bus shares."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable

from roomcast.ports import BusHandler

__all__ = ["deliver"]

log = logging.getLogger(__name__)


async def deliver(channel: str, payload: bytes, handlers: Iterable[BusHandler]) -> None:
    """Call each handler in turn, awaiting async ones, so a channel's order is kept.

    A handler that raises is logged and skipped: one subscriber must not stop the others.
    """
    for handler in tuple(handlers):
        try:
            result = handler(channel, payload)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a task boundary for the subscriber
            log.exception("bus subscriber failed on %s", channel)
