"""The ``past_answer_vectors`` rows: written when an answered ticket is closed, read by
every replica's index, and checked against the live tables whenever one is suggested.

An answer is indexed once (unique reply id): by the CLOSED (or late REPLY_SENT) observer
at once, and by the leader's catch-up sweep for closes whose event was lost in a crash.
Whether an indexed answer may still be suggested is never cached: the lookup asks the
replies, tickets and surveys tables (reply still ``sent``, so neither edited nor
deleted; ticket still closed; CSAT not below the minimum; text not redacted by retention).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.exc import IntegrityError

from socialdesk.core.events import EventKind
from socialdesk.core.store.database import Database
from socialdesk.core.store.models import AuditEvent, Author, CsatSurvey, Message, PastAnswerVector, Reply, Ticket
from socialdesk.core.ticket import ReplyStatus, TicketStatus
from socialdesk.plugins.csat.store import SurveyStatus
from socialdesk.plugins.suggestions.vectors import terms

log = logging.getLogger(__name__)

# Statuses a reply takes when an agent changes it after it was sent (reply editing):
# such an answer is never suggested. Only ``sent`` replies are, which leaves these out;
# they are named so that the rule is stated where it is enforced.
NEVER_SUGGESTED_REPLY_STATUSES = ("edited", "deleted")


@dataclass(frozen=True, slots=True)
class VectorRow:
    id: int
    language: str | None
    terms: dict[str, int]
    indexed_at: datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    """An indexed answer that may be suggested, with what the form shows of it."""

    row_id: int
    reply_id: int
    ticket_id: int
    platform: str
    answer_text: str
    agent: str
    answered_at: datetime
    customer_text: str
    author_handle: str | None
    author_name: str | None
    csat: int | None


def _redacted(ticket_id: Any) -> Any:
    """Retention replaced this ticket's texts: nothing of it is indexed or suggested any more."""
    return exists().where(AuditEvent.ticket_id == ticket_id, AuditEvent.kind == EventKind.MESSAGES_REDACTED)


def _customer_texts(messages: Sequence[Message], up_to: int | None) -> list[str]:
    """What the customer had written when the answer was written: the inbound messages up to the one answered."""
    inbound = [m for m in messages if m.direction == "inbound"]
    if up_to is not None and any(m.id == up_to for m in inbound):
        inbound = inbound[:next(i for i, m in enumerate(inbound) if m.id == up_to) + 1]
    return [m.text for m in inbound]


async def index_ticket(database: Database, ticket_id: int, now: datetime) -> int:
    """Index the sent answers of ``ticket_id`` if it is closed; returns how many rows were written.

    Safe on every replica at once: a reply already indexed is skipped, and a concurrent
    writer's unique-key violation means the rows exist.
    """
    try:
        async with database.transaction() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None or ticket.status != TicketStatus.CLOSED or await session.scalar(
                    select(_redacted(ticket_id))):
                return 0
            replies = (await session.scalars(
                select(Reply).where(Reply.ticket_id == ticket_id, Reply.status == ReplyStatus.SENT,
                                    ~exists().where(PastAnswerVector.reply_id == Reply.id))
                .order_by(Reply.id))).all()
            if not replies:
                return 0
            messages = (await session.scalars(
                select(Message).where(Message.ticket_id == ticket_id).order_by(Message.created_at, Message.id))).all()
            written = 0
            for reply in replies:
                vector = terms(_customer_texts(messages, reply.in_reply_to_message_id))
                if not vector:
                    continue  # nothing to compare with (an emoji, an image)
                session.add(PastAnswerVector(reply_id=reply.id, ticket_id=ticket_id, language=ticket.language,
                                             terms=vector, indexed_at=now))
                written += 1
            return written
    except IntegrityError:  # another replica indexed them between our read and our insert
        return 0


