"""Which visibility a reply gets: the customer's, or narrower, never wider.

Mastodon's visibilities from widest to narrowest: ``public``, ``unlisted`` (public but
off the public timelines), ``private`` (followers and the people mentioned) and
``direct`` (only the people mentioned). A reply keeps the visibility of the status it
answers, narrowed further by ``max_visibility``: a ``direct`` mention is answered
``direct``, whatever else is configured.
"""

from __future__ import annotations

ORDER = ("public", "unlisted", "private", "direct")


def reply_visibility(customer: str | None, widest_allowed: str) -> str:
    """The narrower of the two; an unknown customer visibility counts as ``direct`` (the safe side)."""
    rank = ORDER.index(customer) if customer in ORDER else len(ORDER) - 1
    return ORDER[max(rank, ORDER.index(widest_allowed))]
