"""Read models for the Slack side: what a card, a queue listing, a history or stats show.

Plain functions over a session, returning frozen snapshots; the desk service exposes
them as methods. Nothing here writes.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.store.models import Author, Message, OutboxJob, Reply, Ticket, is_active, is_counted_answer
from socialdesk.core.outbox.jobs import JobStatus
from socialdesk.core.ticket import TicketSnapshot, TicketStatus
from socialdesk.core.store.tickets import load_ticket, snapshot


@dataclass(frozen=True, slots=True)
class AuthorSnapshot:
    id: int
    platform: str
    external_id: str
    handle: str
    display_name: str | None
    followers: int | None
    verified: bool
    profile_url: str | None


@dataclass(frozen=True, slots=True)
class MessageSnapshot:
    id: int
    ticket_id: int
    platform: str
    external_id: str | None
    direction: str  # inbound | outbound | note
    author_id: int | None
    agent: str | None
    text: str
    url: str | None
    public: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LatestReply:
    """The newest reply of a ticket, as its card shows it."""

    id: int
    text: str
    agent: str
    status: str
    platform_url: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """A ticket with who wrote it and what they first said (queue and history listings)."""

    ticket: TicketSnapshot
    author: AuthorSnapshot | None
    opening: MessageSnapshot | None


@dataclass(frozen=True, slots=True)
class TicketDetails:
    """Everything a triage card shows about one ticket."""

    ticket: TicketSnapshot
    author: AuthorSnapshot | None
    opening: MessageSnapshot | None
    latest_reply: LatestReply | None
    inbound_count: int
    note_count: int
    closed_by: str | None
    earlier_tickets: int  # other tickets of the same author


@dataclass(frozen=True, slots=True)
class DeskStats:
    since: datetime
    created: int
    replies_sent: int
    closed: int
    spam: int
    active: int  # now, whenever created
    unclaimed: int  # active and nobody holds it, now
    first_response_median_seconds: float | None
    first_response_breaches: int  # created since, answered late or not answered and overdue


@dataclass(frozen=True, slots=True)
class JobState:
    status: str
    not_before: datetime
    attempts: int


def author_snapshot(a: Author | Any) -> AuthorSnapshot:
    return AuthorSnapshot(a.id, a.platform, a.external_id, a.handle, a.display_name, a.followers,
                          bool(a.verified), a.profile_url)


def message_snapshot(m: Message | Any) -> MessageSnapshot:
    return MessageSnapshot(m.id, m.ticket_id, m.platform, m.external_id, m.direction, m.author_id, m.agent,
                           m.text, m.url, bool(m.public), m.created_at)


async def get_message(session: AsyncSession, message_id: int) -> MessageSnapshot | None:
    row = await session.get(Message, message_id)
    return message_snapshot(row) if row else None


async def get_author(session: AsyncSession, author_id: int) -> AuthorSnapshot | None:
    row = await session.get(Author, author_id)
    return author_snapshot(row) if row else None


async def messages_of(session: AsyncSession, ticket_id: int) -> list[MessageSnapshot]:
    rows = await session.scalars(select(Message).where(Message.ticket_id == ticket_id)
                                 .order_by(Message.created_at, Message.id))
    return [message_snapshot(m) for m in rows]


async def _openings(session: AsyncSession, ticket_ids: Sequence[int]) -> dict[int, MessageSnapshot]:
    """The first inbound message of each ticket."""
    if not ticket_ids:
        return {}
    first = (select(Message.ticket_id, func.min(Message.id).label("first_id"))
             .where(Message.ticket_id.in_(ticket_ids), Message.direction == "inbound")
             .group_by(Message.ticket_id).subquery())
    rows = await session.scalars(select(Message).join(first, Message.id == first.c.first_id))
    return {m.ticket_id: message_snapshot(m) for m in rows}


async def _authors(session: AsyncSession, author_ids: Sequence[int]) -> dict[int, AuthorSnapshot]:
    if not author_ids:
        return {}
    rows = await session.scalars(select(Author).where(Author.id.in_(author_ids)))
    return {a.id: author_snapshot(a) for a in rows}


async def summaries(session: AsyncSession, tickets: Sequence[TicketSnapshot]) -> list[TicketSummary]:
    authors = await _authors(session, sorted({t.author_id for t in tickets if t.author_id is not None}))
    openings = await _openings(session, [t.id for t in tickets])
    return [TicketSummary(t, authors.get(t.author_id) if t.author_id else None, openings.get(t.id)) for t in tickets]


async def ticket_details(session: AsyncSession, ticket_id: int) -> TicketDetails:
    row = await load_ticket(session, ticket_id)
    ticket = snapshot(row)
    author = (await _authors(session, [row.author_id])).get(row.author_id) if row.author_id else None
    opening = (await _openings(session, [ticket_id])).get(ticket_id)
    counts = dict((await session.execute(
        select(Message.direction, func.count()).where(Message.ticket_id == ticket_id).group_by(Message.direction)
    )).tuples().all())
    reply = await session.scalar(select(Reply).where(Reply.ticket_id == ticket_id)
                                 .order_by(Reply.id.desc()).limit(1))
    latest = LatestReply(reply.id, reply.text, reply.agent, reply.status, reply.platform_url, reply.error) \
        if reply else None
    earlier = 0
    if row.author_id is not None:
        earlier = await session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.author_id == row.author_id, Ticket.id != ticket_id)) or 0
    return TicketDetails(ticket, author, opening, latest, counts.get("inbound", 0), counts.get("note", 0),
                         row.closed_by, earlier)


# Listings read the ticket columns as plain rows: mapping ORM objects into a session's
# identity map cost as much as the indexed query itself.
_TICKET_COLUMNS = tuple(Ticket.__table__.c)


def queue_query(*, platform: str | None = None, priority: int | None = None, assignee: str | None = None,
                limit: int = 50) -> Select[Any]:
    """Active tickets, most urgent first, oldest first within a priority: read in the order
    of ``ix_tickets_active_queue`` (``ix_tickets_active_assignee`` for one agent's)."""
    return _queue_statement(bool(platform), bool(priority), bool(assignee)).params(
        platform=platform, priority=priority, assignee=assignee, limit=limit)


_AT = {column.key: index for index, column in enumerate(_TICKET_COLUMNS)}
_SNAPSHOT_FIELDS = ("id", "platform", "conversation_id", "status", "priority", "category", "tags", "sentiment",
                    "language", "spam_suspected", "priority_reasons", "suggested_macro", "assignee", "author_id",
                    "first_response_due", "resolution_due", "first_response_at", "snoozed_until", "closed_at",
                    "close_reason", "card_channel", "card_ts", "created_at", "updated_at", "version")
_SNAPSHOT_AT = tuple(_AT[name] for name in _SNAPSHOT_FIELDS)
_TUPLE_FIELDS = (_SNAPSHOT_FIELDS.index("tags"), _SNAPSHOT_FIELDS.index("priority_reasons"))
assert _SNAPSHOT_FIELDS == tuple(f.name for f in dataclasses.fields(TicketSnapshot)), "TicketSnapshot changed"


def snapshot_of_row(row: tuple[Any, ...]) -> TicketSnapshot:
    """``snapshot`` of a row of ``_TICKET_COLUMNS`` by position (by name it cost as much as
    the query: fifty attribute look-ups a ticket)."""
    values = [row[index] for index in _SNAPSHOT_AT]
    for index in _TUPLE_FIELDS:
        values[index] = tuple(values[index] or ())
    return TicketSnapshot(*values)  # _SNAPSHOT_FIELDS is TicketSnapshot's own field order (asserted above)


@cache
def _queue_statement(platform: bool, priority: bool, assignee: bool) -> Select[Any]:
    """Built once per combination of filters: a statement object keeps its cache key, and
    building and keying a select of thirty columns cost several times the indexed query."""
    query = select(*_TICKET_COLUMNS).where(is_active(Ticket.status))
    if platform:
        query = query.where(Ticket.platform == bindparam("platform"))
    if priority:
        query = query.where(Ticket.priority == bindparam("priority"))
    if assignee:
        query = query.where(Ticket.assignee == bindparam("assignee"))
    return query.order_by(Ticket.priority, Ticket.created_at, Ticket.id).limit(bindparam("limit"))


def queue_rows(connection: Connection, *, platform: str | None = None, priority: int | None = None,
               assignee: str | None = None, limit: int = 50) -> list[TicketSnapshot]:
    """``queue_query``'s tickets, for ``Database.run_read``."""
    statement = _queue_statement(platform is not None, priority is not None, assignee is not None)
    values = {"platform": platform, "priority": priority, "assignee": assignee, "limit": limit}
    return [snapshot_of_row(row) for row in connection.execute(statement, values).tuples()]


def history_query(handle: str, *, platform: str | None = None, limit: int = 10) -> Select[Any]:
    """Tickets opened by authors with this handle, newest first (``ix_authors_handle_lower``,
    then ``ix_tickets_author_created``)."""
    handle = handle.strip().removeprefix("@").casefold()
    query = select(*_TICKET_COLUMNS).join(Author, Ticket.author_id == Author.id).where(func.lower(Author.handle) == handle)
    if platform:
        query = query.where(Ticket.platform == platform)
    return query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)


