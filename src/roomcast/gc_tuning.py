"""Garbage-collector settings for a process that holds thousands of connections.

A full (oldest-generation) collection visits every live object. Each connection keeps
about a hundred, so with 10,000 connections a full pass takes a few hundred milliseconds,
and CPython's default thresholds run one every time the long-lived set has grown by a
quarter: during an arrival storm that was about half of the server's CPU (measured with
``bench/``: about 1,300 set-ups per second, 1,500-2,100 with these settings). Short-lived
cycles (uvicorn's HTTP protocol object, dropped at each WebSocket upgrade) are still
collected by the young generations as before.
"""

from __future__ import annotations

import gc

__all__ = ["tune_gc_for_connections"]

#: Young-generation threshold as CPython's default; full passes considered 10x less often.
THRESHOLDS = (700, 10, 100)


def tune_gc_for_connections() -> None:
    """Call once start-up is done: freezes what exists so far and spaces out full passes."""
    gc.collect()
    # Modules, classes and settings live as long as the process: out of every future pass.
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
