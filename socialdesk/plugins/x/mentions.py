"""An X post (API v2 ``data`` item + ``includes.users``) -> a desk ``Mention``.

The post's conversation id groups it with its thread, so a follow-up joins the ticket
of the conversation. X escapes ``&``, ``<`` and ``>`` in post text and shortens links
to t.co; agents see the text as written and where links really go.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from socialdesk.core.attachments import Attachment
from socialdesk.core.mention import Author, Mention
from socialdesk.plugins.x.brand import WEB, BrandAccount
from socialdesk.plugins.x.snowflake import minted_at

log = logging.getLogger(__name__)

PLATFORM = "x"

# What the pollers ask X for: everything a Mention and its card need, nothing more.
EXPANSIONS = ["author_id", "attachments.media_keys"]
TWEET_FIELDS = ["created_at", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "author_id", "lang",
                "entities", "note_tweet", "attachments"]
MEDIA_FIELDS = ["url", "preview_image_url", "alt_text", "type", "width", "height"]
MEDIA_KINDS = {"photo": "image", "animated_gif": "video", "video": "video"}
USER_FIELDS = ["username", "name", "public_metrics", "verified", "profile_image_url"]


def post_url(post_id: str, username: str | None) -> str:
    return f"{WEB}/{username}/status/{post_id}" if username else f"{WEB}/i/web/status/{post_id}"


def referenced(tweet: Mapping[str, Any], kind: str) -> str | None:
    for ref in tweet.get("referenced_tweets") or ():
        if ref.get("type") == kind:
            return str(ref["id"])
    return None


def is_inbound(tweet: Mapping[str, Any], brand: BrandAccount) -> bool:
    """Posts a ticket should hear about: not our own, not a repost (it asks nothing new)."""
    return str(tweet.get("author_id")) != brand.id and referenced(tweet, "retweeted") is None


def readable_text(tweet: Mapping[str, Any]) -> str:
    note = tweet.get("note_tweet") or {}
    text = note.get("text") or tweet.get("text") or ""  # posts over 280 keep their full text in note_tweet
    entities = (note.get("entities") if note.get("text") else tweet.get("entities")) or {}
    for link in entities.get("urls") or ():
        short, expanded = link.get("url"), link.get("expanded_url")
        if short and expanded:
            text = text.replace(short, expanded)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def created_at(tweet: Mapping[str, Any]) -> datetime:
    raw = tweet.get("created_at")
    if raw:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return minted_at(str(tweet["id"]))  # created_at was asked for; the id knows it too


def author_of(author_id: str, users: Mapping[str, Mapping[str, Any]]) -> Author:
    user = users.get(author_id)
    if user is None:  # X leaves out authors it will not show (suspended, withheld)
        return Author(platform=PLATFORM, external_id=author_id, handle=author_id)
    metrics = user.get("public_metrics") or {}
    return Author(platform=PLATFORM, external_id=author_id, handle=user.get("username") or author_id,
                  display_name=user.get("name"), followers=metrics.get("followers_count"),
                  verified=bool(user.get("verified")),
                  profile_url=f"{WEB}/{user['username']}" if user.get("username") else None)


def media_of(tweet: Mapping[str, Any], media: Mapping[str, Mapping[str, Any]]) -> tuple[Attachment, ...]:
    """The post's photos, videos and GIFs from ``includes.media`` (a photo's ``url``, a video's still)."""
    found = []
    for key in (tweet.get("attachments") or {}).get("media_keys") or ():
        item = media.get(str(key))
        if item is None:
            continue
        kind = str(item.get("type") or "")
        found.append(Attachment(kind=MEDIA_KINDS.get(kind, "file"), url=item.get("url"),
                                preview_url=item.get("preview_image_url"), alt_text=item.get("alt_text"),
                                name=kind.replace("_", " ") or None, width=item.get("width"),
                                height=item.get("height")))
    return tuple(found)


def to_mention(tweet: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]],
               media: Mapping[str, Mapping[str, Any]] | None = None) -> Mention | None:
    """The Mention for one post, or None (logged) when the post cannot be one.

    A post that cannot be read is skipped rather than retried forever: one odd post
    must not stop the timeline behind it.
    """
    try:
        post_id = str(tweet["id"])
        author = author_of(str(tweet["author_id"]), users)
        quoted = referenced(tweet, "quoted")
        return Mention(
            platform=PLATFORM,
            external_id=post_id,
            conversation_id=str(tweet.get("conversation_id") or post_id),
            author=author,
            text=readable_text(tweet),
            created_at=created_at(tweet),
            url=post_url(post_id, author.handle if author.profile_url else None),
            public=True,
            in_reply_to_id=referenced(tweet, "replied_to"),
            attachments=(f"quotes {post_url(quoted, None)}",) if quoted else (),
            media=media_of(tweet, media or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("x post skipped: it cannot be read as a mention",
                    extra={"post_id": tweet.get("id"), "error": repr(exc)})
        return None
