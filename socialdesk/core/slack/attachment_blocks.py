"""Attachments on cards and in card threads: images as image blocks, other files listed.

An image is shown from the platform's own URL (Slack fetches it), only over https and
only while a signed link has not expired; its alt text (the customer's, or the file name)
is escaped and bounded like any stranger text. Everything not shown as an image — videos,
files, images on plain http — is listed with its name, type and size, linked when the
URL is safe.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.models.blocks import Block, ContextBlock, ImageBlock, MarkdownTextObject, PlainTextObject

from socialdesk.core.attachments import Attachment
from socialdesk.core.slack.escaping import cut, escape_mrkdwn, fit, link, one_line

MAX_IMAGES_SHOWN = 4  # per message: a card stays readable (and far below Slack's 50 blocks)
MAX_LISTED = 10
MAX_ALT_CHARS = 2000  # Slack's limit on an image block's alt_text
MAX_TITLE_CHARS = 200
EXPIRY_MARGIN = timedelta(minutes=10)  # Slack fetches the image a little after the post


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _https(url: str | None) -> str | None:
    return url if url and urlsplit(url).scheme == "https" and len(url) <= 3000 else None


def _image_url(a: Attachment, now: datetime) -> str | None:
    if a.expires_at is not None and a.expires_at <= now + EXPIRY_MARGIN:
        return None
    if a.kind == "image":
        return _https(a.url) or _https(a.preview_url)
    if a.kind == "video":
        return _https(a.preview_url)  # a still of the video
    return None


def _label(a: Attachment) -> str:
    return a.name or a.alt_text or {"image": "image", "video": "video", "audio": "audio"}.get(a.kind, "file")


def _listed(a: Attachment) -> str:
    name = cut(one_line(_label(a)), 120)
    shown = link(a.url, name) if a.url else escape_mrkdwn(name)
    details = [escape_mrkdwn(cut(one_line(a.content_type or a.kind), 60))]
    if a.size is not None:
        details.append(human_size(a.size))
    return f"📎 {shown} ({', '.join(details)})"


def media_blocks(media: Sequence[Attachment], now: datetime, *, images: bool = True) -> list[Block]:
    """``images=False``: every attachment listed (Slack could not download one of the images)."""
    blocks: list[Block] = []
    listed: list[str] = []
    for a in media:
        url = _image_url(a, now) if images and len(blocks) < MAX_IMAGES_SHOWN else None
        if url is None:
            listed.append(_listed(a))
            continue
        alt = a.alt_text or a.name or f"{a.kind} attached by the customer"
        title = (a.name or ("video (still)" if a.kind == "video" else None))
        blocks.append(ImageBlock(
            image_url=url, alt_text=fit(one_line(alt), MAX_ALT_CHARS),
            title=PlainTextObject(text=fit(one_line(title), MAX_TITLE_CHARS), emoji=False) if title else None))
        if a.kind == "video" and a.url:
            listed.append(_listed(a))  # the still is shown; the video itself is a link
    if listed:
        more = len(listed) - MAX_LISTED
        lines = listed[:MAX_LISTED] + ([f"and {more} more"] if more > 0 else [])
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=cut("\n".join(lines), 3000), verbatim=True)]))
    return blocks


# --- when Slack cannot download an image ---------------------------------------------------------
# Slack fetches every image block when a message is posted or updated, and refuses the whole
# message (invalid_blocks) when one cannot be downloaded (the post deleted, a private CDN). The
# message must still go out: it is sent again at once with its attachments listed instead.
MAX_REMEMBERED = 10_000
_refused: weakref.WeakKeyDictionary[Any, OrderedDict[str, None]] = weakref.WeakKeyDictionary()


def has_images(blocks: Sequence[Block]) -> bool:
    return any(isinstance(b, ImageBlock) for b in blocks)


def images_refused(app: Any, key: str) -> bool:
    """Did Slack refuse an image of this message (``card:<ticket id>``, ``message:<message id>``)?"""
    return key in _refused.get(app, ())


def remember_refused_images(app: Any, key: str) -> None:
    keys = _refused.setdefault(app, OrderedDict())
    keys[key] = None
    while len(keys) > MAX_REMEMBERED:
        keys.popitem(last=False)
