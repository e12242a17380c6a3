"""How Bluesky measures a post: 300 graphemes and 3000 UTF-8 bytes at most.

The ``app.bsky.feed.post`` lexicon gives ``text`` both ``maxGraphemes: 300`` and
``maxLength: 3000``; the PDS refuses a record over either. A grapheme is an extended
grapheme cluster (Unicode UAX #29), what a reader sees as one character: a family
emoji joined by ZWJs, a flag, ``e`` plus a combining accent each count once. Python's
``len`` counts code points and would let such text through; the ``regex`` module's
``\\X`` matches exactly one extended grapheme cluster.

Shared with the sandbox emulator, so the desk and its Bluesky count alike.
"""

from __future__ import annotations

import regex

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
_GRAPHEME = regex.compile(r"\X", regex.UNICODE)


def grapheme_length(text: str) -> int:
    return sum(1 for _ in _GRAPHEME.finditer(text))


def byte_length(text: str) -> int:
    return len(text.encode("utf-8", errors="surrogatepass"))


def length_problems(text: str) -> list[str]:
    """Agent-readable reasons Bluesky would refuse ``text`` for its length; empty when it fits."""
    problems = []
    graphemes = grapheme_length(text)
    if graphemes > MAX_GRAPHEMES:
        problems.append(f"{MAX_GRAPHEMES} characters at most on Bluesky, this reply has {graphemes} "
                        "(an emoji or a letter with accents counts as one character)")
    size = byte_length(text)
    if size > MAX_BYTES:
        problems.append(f"{MAX_BYTES} bytes at most on Bluesky, this reply has {size} bytes in UTF-8")
    return problems