async def closed_unindexed(database: Database, since: datetime, limit: int) -> list[int]:
    """Tickets closed since ``since`` with a sent answer that has no vector yet (the sweep's work)."""
    query = (select(Ticket.id).where(
        Ticket.status == TicketStatus.CLOSED, Ticket.closed_at >= since, ~_redacted(Ticket.id),
        exists().where(Reply.ticket_id == Ticket.id, Reply.status == ReplyStatus.SENT,
                       ~exists().where(PastAnswerVector.reply_id == Reply.id)))
        .order_by(Ticket.closed_at, Ticket.id).limit(limit))
    async with database.sessions() as session:
        return list((await session.scalars(query)).all())


async def forget_redacted(database: Database, limit: int) -> int:
    """Delete the vectors of tickets whose text retention removed: their words go too."""
    async with database.transaction() as session:
        ids = (await session.scalars(
            select(PastAnswerVector.id).where(_redacted(PastAnswerVector.ticket_id)).limit(limit))).all()
        if ids:
            await session.execute(delete(PastAnswerVector).where(PastAnswerVector.id.in_(ids)))
        return len(ids)


async def vectors_after(database: Database, after_id: int, limit: int) -> list[VectorRow]:
    query = (select(PastAnswerVector.id, PastAnswerVector.language, PastAnswerVector.terms,
                    PastAnswerVector.indexed_at)
             .where(PastAnswerVector.id > after_id).order_by(PastAnswerVector.id).limit(limit))
    async with database.sessions() as session:
        return [VectorRow(r.id, r.language, {str(t): int(c) for t, c in (r.terms or {}).items()}, r.indexed_at)
                for r in await session.execute(query)]


async def candidates(database: Database, row_ids: Sequence[int], *, min_csat: int,
                     answered_since: datetime | None) -> dict[int, Candidate]:
    """The rows of ``row_ids`` that may be suggested now, with their texts (row id -> candidate)."""
    if not row_ids:
        return {}
    conditions: list[Any] = [
        PastAnswerVector.id.in_(list(row_ids)),
        Reply.status == ReplyStatus.SENT,  # not edited, deleted, discarded...
        Reply.status.notin_(NEVER_SUGGESTED_REPLY_STATUSES),
        Ticket.status == TicketStatus.CLOSED,  # a reopened conversation was not settled by this answer
        (CsatSurvey.score.is_(None)) | (CsatSurvey.score >= min_csat),
        ~_redacted(Ticket.id),
    ]
    if answered_since is not None:
        conditions.append(Reply.finished_at >= answered_since)
    query = (select(PastAnswerVector.id, Reply, Ticket.platform, Author.handle, Author.display_name,
                    CsatSurvey.score)
             .join(Reply, Reply.id == PastAnswerVector.reply_id)
             .join(Ticket, Ticket.id == PastAnswerVector.ticket_id)
             .outerjoin(Author, Author.id == Ticket.author_id)
             .outerjoin(CsatSurvey, and_(CsatSurvey.ticket_id == Ticket.id, CsatSurvey.status == SurveyStatus.ANSWERED))
             .where(*conditions))
    async with database.sessions() as session:
        rows = (await session.execute(query)).all()
        answered_ids = {r[1].in_reply_to_message_id for r in rows if r[1].in_reply_to_message_id}
        texts = dict((await session.execute(
            select(Message.id, Message.text).where(Message.id.in_(answered_ids)))).all()) if answered_ids else {}
    found: dict[int, Candidate] = {}
    for row_id, reply, platform, handle, name, score in rows:
        found[row_id] = Candidate(
            row_id=row_id, reply_id=reply.id, ticket_id=reply.ticket_id, platform=platform, answer_text=reply.text,
            agent=reply.agent, answered_at=reply.finished_at or reply.created_at,
            customer_text=texts.get(reply.in_reply_to_message_id, ""), author_handle=handle, author_name=name,
            csat=score)
    return found


async def rows_of_ticket(database: Database, ticket_id: int) -> frozenset[int]:
    """The vector rows of one ticket (a reopened ticket must not suggest its own answers)."""
    async with database.sessions() as session:
        return frozenset((await session.scalars(
            select(PastAnswerVector.id).where(PastAnswerVector.ticket_id == ticket_id))).all())
