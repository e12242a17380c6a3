"""How Mastodon counts a status: grapheme clusters, every link 23, a remote mention by its local part.

Mastodon's ``StatusLengthValidator`` replaces each link (with its ``http(s)://``) by 23
characters and each ``@user@domain`` mention by ``@user`` before counting grapheme
clusters (``mb_chars.grapheme_length``): an emoji family or a letter with combining
accents is one character. The content warning (``spoiler_text``) counts too; the desk
sends none. The sandbox counts with this module, so both sides agree.
"""

from __future__ import annotations

import regex

URL_WEIGHT = 23
DEFAULT_MAX_CHARACTERS = 500  # Mastodon's default; instances may configure another

# twitter-text's URL extraction as Mastodon calls it (protocol required): a link runs to
# whitespace or a quote/angle bracket, minus trailing punctuation that ends the sentence.
_URL = regex.compile(r"(?<![\w/@.])https?://[^\s<>\"]+", regex.IGNORECASE)
_URL_TRAILING = regex.compile(r"[.,;:!?'\)\]]+$")
# Account::MENTION_RE: @username, optionally @domain, not inside a word, URL or e-mail.
MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?)(?:@([\w.-]+\w))?", regex.IGNORECASE)


def urls(text: str) -> list[tuple[int, int]]:
    """(start, end) of each link Mastodon would shorten."""
    spans = []
    for match in _URL.finditer(text):
        trailing = _URL_TRAILING.search(match.group())
        end = match.end() - (len(trailing.group()) if trailing else 0)
        spans.append((match.start(), end))
    return spans


def countable_text(text: str) -> str:
    """The text as Mastodon counts it: links as 23 characters, remote mentions as @user."""
    pieces: list[str] = []
    position = 0
    link_spans = urls(text)
    for start, end in link_spans:
        pieces.append(_local_mentions(text[position:start]))
        pieces.append("x" * URL_WEIGHT)
        position = end
    pieces.append(_local_mentions(text[position:]))
    return "".join(pieces)


def _local_mentions(text: str) -> str:
    return MENTION.sub(lambda m: "@" + m.group(1), text)


def grapheme_count(text: str) -> int:
    return len(regex.findall(r"\X", text))


def status_length(text: str, spoiler_text: str = "") -> int:
    """Mastodon's length of a status with this text (and content warning)."""
    return grapheme_count(spoiler_text) + grapheme_count(countable_text(text))
