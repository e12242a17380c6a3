"""A Reddit comment or submission -> a desk ``Mention``; which ones match the keywords.

Fields are read from what the listing carried (``vars(thing)``), never through
asyncpraw's lazy attributes, which would fetch. The conversation is the submission:
``link_id`` on listing comments, the ``/comments/<id>/`` part of ``context`` on inbox
items. A deleted author (``[deleted]``) is kept as such: the mention is still stored.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from socialdesk.core.mention import Author, Mention
from socialdesk.plugins.reddit.settings import PLATFORM

_CONTEXT_LINK = re.compile(r"/comments/([a-z0-9]+)/")


class NotAThing(ValueError):
    """What Reddit sent lacks what a mention needs."""


def id36(fullname: str) -> int:
    return int(fullname.partition("_")[2] or fullname, 36)


def fields(thing: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(thing).items() if not k.startswith("_")}


def fullname(data: dict[str, Any], kind: str) -> str:
    name = data.get("name")
    if isinstance(name, str) and "_" in name:
        return name
    if not isinstance(data.get("id"), str):
        raise NotAThing("the thing has no id")
    return f"{kind}_{data['id']}"


def conversation_of(data: dict[str, Any], kind: str) -> str:
    if kind == "t3":
        return fullname(data, "t3")
    link = data.get("link_id")
    if isinstance(link, str) and link.startswith("t3_"):
        return link
    match = _CONTEXT_LINK.search(str(data.get("context") or ""))
    if match:
        return f"t3_{match.group(1)}"
    raise NotAThing("the comment names no submission (link_id or context)")


def author_name(data: dict[str, Any]) -> str:
    author = data.get("author")
    return str(author) if author is not None else "[deleted]"


def text_of(data: dict[str, Any], kind: str) -> str:
    if kind == "t3":
        title, body = str(data.get("title") or ""), str(data.get("selftext") or "")
        return f"{title}\n\n{body}".strip()
    return str(data.get("body") or "")


def matches(text: str, keywords: list[str]) -> bool:
    lowered = text.lower()
    return any(re.search(rf"(?<!\w){re.escape(k.lower())}(?!\w)", lowered) for k in keywords)


def to_mention(data: dict[str, Any], kind: str, reddit_url: str) -> Mention:
    name = author_name(data)
    try:
        created = datetime.fromtimestamp(float(data["created_utc"]), tz=timezone.utc)
    except (KeyError, TypeError, ValueError):
        raise NotAThing("the thing has no created_utc") from None
    link = data.get("permalink") or data.get("context")
    parent = data.get("parent_id")
    return Mention(
        platform=PLATFORM, external_id=fullname(data, kind), conversation_id=conversation_of(data, kind),
        author=Author(platform=PLATFORM, external_id=name, handle=name,
                      profile_url=f"{reddit_url}/user/{name}" if name != "[deleted]" else None),
        text=text_of(data, kind), created_at=created,
        url=f"{reddit_url}{link}" if isinstance(link, str) and link.startswith("/") else None,
        in_reply_to_id=parent if isinstance(parent, str) else None,
    )
