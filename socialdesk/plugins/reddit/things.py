"""A Reddit comment or submission -> a desk ``Mention``; which ones match the keywords.

Fields are read from what the listing carried (``vars(thing)``), never through
asyncpraw's lazy attributes, which would fetch. The conversation is the submission:
``link_id`` on listing comments, the ``/comments/<id>/`` part of ``context`` on inbox
items. A deleted author (``[deleted]``) is kept as such: the mention is still stored.
Images and videos come from the listing too: a gallery's ``media_metadata`` in
``gallery_data`` order, a hosted image (``post_hint``) or video (``media.reddit_video``)
with the still from ``preview``; Reddit writes those URLs HTML-escaped (``&amp;``).
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timezone
from typing import Any

from socialdesk.core.attachments import MAX_ATTACHMENTS, Attachment
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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _url(value: Any) -> str | None:
    return html.unescape(value) if isinstance(value, str) else None


def _preview(data: dict[str, Any]) -> dict[str, Any]:
    """The first preview image's source: ``{url, width, height}``, or nothing."""
    images = _dict(data.get("preview")).get("images")
    first = images[0] if isinstance(images, list) and images else None
    return _dict(_dict(first).get("source"))


def media_of(data: dict[str, Any]) -> tuple[Attachment, ...]:
    """What a submission (or a comment's inline images) shows: gallery items, a hosted image
    or a hosted video. Link posts to other sites carry no media of their own."""
    metadata = _dict(data.get("media_metadata"))
    if metadata:
        items = _dict(data.get("gallery_data")).get("items")
        order = ([(_dict(i).get("media_id"), _dict(i).get("caption")) for i in items] if isinstance(items, list)
                 else [(key, None) for key in metadata])
        found: list[Attachment] = []
        for media_id, caption in order[:MAX_ATTACHMENTS]:
            meta = _dict(metadata.get(media_id)) if isinstance(media_id, str) else {}
            if meta.get("status") != "valid" or meta.get("e") not in ("Image", "AnimatedImage"):
                continue  # still processing, failed, or a video only Reddit's player shows
            source = _dict(meta.get("s"))
            found.append(Attachment(kind="image", url=_url(source.get("u") or source.get("gif")),
                                    content_type=meta.get("m"), width=source.get("x"), height=source.get("y"),
                                    alt_text=caption if isinstance(caption, str) else None))
        return tuple(found)
    preview = _preview(data)
    video = _dict(_dict(data.get("secure_media") or data.get("media")).get("reddit_video"))
    if data.get("is_video") and video.get("fallback_url"):
        return (Attachment(kind="video", url=_url(video["fallback_url"]), content_type="video/mp4",
                           width=video.get("width"), height=video.get("height"),
                           preview_url=_url(preview.get("url"))),)
    if data.get("post_hint") == "image" and data.get("url"):
        return (Attachment(kind="image", url=_url(data["url"]), width=preview.get("width"),
                           height=preview.get("height")),)
    return ()


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
        in_reply_to_id=parent if isinstance(parent, str) else None, media=media_of(data),
    )
