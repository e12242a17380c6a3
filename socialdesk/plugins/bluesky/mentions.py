"""A Bluesky notification (mention, reply or quote of the brand) -> a desk ``Mention``.

The thread's root post is the conversation: a reply names it in ``record.reply.root``;
a post that is no reply is its own root. Bluesky posts carry their links and mentions
as facets over UTF-8 byte ranges, and the visible text of a link need not be its
target ("bsky.app/help" can point anywhere): agents see the target next to any link
whose text does not already say it. ``indexedAt`` (when Bluesky saw the post) dates a
mention; the record's ``createdAt`` is whatever the author's app claimed.

Notifications are read as plain JSON, one at a time: one odd record is skipped and
logged, it never stops the page behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from socialdesk.core.attachments import Attachment
from socialdesk.core.mention import Author, Mention
from socialdesk.plugins.bluesky.brand import WEB, BrandAccount, post_web_url

log = logging.getLogger(__name__)

PLATFORM = "bluesky"
REASONS = ("mention", "reply", "quote")
LINK = "app.bsky.richtext.facet#link"


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"datetime without a timezone: {value!r}")
    return parsed


def _ref_uri(record: Mapping[str, Any], part: str) -> str | None:
    reply = record.get("reply")
    ref = reply.get(part) if isinstance(reply, Mapping) else None
    uri = ref.get("uri") if isinstance(ref, Mapping) else None
    return uri if isinstance(uri, str) and uri.startswith("at://") else None


def conversation_of(uri: str, record: Mapping[str, Any]) -> str:
    return _ref_uri(record, "root") or uri


def _says(shown: str, uri: str) -> bool:
    """Does the visible text of a link name its target (the Bluesky app shortens long ones with "...")?"""
    shown = shown.strip().rstrip("/")
    bare = uri.split("://", 1)[-1].rstrip("/")
    for ellipsis in ("...", "…"):
        if shown.endswith(ellipsis) and len(shown) > len(ellipsis):
            prefix = shown[: -len(ellipsis)].split("://", 1)[-1]
            # The host must be shown whole: "bsky.app..." must not vouch for bsky.app.example.net.
            return "/" in prefix and bare.startswith(prefix)
    return shown in (uri.rstrip("/"), bare)


def readable_text(record: Mapping[str, Any]) -> str:
    """The text as written, with the real target after any link whose visible text differs."""
    text = record.get("text")
    if not isinstance(text, str):
        return ""
    raw = text.encode("utf-8", errors="surrogatepass")
    targets: list[tuple[int, str]] = []
    for facet in record.get("facets") or ():
        if not isinstance(facet, Mapping):
            continue
        index = facet.get("index") or {}
        end = index.get("byteEnd") if isinstance(index, Mapping) else None
        start = index.get("byteStart") if isinstance(index, Mapping) else None
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end <= len(raw):
            continue
        for feature in facet.get("features") or ():
            uri = feature.get("uri") if isinstance(feature, Mapping) and feature.get("$type") == LINK else None
            if not isinstance(uri, str):
                continue
            if not _says(raw[start:end].decode("utf-8", errors="replace"), uri):
                targets.append((end, f" ({uri})"))
    for end, note in sorted(targets, reverse=True):
        raw = raw[:end] + note.encode() + raw[end:]
    return raw.decode("utf-8", errors="replace")


def attachments_of(record: Mapping[str, Any]) -> tuple[str, ...]:
    embed = record.get("embed")
    if not isinstance(embed, Mapping):
        return ()
    kind = embed.get("$type")
    found: list[str] = []
    quoted = embed.get("record") if kind == "app.bsky.embed.record" else \
        (embed.get("record") or {}).get("record") if kind == "app.bsky.embed.recordWithMedia" else None
    if isinstance(quoted, Mapping) and isinstance(quoted.get("uri"), str):
        author = quoted["uri"][5:].split("/", 1)[0]
        found.append(f"quotes {post_web_url(author, quoted['uri'])}")
    media = embed.get("media") if kind == "app.bsky.embed.recordWithMedia" else embed
    if isinstance(media, Mapping) and media.get("$type") == "app.bsky.embed.images":
        for image in media.get("images") or ():
            alt = image.get("alt") if isinstance(image, Mapping) else None
            found.append(f"image: {alt}" if alt else "image")
    if isinstance(media, Mapping) and media.get("$type") == "app.bsky.embed.external":
        external = media.get("external") or {}
        if isinstance(external, Mapping) and isinstance(external.get("uri"), str):
            found.append(f"link card: {external['uri']}")
    return tuple(found)


CDN_IMAGE = "https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg"


def media_of(record: Mapping[str, Any], did: str) -> tuple[Attachment, ...]:
    """A post's images (``app.bsky.embed.images``, alone or with a quote), served by Bluesky's CDN
    from the author's blob: what the app shows, with the alt text the author wrote."""
    embed = record.get("embed")
    if not isinstance(embed, Mapping):
        return ()
    media = embed.get("media") if embed.get("$type") == "app.bsky.embed.recordWithMedia" else embed
    if not isinstance(media, Mapping) or media.get("$type") != "app.bsky.embed.images":
        return ()
    found = []
    for image in media.get("images") or ():
        blob = image.get("image") if isinstance(image, Mapping) else None
        cid = ((blob or {}).get("ref") or {}).get("$link") if isinstance(blob, Mapping) else None
        if not isinstance(cid, str) or not cid.isalnum():
            continue
        ratio = image.get("aspectRatio") or {}
        found.append(Attachment(kind="image", url=CDN_IMAGE.format(did=did, cid=cid), alt_text=image.get("alt"),
                                content_type=blob.get("mimeType"), size=blob.get("size"), name="image",
                                width=ratio.get("width") if isinstance(ratio, Mapping) else None,
                                height=ratio.get("height") if isinstance(ratio, Mapping) else None))
    return tuple(found)


def is_inbound(notification: Mapping[str, Any], brand: BrandAccount) -> bool:
    """Notifications a ticket should hear about: mentions, replies, quotes, not by the brand itself."""
    author = notification.get("author") or {}
    return notification.get("reason") in REASONS and author.get("did") != brand.did


def to_mention(notification: Mapping[str, Any]) -> Mention | None:
    """The Mention for one notification, or None (logged) when it cannot be one."""
    try:
        uri = str(notification["uri"])
        record = notification.get("record")
        if not isinstance(record, Mapping):
            raise ValueError("the notification carries no post record")
        author_view = notification["author"]
        did, handle = str(author_view["did"]), str(author_view.get("handle") or author_view["did"])
        display_name = author_view.get("displayName")
        author = Author(platform=PLATFORM, external_id=did, handle=handle,
                        display_name=display_name if isinstance(display_name, str) and display_name else None,
                        profile_url=f"{WEB}/profile/{handle}")
        return Mention(
            platform=PLATFORM,
            external_id=uri,
            conversation_id=conversation_of(uri, record),
            author=author,
            text=readable_text(record),
            created_at=parse_time(str(notification["indexedAt"])),
            url=post_web_url(handle, uri),
            public=True,
            in_reply_to_id=_ref_uri(record, "parent"),
            attachments=tuple(attachments_of(record)),
            media=media_of(record, did),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("bluesky notification skipped: it cannot be read as a mention",
                    extra={"uri": str(notification.get("uri"))[:200], "error": repr(exc)[:300]})
        return None
