"""Ticket states and the read-only snapshot of a ticket that plugins receive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class TicketStatus(StrEnum):
    OPEN = "open"  # needs an answer (claimed or not: see ``assignee``)
    WAITING = "waiting"  # answered; waiting on the customer
    SNOOZED = "snoozed"  # hidden until ``snoozed_until``
    CLOSED = "closed"
    SPAM = "spam"


# At most one ticket per conversation may be in one of these states (a partial unique index).
ACTIVE_STATUSES: tuple[str, ...] = (TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.SNOOZED)
ENDED_STATUSES: tuple[str, ...] = (TicketStatus.CLOSED, TicketStatus.SPAM)


class ReplyStatus(StrEnum):
    PENDING = "pending"  # written, its outbox job not yet run
    SENDING = "sending"  # the request may be on its way
    SENT = "sent"
    FAILED = "failed"  # the platform refused; nothing was posted
    UNCERTAIN = "uncertain"  # may have been posted; an agent decides, never re-sent on its own
    DISCARDED = "discarded"  # an agent dropped an uncertain or failed reply
    CHANGING = "changing"  # sent; an edit or delete of it is on its way (socialdesk.core.reply_corrections)
    EDITED = "edited"  # sent, then edited in place (its text is the new one) or replaced by a new reply (X)
    DELETED = "deleted"  # sent, then deleted from the platform


# Replies that reached the platform, corrected since or not: what counts as "a reply was sent".
POSTED_REPLY_STATUSES: tuple[str, ...] = (ReplyStatus.SENT, ReplyStatus.CHANGING, ReplyStatus.EDITED,
                                          ReplyStatus.DELETED)


def ticket_ref(ticket_id: int) -> str:
    """The short human id agents type: ``#42``."""
    return f"#{ticket_id}"


@dataclass(frozen=True, slots=True)
class OpenedTicket:
    """A ticket the ingest writer has just opened, still inside its transaction."""

    ticket_id: int
    platform: str
    priority: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RequeuedTicket:
    """An active ticket whose status or priority a customer's follow-up has just changed
    (woken from waiting or snoozed, or made more urgent), still inside the ingest transaction."""

    ticket_id: int
    status: str
    priority: int


@dataclass(frozen=True, slots=True)
class TicketSnapshot:
    """A ticket as it was when read; plugins get this, never a live ORM object."""

    id: int
    platform: str
    conversation_id: str
    status: str
    priority: int
    category: str
    tags: tuple[str, ...]
    sentiment: str | None
    language: str | None
    spam_suspected: bool
    priority_reasons: tuple[str, ...]
    suggested_macro: str | None
    assignee: str | None
    author_id: int | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_at: datetime | None
    snoozed_until: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    card_channel: str | None
    card_ts: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def ref(self) -> str:
        return ticket_ref(self.id)