async def history_of(session: AsyncSession, handle: str, *, platform: str | None = None,
                     limit: int = 10) -> list[TicketSummary]:
    """Tickets opened by authors with this handle (any platform unless given), newest first."""
    rows = await session.execute(history_query(handle, platform=platform, limit=limit))
    return await summaries(session, [snapshot(t) for t in rows])


# Listings read as plain rows through ``Database.run_read`` (on a SQLite file one hand-off
# to a thread for all their statements; an ORM session on aiosqlite hands off each one).
_AUTHOR_COLUMNS = tuple(Author.__table__.c)
_MESSAGE_COLUMNS = tuple(Message.__table__.c)


@cache
def _listing_statements() -> tuple[Select[Any], Select[Any]]:
    """Authors by id, and each ticket's first inbound message (built once: see ``_queue_statement``)."""
    authors = select(*_AUTHOR_COLUMNS).where(Author.id.in_(bindparam("author_ids", expanding=True)))
    first = (select(Message.ticket_id, func.min(Message.id).label("first_id"))
             .where(Message.ticket_id.in_(bindparam("ticket_ids", expanding=True)), Message.direction == "inbound")
             .group_by(Message.ticket_id).subquery())
    return authors, select(*_MESSAGE_COLUMNS).join(first, Message.id == first.c.first_id)


