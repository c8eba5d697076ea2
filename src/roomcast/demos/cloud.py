"""``roomcast demo cloud``: a simulated job queue changes state now and then; the page shows
the picture of the state. The pictures are drawn here, as SVG.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

from roomcast.producers import Producer, producer

__all__ = ["ROOM", "STATES", "cloud_producer", "picture"]

ROOM = "cloud"
# state -> (colour, what the badge draws, what the page says)
STATES: dict[str, tuple[str, str, str]] = {
    "idle": ("#a3a8b3", "M-14 0h28", "Nothing to do"),
    "queued": ("#e0a21b", "M0-14v14l10 8", "A job is waiting"),
    "running": ("#2f6fed", "M-12-6a14 14 0 0 1 24 0M12 6a14 14 0 0 1-24 0", "Working on it"),
    "done": ("#1fa35c", "M-13 1l9 9l17-18", "Finished"),
    "failed": ("#c62f3b", "M-11-11l22 22M11-11l-22 22", "It failed"),
}
# Which state may follow which, as a queue would go.
_NEXT = {
    "idle": ["queued"],
    "queued": ["running"],
    "running": ["running", "done", "done", "failed"],
    "done": ["idle", "queued"],
    "failed": ["queued", "idle"],
}


def picture(state: str) -> str:
    """The SVG picture of a state: a cloud, and a badge in the state's colour."""
    colour, badge, label = STATES[state]
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 220" role="img"
 aria-label="{label}"><title>{label}</title>
<path d="M84 170a46 46 0 0 1-6-91a62 62 0 0 1 118-20a50 50 0 0 1 62 48a40 40 0 0 1-8 63z"
 fill="{colour}" fill-opacity="0.18" stroke="{colour}" stroke-width="6"/>
<g transform="translate(232 160)"><circle r="34" fill="{colour}"/>
<path d="{badge}" fill="none" stroke="#fff" stroke-width="7" stroke-linecap="round"
 stroke-linejoin="round"/></g>
<text x="126" y="130" text-anchor="middle" font-family="system-ui, sans-serif"
 font-size="26" font-weight="600" fill="{colour}">{state}</text></svg>"""


def cloud_producer(pause: tuple[float, float] = (1.0, 3.0)) -> Producer:
    """A producer of the queue's state, changing after a random pause in ``pause`` seconds."""

    @producer(ROOM, keep_last=1000, client_posts=False)
    async def cloud() -> AsyncIterator[dict[str, Any]]:
        state = "idle"
        while True:
            yield {"state": state, "image": f"/demo/cloud/{state}.svg", "label": STATES[state][2]}
            await asyncio.sleep(random.uniform(*pause))
            state = random.choice(_NEXT[state])

    return cloud
