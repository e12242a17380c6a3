"""Reading what customers attached to their messages (``messages.media``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from socialdesk.core.attachments import Attachment, stored_media
from socialdesk.core.store.database import Database
from socialdesk.core.store.models import Message


async def media_of(database: Database, message_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """Each message's attachments (messages without any are left out)."""
    if not message_ids:
        return {}
    async with database.sessions() as session:
        rows = await session.execute(select(Message.id, Message.media).where(
            Message.id.in_(list(message_ids)), Message.media.is_not(None)))
        return {row.id: media for row in rows if (media := stored_media(row.media))}