def summaries_in(connection: Connection, tickets: Sequence[TicketSnapshot]) -> list[TicketSummary]:
    """``summaries`` for ``Database.run_read``: each ticket with its author and opening."""
    by_id, openings_of = _listing_statements()
    author_ids = sorted({t.author_id for t in tickets if t.author_id is not None})
    authors = {a.id: author_snapshot(a) for a in connection.execute(by_id, {"author_ids": author_ids})} \
        if author_ids else {}
    openings = {m.ticket_id: message_snapshot(m) for m in connection.execute(
        openings_of, {"ticket_ids": [t.id for t in tickets]})} if tickets else {}
    return [TicketSummary(t, authors.get(t.author_id) if t.author_id else None, openings.get(t.id)) for t in tickets]


@cache
def _history_statement(platform: bool) -> Select[Any]:
    query = select(*_TICKET_COLUMNS).join(Author, Ticket.author_id == Author.id).where(
        func.lower(Author.handle) == bindparam("handle"))
    if platform:
        query = query.where(Ticket.platform == bindparam("platform"))
    return query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(bindparam("limit"))


def history_in(connection: Connection, handle: str, *, platform: str | None = None,
               limit: int = 10) -> list[TicketSummary]:
    """``history_of`` for ``Database.run_read``."""
    rows = connection.execute(_history_statement(platform is not None), {
        "handle": handle.strip().removeprefix("@").casefold(), "platform": platform, "limit": limit})
    return summaries_in(connection, [snapshot_of_row(t) for t in rows.tuples()])


async def stats(session: AsyncSession, since: datetime, now: datetime) -> DeskStats:
    created_rows = (await session.execute(
        select(Ticket.created_at, Ticket.first_response_at, Ticket.first_response_due, Ticket.status,
               Ticket.closed_at).where(Ticket.created_at >= since)
    )).all()
    waits = [(r.first_response_at - r.created_at).total_seconds() for r in created_rows if r.first_response_at]

    def breached(r: Any) -> bool:
        """Answered after the due time, or left unanswered past it (spam never needed an answer)."""
        if r.first_response_due is None or r.status == TicketStatus.SPAM:
            return False
        answered_or_given_up = r.first_response_at or (r.closed_at if r.status == TicketStatus.CLOSED else now)
        return bool(answered_or_given_up > r.first_response_due)

    breaches = sum(1 for r in created_rows if breached(r))
    replies_sent = await session.scalar(select(func.count()).select_from(Reply).where(
        is_counted_answer(), Reply.finished_at >= since)) or 0
    ended = dict((await session.execute(
        select(Ticket.status, func.count()).where(Ticket.closed_at >= since,
                                                 Ticket.status.in_((TicketStatus.CLOSED, TicketStatus.SPAM)))
        .group_by(Ticket.status)
    )).tuples().all())
    active = await session.scalar(select(func.count()).select_from(Ticket).where(
        is_active(Ticket.status))) or 0
    unclaimed = await session.scalar(select(func.count()).select_from(Ticket).where(
        and_(is_active(Ticket.status), Ticket.assignee.is_(None)))) or 0
    return DeskStats(since, len(created_rows), replies_sent, ended.get(TicketStatus.CLOSED, 0),
                     ended.get(TicketStatus.SPAM, 0), active, unclaimed,
                     statistics.median(waits) if waits else None, breaches)


async def latest_job(session: AsyncSession, ticket_id: int, kind: str) -> JobState | None:
    row = (await session.execute(
        select(OutboxJob.status, OutboxJob.not_before, OutboxJob.attempts)
        .where(OutboxJob.ticket_id == ticket_id, OutboxJob.kind == kind)
        .order_by(OutboxJob.id.desc()).limit(1)
    )).first()
    return JobState(row.status, row.not_before, row.attempts) if row else None


async def more_urgent_due(session: AsyncSession, kinds: Sequence[str], priority: int, now: datetime) -> bool:
    """Is a job of ``kinds`` more urgent than ``priority`` waiting to run right now?"""
    found = await session.scalar(
        select(OutboxJob.id).where(OutboxJob.kind.in_(list(kinds)), OutboxJob.status == JobStatus.PENDING,
                                   OutboxJob.priority < priority, OutboxJob.not_before <= now).limit(1))
    return found is not None
