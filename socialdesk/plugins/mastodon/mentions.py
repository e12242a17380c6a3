"""A Mastodon mention notification -> a desk ``Mention``.

The desk stores the status (not the notification): its id is the external id, so the
same status reached by the stream and by a catch-up poll is stored once. Only
``public`` and ``unlisted`` statuses are public; a followers-only or ``direct`` mention
is private, and its card says so. The conversation id is given by the caller
(``threads``), because finding a thread's root may need the API.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from socialdesk.core.attachments import Attachment
from socialdesk.core.mention import Author, Mention
from socialdesk.plugins.mastodon.html_text import html_to_text

log = logging.getLogger(__name__)

PLATFORM = "mastodon"
PUBLIC_VISIBILITIES = ("public", "unlisted")


def status_of(notification: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The status a mention notification is about, or None (another type, or the status is gone)."""
    if notification.get("type") != "mention":
        return None
    status = notification.get("status")
    return status if isinstance(status, Mapping) else None


def is_inbound(status: Mapping[str, Any], brand_id: str) -> bool:
    """Statuses a ticket should hear about: not the brand's own."""
    account = status.get("account") or {}
    return str(account.get("id")) != brand_id


def timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def author_of(account: Mapping[str, Any]) -> Author:
    return Author(platform=PLATFORM, external_id=str(account["id"]),
                  handle=str(account.get("acct") or account.get("username") or account["id"]),
                  display_name=account.get("display_name") or None,
                  followers=account.get("followers_count") if isinstance(account.get("followers_count"), int)
                  and account.get("followers_count", 0) >= 0 else None,
                  profile_url=account.get("url") or None)


def readable_text(status: Mapping[str, Any]) -> str:
    text = html_to_text(str(status.get("content") or ""))
    warning = str(status.get("spoiler_text") or "").strip()
    return f"CW: {warning}\n\n{text}" if warning else text


def attachments_of(status: Mapping[str, Any]) -> tuple[str, ...]:
    found = []
    for media in status.get("media_attachments") or ():
        if isinstance(media, Mapping) and media.get("url"):
            label = media.get("description") or media.get("type") or "attachment"
            found.append(f"{label}: {media['url']}")
    if status.get("visibility") == "direct":
        found.append("sent as a private mention: only the people it mentions can see it")
    elif status.get("visibility") == "private":
        found.append("followers-only: the author's followers and the people it mentions can see it")
    return tuple(found)


MASTODON_KINDS = {"image": "image", "gifv": "video", "video": "video", "audio": "audio"}


def media_of(status: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """The status's media attachments: the file's URL, a still (``preview_url``), the alt text."""
    found = []
    for media in status.get("media_attachments") or ():
        if not isinstance(media, Mapping):
            continue
        original = (media.get("meta") or {}).get("original") or {}
        found.append(Attachment(kind=MASTODON_KINDS.get(str(media.get("type")), "file"),
                                url=media.get("url") or media.get("remote_url"), preview_url=media.get("preview_url"),
                                alt_text=media.get("description"), name=str(media.get("type") or "") or None,
                                width=original.get("width") if isinstance(original, Mapping) else None,
                                height=original.get("height") if isinstance(original, Mapping) else None))
    return tuple(found)


def to_mention(status: Mapping[str, Any], conversation_id: str) -> Mention | None:
    """The Mention for one status, or None (logged) when the status cannot be one.

    A status that cannot be read is skipped rather than retried forever: one odd
    status must not stop the notifications behind it.
    """
    try:
        status_id = str(status["id"])
        visibility = status.get("visibility")
        return Mention(
            platform=PLATFORM,
            external_id=status_id,
            conversation_id=conversation_id,
            author=author_of(status["account"]),
            text=readable_text(status),
            created_at=timestamp(status["created_at"]),
            url=str(status.get("url") or status.get("uri") or "") or None,
            public=visibility in PUBLIC_VISIBILITIES,
            in_reply_to_id=str(status["in_reply_to_id"]) if status.get("in_reply_to_id") else None,
            attachments=attachments_of(status),
            media=media_of(status),
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("mastodon status skipped: it cannot be read as a mention",
                    extra={"status_id": status.get("id"), "error": repr(exc)})
        return None
