"""Is this text a post Bluesky will accept? Checked before anything is written or sent."""

from __future__ import annotations

from socialdesk.plugins.bluesky.post_length import MAX_GRAPHEMES, length_problems

UNIT = "characters (graphemes)"
__all__ = ["MAX_GRAPHEMES", "UNIT", "length_problems", "reply_problems"]


def reply_problems(text: str) -> list[str]:
    """Agent-readable reasons Bluesky would refuse ``text``; empty when it is fine."""
    if not text.strip():
        return ["the reply is empty"]
    return length_problems(text)
