"""What X finds in a post's text: links (rewritten to t.co), @mentions, #hashtags, $cashtags.

The rules follow twitter-text, the library X uses: a mention is ``@`` plus a valid
username not glued to a word; entities inside a link do not count. Indices are code
points into the stored text, with ``end`` exclusive, as in X API v2 ``entities``.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import string
from typing import Any

from socialdesk.plugins.x.weighted_length import extract_urls

_MENTION = re.compile(r"(?<![A-Za-z0-9_!#$%&*@\uff20])[@\uff20]([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@\uff20]|://)")
_HASHTAG = re.compile(r"(?<![&\w])[#\uff03](\w*[^\W\d_]\w*)(?![#\uff03]|://)")
_CASHTAG = re.compile(r"(?:^|(?<=\s))\$([a-z]{1,6}(?:[._][a-z]{1,2})?)(?=$|\s|[!'#%&()*+,\\\-./:;<=>?@\[\]^_{|}~$])", re.IGNORECASE)
_BASE62 = string.digits + string.ascii_letters
_DISPLAY_LENGTH = 26


class LinkShortener:
    """Rewrites links to ``https://t.co/<10 chars>`` like X does when it stores a post."""

    def __init__(self, salt: str = "socialdesk-sandbox") -> None:
        self._salt = salt
        self._counter = itertools.count(1)

    def _code(self) -> str:
        digest = int.from_bytes(hashlib.blake2b(f"{self._salt}:{next(self._counter)}".encode(), digest_size=8).digest())
        code = ""
        for _ in range(10):
            digest, rest = divmod(digest, 62)
            code += _BASE62[rest]
        return code

    def shorten(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """``text`` with its links replaced, and the ``urls`` entities pointing into the new text."""
        out: list[str] = []
        entities: list[dict[str, Any]] = []
        cursor = 0
        length = 0
        for span in extract_urls(text):
            before = text[cursor:span.start]
            out.append(before)
            length += len(before)
            short = f"https://t.co/{self._code()}"
            expanded = span.url if re.match(r"https?://", span.url, re.IGNORECASE) else f"http://{span.url}"
            entities.append({"start": length, "end": length + len(short), "url": short,
                             "expanded_url": expanded, "display_url": _display(expanded)})
            out.append(short)
            length += len(short)
            cursor = span.end
        out.append(text[cursor:])
        return "".join(out), entities


def _display(expanded: str) -> str:
    shown = re.sub(r"^https?://", "", expanded, flags=re.IGNORECASE)
    return shown if len(shown) <= _DISPLAY_LENGTH else shown[:_DISPLAY_LENGTH] + "\u2026"


def _outside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= s or start >= e for s, e in spans)


def mention_entities(text: str, links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``[{"start", "end", "username"}]`` for every @mention outside the links."""
    taken = [(link["start"], link["end"]) for link in links]
    return [{"start": m.start(), "end": m.end(), "username": m[1]}
            for m in _MENTION.finditer(text) if _outside(taken, m.start(), m.end())]


def hashtag_entities(text: str, links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    taken = [(link["start"], link["end"]) for link in links]
    return [{"start": m.start(), "end": m.end(), "tag": m[1]}
            for m in _HASHTAG.finditer(text) if _outside(taken, m.start(), m.end())]


def cashtag_entities(text: str, links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    taken = [(link["start"], link["end"]) for link in links]
    return [{"start": m.start(), "end": m.end(), "tag": m[1]}
            for m in _CASHTAG.finditer(text) if _outside(taken, m.start(), m.end())]
