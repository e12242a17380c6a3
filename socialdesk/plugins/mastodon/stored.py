"""What the desk already stores about Mastodon statuses: asked before the API is.

A follow-up's thread is usually known (its parent is a stored message), the person
answered is a stored author, and a status met again (stream, then catch-up poll) is
a stored message: looking here first saves Mastodon requests and rate budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from socialdesk.core.store.models import Author, Message, Ticket
from socialdesk.plugins.mastodon.mentions import PLATFORM

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp


async def stored_status_ids(app: DeskApp, status_ids: list[str]) -> set[str]:
    """Which of these statuses the desk holds already (inbound or outbound)."""
    if not status_ids:
        return set()
    async with app.database.sessions() as session:
        rows = await session.scalars(select(Message.external_id).where(
            Message.platform == PLATFORM, Message.external_id.in_(status_ids)))
        return {row for row in rows if row}


async def recorded_replies(app: DeskApp, status_ids: list[str]) -> set[str]:
    """Which of these statuses the desk holds as sent replies."""
    if not status_ids:
        return set()
    async with app.database.sessions() as session:
        rows = await session.scalars(select(Message.external_id).where(
            Message.platform == PLATFORM, Message.direction == "outbound", Message.external_id.in_(status_ids)))
        return {row for row in rows if row}


async def stored_conversation(app: DeskApp, status_id: str) -> str | None:
    """The conversation (thread root) of a stored status, if the desk holds it."""
    async with app.database.sessions() as session:
        return await session.scalar(
            select(Ticket.conversation_id).join(Message, Message.ticket_id == Ticket.id)
            .where(Message.platform == PLATFORM, Message.external_id == status_id).limit(1))


async def stored_author_acct(app: DeskApp, status_id: str) -> str | None:
    """The acct (user or user@domain) of whoever wrote a stored inbound status."""
    async with app.database.sessions() as session:
        return await session.scalar(
            select(Author.handle).join(Message, Message.author_id == Author.id)
            .where(Message.platform == PLATFORM, Message.external_id == status_id).limit(1))


async def latest_customer_acct(app: DeskApp, ticket_id: int) -> str | None:
    """The acct of the author of the ticket's latest inbound status: who a reply answers."""
    async with app.database.sessions() as session:
        return await session.scalar(
            select(Author.handle).join(Message, Message.author_id == Author.id)
            .where(Message.ticket_id == ticket_id, Message.direction == "inbound")
            .order_by(Message.created_at.desc(), Message.id.desc()).limit(1))
