"""Checks that what the desk posted in Slack cannot ping anyone or carry a forged link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

TOKEN = re.compile(r"<[^<>]*>")
BROADCAST = re.compile(r"(?<![\w\u2060])@(here|channel|everyone)\b", re.IGNORECASE)
ALLOWED_TOKENS = (
    re.compile(r"^<!date\^\d+\^[^|<>]*\|[^<>]*>$"),  # the desk's own date tokens
    re.compile(r"^<https://testnet\.example/[pu]/[^|<>]+\|[^<>]*>$"),  # links to the test platform's posts and profiles
    re.compile(r"^<http://127\.0\.0\.1:\d+/archives/C\w+/p\d+\|#\d+>$"),  # card permalinks in listings
)


def text_objects(blocks: list[dict[str, Any]] | None) -> Iterator[dict[str, Any]]:
    """Every text object in ``blocks``, however deeply nested."""
    def walk(node: Any) -> Iterator[dict[str, Any]]:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                yield node
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    yield from walk(blocks or [])


def problems(text: str, *, mrkdwn: bool, allowed: tuple[str, ...] = ()) -> list[str]:
    """What in ``text`` could ping or link (``allowed``: tokens the desk put there on purpose)."""
    found = []
    for token in TOKEN.findall(text):
        if token in allowed or any(p.match(token) for p in ALLOWED_TOKENS):
            continue
        found.append(f"token {token!r}")
    if BROADCAST.search(text):
        found.append(f"broadcast word in {text!r}")
    if not mrkdwn and "<" in text:
        found.append(f"unescaped '<' in plain text {text!r}")
    return found


def message_problems(text: str, blocks: list[dict[str, Any]] | None, *, allowed: tuple[str, ...] = ()) -> list[str]:
    found = problems(text, mrkdwn=True, allowed=allowed)
    for obj in text_objects(blocks):
        found += problems(obj["text"], mrkdwn=obj["type"] == "mrkdwn", allowed=allowed)
        if obj["type"] == "mrkdwn" and not obj.get("verbatim") and "@" in obj["text"]:
            found.append(f"mrkdwn with '@' is not verbatim: {obj['text']!r}")
    return found
