"""Who a member is: one person with two tabs is one member.

In an open room a member is known by name: the same name (ignoring case and spacing)
is the same member, so two tabs of one tester show once in the member list.
"""

from __future__ import annotations

import hashlib

__all__ = ["member_id_for_name"]


def member_id_for_name(name: str) -> str:
    """A stable, opaque member id for a display name."""
    key = " ".join(name.split()).casefold()
    return "n-" + hashlib.blake2s(key.encode("utf-8"), digest_size=8).hexdigest()
