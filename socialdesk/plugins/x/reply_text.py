"""Is this text a post X will accept? Checked before anything is written or sent.

X counts weighted characters (twitter-text): every link 23, CJK characters and emoji 2,
most other characters 1; 280 at most. The @mention of the person answered is not part
of the text: X adds it to a reply on its own and does not count it.
"""

from __future__ import annotations

from socialdesk.plugins.x.weighted_length import (
    MAX_WEIGHTED_LENGTH,
    has_invalid_characters,
    normalize,
    weighted_length,
)

UNIT = "weighted characters"


def reply_problems(text: str) -> list[str]:
    """Agent-readable reasons X would refuse ``text``; empty when it is fine."""
    if not normalize(text).strip():
        return ["the reply is empty"]
    return length_problems(text)


def length_problems(text: str) -> list[str]:
    """What only X's rules find wrong (emptiness is the reply_rules plugin's to report)."""
    problems = []
    if has_invalid_characters(normalize(text)):
        problems.append("the reply contains a character X refuses (U+FFFE, U+FEFF or U+FFFF); remove it")
    length = weighted_length(text)
    if length > MAX_WEIGHTED_LENGTH:
        problems.append(f"{MAX_WEIGHTED_LENGTH} {UNIT} at most on X, this reply has {length} "
                        "(every link counts 23, CJK characters and emoji count 2)")
    return problems
