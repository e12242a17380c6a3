"""Discord attachments are stored as structured media (name, type, size, link, alt text,
signed-link expiry) beside the one-line summaries, for the card to show."""

from __future__ import annotations

from sqlalchemy import select

from socialdesk.core.attachments import stored_media
from socialdesk.core.store.models import Message
from tests.discord_plugin.desk_driver import DiscordDesk

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def test_attachments_are_stored_with_their_metadata(desk: DiscordDesk) -> None:
    emulator = desk.emulator
    emulator.post_message(
        emulator.channel_id("support"), "alice", "the box and the invoice", mentions_bot=True,
        attachments=[{"filename": "box.png", "data": PNG, "content_type": "image/png"},
                     {"filename": "invoice.pdf", "data": b"%PDF-1.7 " + b"x" * 2000, "content_type": "application/pdf"}])
    [stored] = await desk.until_inbound(1)
    async with desk.app.database.sessions() as session:
        media = stored_media(await session.scalar(select(Message.media).where(
            Message.external_id == stored.external_id)))
    image, pdf = media
    assert (image.kind, image.name, image.content_type, image.size) == ("image", "box.png", "image/png", len(PNG))
    assert (pdf.kind, pdf.name, pdf.content_type, pdf.size) == ("file", "invoice.pdf", "application/pdf", 2009)
    assert image.url and image.url.startswith("http://127.0.0.1:") and image.url.endswith("/box.png")
