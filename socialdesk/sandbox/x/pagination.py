"""Pagination tokens and pages of posts, newest first.

X's tokens are opaque base32hex strings. The sandbox's encode the id just below the
last post returned, so a token stays valid while posts arrive or get deleted, and a
page never repeats or skips a post.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass

from socialdesk.sandbox.x.timeline import Tweet

_PREFIX = b"sdx1:"


def encode(below_id: int) -> str:
    raw = base64.b32hexencode(_PREFIX + str(below_id).encode()).decode().rstrip("=")
    return raw.lower()


def decode(token: str) -> int | None:
    """The position a token stands for, or None when it is not one of ours."""
    padded = token.upper() + "=" * (-len(token) % 8)
    try:
        raw = base64.b32hexdecode(padded)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(_PREFIX) or not raw[len(_PREFIX):].isdigit():
        return None
    return int(raw[len(_PREFIX):])


@dataclass(frozen=True)
class Page:
    tweets: list[Tweet]
    next_token: str | None

    def meta(self) -> dict[str, object]:
        """X's ``meta``: counts and bounds of this page, and the token of the next one."""
        meta: dict[str, object] = {"result_count": len(self.tweets)}
        if self.tweets:
            meta["newest_id"] = self.tweets[0].id
            meta["oldest_id"] = self.tweets[-1].id
        if self.next_token:
            meta["next_token"] = self.next_token
        return meta


def page_of(newest_first: Iterable[Tweet], size: int, below: int | None) -> Page:
    """Up to ``size`` posts older than ``below`` (when given) from an already-filtered stream."""
    page: list[Tweet] = []
    for tweet in newest_first:
        if below is not None and int(tweet.id) >= below:
            continue
        if len(page) == size:
            return Page(page, encode(int(page[-1].id)))
        page.append(tweet)
    return Page(page, None)
