"""Reading tickets and writing their audit trail, shared by ingest and the state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.errors import TicketNotFound
from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.store.models import AuditEvent, Ticket
from socialdesk.core.ticket import TicketSnapshot


def snapshot(t: Ticket | Row[Any]) -> TicketSnapshot:
    """A ticket, from its ORM object or a row of its columns (listings read rows)."""
    return TicketSnapshot(
        id=t.id, platform=t.platform, conversation_id=t.conversation_id, status=t.status,
        priority=t.priority, category=t.category, tags=tuple(t.tags or ()), sentiment=t.sentiment,
        language=t.language, spam_suspected=t.spam_suspected,
        priority_reasons=tuple(t.priority_reasons or ()), suggested_macro=t.suggested_macro,
        assignee=t.assignee, author_id=t.author_id, first_response_due=t.first_response_due,
        resolution_due=t.resolution_due, first_response_at=t.first_response_at,
        snoozed_until=t.snoozed_until, closed_at=t.closed_at, close_reason=t.close_reason,
        card_channel=t.card_channel, card_ts=t.card_ts, created_at=t.created_at,
        updated_at=t.updated_at, version=t.version,
    )


async def load_ticket(session: AsyncSession, ticket_id: int, *, lock: bool = False) -> Ticket:
    """The ticket, row-locked on PostgreSQL when ``lock`` (SQLite's BEGIN IMMEDIATE already is)."""
    query = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        query = query.with_for_update()
    ticket = await session.scalar(query)
    if ticket is None:
        raise TicketNotFound(ticket_id)
    return ticket


@dataclass
class ChangeLog:
    """Audit rows written in the transaction, and the events to publish after it commits."""

    events: list[TicketEvent] = field(default_factory=list)

    def record(
        self,
        session: AsyncSession,
        kind: EventKind,
        ticket_id: int,
        actor: str,
        at: datetime,
        **details: Any,
    ) -> None:
        session.add(AuditEvent(ticket_id=ticket_id, kind=kind.value, actor=actor, at=at, details=details))
        self.events.append(TicketEvent(kind, ticket_id, actor, at, details))
