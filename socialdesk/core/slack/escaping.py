"""Untrusted text (anything a stranger wrote) made safe to show in Slack.

Slack parses ``<...>`` sequences in text as mentions (``<!channel>``, ``<@U123>``,
``<!subteam^S1>``), channel links and labelled links (``<https://evil|docs>``); ``&``,
``<`` and ``>`` are escaped so none of these can be formed. Plain ``@here``/``@channel``
words and ``#channel`` names are linkified by some surfaces, so a word joiner is put after
the sign; mrkdwn markers (``*_~`` and backticks, a leading ``>``) are swapped for
lookalikes so a stranger cannot restyle the card. Invisible characters that could hide
or reorder text (bidi overrides, zero-width spaces) are removed first.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

WORD_JOINER = "\u2060"
ELLIPSIS = "…"

# Bidi embeddings/overrides/isolates, zero-width space, word joiner, BOM and the like.
# The zero-width joiner (U+200D) is kept: emoji sequences need it.
_INVISIBLE = re.compile("[\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_CONTROL = {c for c in map(chr, range(1, 32)) if c not in "\n\t"} | {"\x7f"}
# Kept by the store exactly as written, shown as visible stand-ins: a NUL as the symbol
# for it, a lone UTF-16 surrogate (which no JSON encoder can send to Slack) as U+FFFD.
_SHOWN_AS = str.maketrans({"\x00": "\u2400", **{chr(c): "\ufffd" for c in range(0xD800, 0xE000)}})
# Lookalikes that Slack's mrkdwn parser does not treat as markers.
_MRKDWN_MARKERS = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
_SIGIL_WORD = re.compile(r"([@#!])(?=\w)")
_URL_UNSAFE = re.compile(r"[\s<>|\"'`\\]")


def clean(text: str) -> str:
    """Text with control and invisible formatting characters removed (newlines kept), NUL
    shown as ␀ and lone surrogates as U+FFFD."""
    text = unicodedata.normalize("NFC", text.translate(_SHOWN_AS))
    text = _INVISIBLE.sub("", text)
    return "".join(ch for ch in text if ch not in _CONTROL)


def escape_text(text: str) -> str:
    """For plain_text objects and the notification text: nothing forms a mention or link."""
    text = clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SIGIL_WORD.sub(lambda m: m.group(1) + WORD_JOINER, text)


def escape_mrkdwn(text: str) -> str:
    """For mrkdwn objects (use ``verbatim=True`` too): also no bold, italics, code or quotes."""
    return escape_text(text).translate(_MRKDWN_MARKERS)


def slack_length(text: str) -> int:
    """Length as Slack counts its limits: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _prefix(text: str, units: int) -> str:
    """The longest start of ``text`` within ``units`` UTF-16 units (never half an emoji)."""
    if len(text) * 2 <= units:
        return text
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            return text[:index]
    return text


def cut(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` (Slack's UTF-16 units), ending with an ellipsis when shortened."""
    if slack_length(text) <= limit:
        return text
    return _prefix(text, max(0, limit - 1)).rstrip() + ELLIPSIS


def fit(text: str, limit: int, *, mrkdwn: bool = False) -> str:
    """Escape then make it fit ``limit`` (UTF-16 units, as Slack counts), cutting the raw text (never an entity)."""
    escaper = escape_mrkdwn if mrkdwn else escape_text
    raw = clean(text)
    escaped = escaper(raw)
    while slack_length(escaped) > limit and raw:
        # Escaping can lengthen text up to 5x (& -> &amp;); shrink the raw text by the excess.
        raw = cut(raw, max(1, slack_length(raw) - (slack_length(escaped) - limit) - 1))
        escaped = escaper(raw)
        if len(raw) <= 1:
            break
    return _prefix(escaped, limit)


def one_line(text: str) -> str:
    """Newlines and runs of spaces folded into single spaces (for previews and lists)."""
    return " ".join(text.split())


def safe_url(url: str | None) -> str | None:
    """An http(s) URL safe inside ``<url|label>``, or ``None`` if it is not one.

    Characters that would end the link or start a label are percent-encoded, so a
    crafted URL can neither change the label nor smuggle a second link.
    """
    if not url:
        return None
    url = clean(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or len(url) > 2000:
        return None
    # Inside <url|label> Slack decodes &amp; back to &, as it does in all text.
    return _URL_UNSAFE.sub(lambda m: quote(m.group(0), safe=""), url).replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """A mrkdwn link with an escaped label; just the label when the URL is not safe."""
    target = safe_url(url)
    shown = escape_mrkdwn(label)
    return f"<{target}|{shown}>" if target else shown
