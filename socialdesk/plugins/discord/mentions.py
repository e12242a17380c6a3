"""A ``discord.Message`` becomes a desk :class:`~socialdesk.core.mention.Mention`.

The conversation is decided by :mod:`socialdesk.plugins.discord.conversations`; this
module names the message (see :mod:`socialdesk.plugins.discord.refs`), keeps its author,
its readable text and a one-line summary of each attachment, embed and sticker, which the
card shows: agents see "invoice.pdf (application/pdf, 16 B)" without opening Discord.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import discord

from socialdesk.core.attachments import Attachment, kind_of
from socialdesk.core.mention import Author, Mention
from socialdesk.plugins.discord.conversations import is_reply
from socialdesk.plugins.discord.refs import MessageRef
from socialdesk.plugins.discord.settings import PLATFORM

MAX_SUMMARIES = 10
MAX_SUMMARY_CHARS = 300
PROFILE_URL = "https://discord.com/users/{}"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summarise_attachment(attachment: discord.Attachment) -> str:
    kind = attachment.content_type or "file"
    return _clip(f"{attachment.filename} ({kind}, {_size(attachment.size)}): {attachment.url}", MAX_SUMMARY_CHARS)


def summarise_embed(embed: discord.Embed) -> str:
    title = embed.title or (embed.provider.name if embed.provider else None) or (embed.author.name if embed.author else None)
    parts = [f"embed: {title or embed.type or 'rich'}"]
    if embed.description:
        parts.append(_clip(embed.description, 120))
    if embed.url:
        parts.append(str(embed.url))
    return _clip(" — ".join(parts), MAX_SUMMARY_CHARS)


def summarise_extras(message: discord.Message) -> tuple[str, ...]:
    """Attachments, embeds and stickers as short lines (bounded: a stranger wrote them)."""
    lines = [summarise_attachment(a) for a in message.attachments]
    lines += [summarise_embed(e) for e in message.embeds]
    lines += [f"sticker: {_clip(s.name, 80)}" for s in message.stickers]
    if len(lines) > MAX_SUMMARIES:
        lines = lines[: MAX_SUMMARIES - 1] + [f"and {len(lines) - MAX_SUMMARIES + 1} more"]
    return tuple(lines)


def _link_expiry(url: str) -> datetime | None:
    """Discord's CDN links are signed until ``ex`` (hex Unix seconds); None when unsigned."""
    raw = parse_qs(urlsplit(url).query).get("ex", [""])[0]
    try:
        return datetime.fromtimestamp(int(raw, 16), tz=timezone.utc) if raw else None
    except (ValueError, OverflowError):
        return None


def media_of(message: discord.Message) -> tuple[Attachment, ...]:
    """Each attachment's metadata (name, type, size, alt text, link) for the card."""
    return tuple(Attachment(kind=kind_of(a.content_type), url=a.url, name=a.filename, content_type=a.content_type,
                            size=a.size, alt_text=a.description, width=a.width, height=a.height,
                            expires_at=_link_expiry(a.url))
                 for a in message.attachments)


def author_of(user: discord.User | discord.Member) -> Author:
    display = user.display_name if user.display_name != user.name else None
    return Author(platform=PLATFORM, external_id=str(user.id), handle=user.name, display_name=display,
                  followers=None, verified=False, profile_url=PROFILE_URL.format(user.id))


def message_ref(message: discord.Message, guild_id: int) -> MessageRef:
    return MessageRef(guild_id, message.channel.id, message.id)


def to_mention(message: discord.Message, guild_id: int, conversation_id: str) -> Mention:
    ref = message_ref(message, guild_id)
    in_reply_to = None
    if is_reply(message):
        assert message.reference is not None and message.reference.message_id is not None
        in_reply_to = MessageRef(guild_id, message.channel.id, message.reference.message_id).external_id
    private = isinstance(message.channel, discord.Thread) and message.channel.is_private()
    return Mention(
        platform=PLATFORM,
        external_id=ref.external_id,
        conversation_id=conversation_id,
        author=author_of(message.author),
        # clean_content shows <@123> as @name and defuses @everyone; the card escapes it again.
        text=message.clean_content,
        created_at=message.created_at,
        url=ref.url,
        public=not private,
        in_reply_to_id=in_reply_to,
        attachments=summarise_extras(message),
        media=media_of(message),
    )
