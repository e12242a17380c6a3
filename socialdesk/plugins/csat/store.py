"""The survey rows (``csat_surveys``) and their state changes, each one transaction.

A survey's life: ``pending`` (written with its ``send_csat`` outbox job, in the
transaction that found the ticket closed) -> ``sending`` (committed before the platform
is asked, so a crash mid-send is never followed by a second send) -> ``sent`` ->
``answered`` or ``expired``. Side roads: ``cancelled`` (the ticket was reopened before
the survey left; a later close makes it ``pending`` again), ``failed`` (the platform
refused, or it may have been sent and we cannot tell: never re-sent either way).

Every move is a conditional UPDATE on the current status, so two replicas (the
CLOSED observer on one, the sweep on another) cannot both create, send or record.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.store.database import Database
from socialdesk.core.events import SYSTEM_ACTOR, EventKind, TicketEvent
from socialdesk.core.store.models import Author, CsatSurvey, Message, OutboxJob, Reply, Ticket
from socialdesk.core.outbox.jobs import JobStatus, Outbox
from socialdesk.core.platform import SentReply, SurveyRequest
from socialdesk.core.ticket import POSTED_REPLY_STATUSES, TicketStatus
from socialdesk.core.store.tickets import ChangeLog, load_ticket
from socialdesk.plugins.csat.answer import SurveyAnswer
from socialdesk.plugins.csat.settings import CsatSettings

log = logging.getLogger(__name__)

SEND_CSAT = "send_csat"  # outbox job kind; payload: survey_id, ticket_id
SURVEY_PRIORITY = 4  # after every card and reply: a survey is never urgent
MAX_NAME_CHARS = 50


class SurveyStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    ANSWERED = "answered"
    EXPIRED = "expired"
    FAILED = "failed"
    CANCELLED = "cancelled"


def dedupe_key(ticket_id: int) -> str:
    return f"csat:{ticket_id}"


@dataclass(frozen=True, slots=True)
class SurveySnapshot:
    id: int
    ticket_id: int
    platform: str
    conversation_id: str
    author_external_id: str | None
    status: str
    sent_at: datetime | None
    platform_message_id: str | None
    score: int | None
    comment: str | None
    answer_message_id: int | None


def _snapshot(s: CsatSurvey) -> SurveySnapshot:
    return SurveySnapshot(s.id, s.ticket_id, s.platform, s.conversation_id, s.author_external_id, s.status,
                          s.sent_at, s.platform_message_id, s.score, s.comment, s.answer_message_id)


def customer_name(author: Author | None) -> str:
    """The name the question greets: one line, bounded, unable to mention anyone."""
    raw = (author.display_name or author.handle) if author is not None else ""
    name = " ".join(raw.replace("@", "").replace("<", "").replace(">", "").split())[:MAX_NAME_CHARS]
    return name or "there"


def _eligible(t: Ticket) -> Any:
    """Closed by an agent (auto-closes are by ``system``; spam has its own status), with a
    reply sent. A ticket triage only suspected of spam counts: an agent answered and closed it."""
    return (
        (t.status == TicketStatus.CLOSED) & (t.closed_by != SYSTEM_ACTOR)
        & exists().where(Reply.ticket_id == t.id, Reply.status.in_(POSTED_REPLY_STATUSES))
    )


class SurveyStore:
    def __init__(self, database: Database, outbox: Outbox) -> None:
        self._db = database
        self._outbox = outbox

    # --- creation ---------------------------------------------------------------------------

    async def closes_without_survey(self, since: datetime, platforms: Sequence[str], limit: int) -> list[int]:
        """Tickets closed since ``since`` that should have a survey and have none yet."""
        query = (select(Ticket.id).where(_eligible(Ticket), Ticket.closed_at >= since, Ticket.platform.in_(platforms),
                                         ~exists().where(CsatSurvey.ticket_id == Ticket.id))
                 .order_by(Ticket.closed_at, Ticket.id).limit(limit))
        async with self._db.sessions() as session:
            return list((await session.scalars(query)).all())

    async def create(self, ticket_id: int, settings: CsatSettings, now: datetime) -> bool:
        """Write the survey and its ``send_csat`` job in one transaction; False if it has one
        already (or the ticket should not get one). Safe to call from any number of replicas."""
        try:
            async with self._db.transaction() as session:
                return await self._create(session, ticket_id, settings, now)
        except IntegrityError:  # another replica wrote it between our check and our insert
            return False

    async def _create(self, session: AsyncSession, ticket_id: int, settings: CsatSettings, now: datetime) -> bool:
        t = await load_ticket(session, ticket_id, lock=True)  # closes/reopens of this ticket wait for us
        eligible = await session.scalar(select(_eligible(Ticket)).where(Ticket.id == ticket_id))
        if not eligible or t.platform not in settings.platforms or t.closed_at is None:
            return False
        survey = await session.scalar(select(CsatSurvey).where(CsatSurvey.ticket_id == ticket_id))
        if survey is None:
            author = await session.get(Author, t.author_id) if t.author_id else None
            survey = CsatSurvey(ticket_id=ticket_id, platform=t.platform, conversation_id=t.conversation_id,
                                author_external_id=author.external_id if author else None,
                                status=SurveyStatus.PENDING, created_at=now)
            session.add(survey)
            await session.flush()
        elif survey.status == SurveyStatus.CANCELLED:  # reopened before it left, now closed again
            survey.status = SurveyStatus.PENDING
        else:
            return False
        await self._schedule(session, survey.id, ticket_id, max(now, t.closed_at + settings.delay), now)
        return True

    async def _schedule(self, session: AsyncSession, survey_id: int, ticket_id: int, when: datetime,
                        now: datetime) -> None:
        """One ``send_csat`` job per ticket (dedupe key): new, or the finished one made due again."""
        payload = {"survey_id": survey_id, "ticket_id": ticket_id}
        job = await session.scalar(select(OutboxJob).where(OutboxJob.dedupe_key == dedupe_key(ticket_id)))
        if job is None:
            self._outbox.enqueue(session, SEND_CSAT, payload, now=now, priority=SURVEY_PRIORITY,
                                 ticket_id=ticket_id, dedupe_key=dedupe_key(ticket_id), delay=when - now)
        elif job.status != JobStatus.RUNNING:  # a running job reads the survey's state when it acts
            job.status, job.attempts, job.not_before, job.payload = JobStatus.PENDING, 0, when, payload
            job.last_error, job.finished_at, job.locked_by, job.locked_until = None, None, None, None

    async def cancel_if_reopened(self, ticket_id: int) -> bool:
        """A survey not yet sent is cancelled when its ticket is no longer closed."""
        async with self._db.transaction() as session:
            status = await session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
            if status == TicketStatus.CLOSED:
                return False
            moved = await session.execute(
                update(CsatSurvey).where(CsatSurvey.ticket_id == ticket_id, CsatSurvey.status == SurveyStatus.PENDING)
                .values(status=SurveyStatus.CANCELLED).returning(CsatSurvey.id))
            return moved.first() is not None

    async def reopened_pending(self, limit: int) -> list[int]:
        """Tickets with a pending survey that are no longer closed (reopened, marked spam)."""
        query = (select(CsatSurvey.ticket_id).join(Ticket, Ticket.id == CsatSurvey.ticket_id)
                 .where(CsatSurvey.status == SurveyStatus.PENDING, Ticket.status != TicketStatus.CLOSED).limit(limit))
        async with self._db.sessions() as session:
            return list((await session.scalars(query)).all())

    # --- sending ------------------------------------------------------------------------------

    async def begin_sending(self, survey_id: int, settings: CsatSettings, now: datetime) -> SurveyRequest | str:
        """Move a pending survey to ``sending`` and return what to send; else the reason not to.

        ``sending`` found here means an earlier attempt died mid-flight: it may have been
        sent, so it becomes ``failed`` and nothing is sent again.
        """
        async with self._db.transaction() as session:
            survey = await session.scalar(select(CsatSurvey).where(CsatSurvey.id == survey_id).with_for_update())
            if survey is None:
                return "missing"
            if survey.status == SurveyStatus.SENDING:
                survey.status = SurveyStatus.FAILED
                return "interrupted"
            if survey.status != SurveyStatus.PENDING:
                return survey.status
            t = await load_ticket(session, survey.ticket_id)
            if t.status != TicketStatus.CLOSED:
                survey.status = SurveyStatus.CANCELLED
                return SurveyStatus.CANCELLED
            if t.closed_at is not None and now >= t.closed_at + settings.expire_after:
                survey.status = SurveyStatus.EXPIRED  # the desk was down too long: too late to ask
                return SurveyStatus.EXPIRED
            author = await session.get(Author, t.author_id) if t.author_id else None
            last_inbound = await session.scalar(
                select(Message.external_id).where(Message.ticket_id == t.id, Message.direction == "inbound",
                                                  Message.external_id.is_not(None))
                .order_by(Message.created_at.desc(), Message.id.desc()).limit(1))
            survey.status = SurveyStatus.SENDING
            return SurveyRequest(survey_id=survey.id, ticket_id=t.id, platform=survey.platform,
                                 conversation_id=survey.conversation_id,
                                 author_external_id=survey.author_external_id, in_reply_to_id=last_inbound,
                                 text=settings.question_for(customer_name(author)))

    async def release(self, survey_id: int) -> None:
        """Nothing was sent (a transient error): back to pending for the job's retry."""
        await self._move(survey_id, SurveyStatus.SENDING, SurveyStatus.PENDING)

    async def record_failed(self, survey_id: int) -> None:
        await self._move(survey_id, SurveyStatus.SENDING, SurveyStatus.FAILED)

    async def record_sent(self, survey_id: int, sent: SentReply, now: datetime, outbox_priority: int = SURVEY_PRIORITY
                          ) -> list[TicketEvent]:
        changes = ChangeLog()
        async with self._db.transaction() as session:
            moved = await session.execute(
                update(CsatSurvey).where(CsatSurvey.id == survey_id, CsatSurvey.status == SurveyStatus.SENDING)
                .values(status=SurveyStatus.SENT, sent_at=now, platform_message_id=sent.platform_id)
                .returning(CsatSurvey.ticket_id))
            row = moved.first()
            if row is None:
                return []
            changes.record(session, EventKind.CSAT_SENT, row.ticket_id, SYSTEM_ACTOR, now, survey_id=survey_id,
                           platform_id=sent.platform_id, url=sent.url)
            await self._outbox.enqueue_card_update(session, row.ticket_id, now=now, priority=outbox_priority)
        return changes.events

    async def _move(self, survey_id: int, from_status: str, to_status: str) -> bool:
        async with self._db.transaction() as session:
            moved = await session.execute(
                update(CsatSurvey).where(CsatSurvey.id == survey_id, CsatSurvey.status == from_status)
                .values(status=to_status).returning(CsatSurvey.id))
            return moved.first() is not None

    # --- answers ------------------------------------------------------------------------------

    async def awaiting_answer(self, platform: str, conversation_id: str, author_external_id: str,
                              at: datetime) -> int | None:
        """The sent survey this customer may be answering here (indexed on platform, conversation)."""
        def read(connection: Any) -> int | None:
            rows = connection.execute(
                select(CsatSurvey.id, CsatSurvey.author_external_id, CsatSurvey.sent_at).where(
                    CsatSurvey.platform == platform, CsatSurvey.conversation_id == conversation_id,
                    CsatSurvey.status == SurveyStatus.SENT)).all()
            return next((r.id for r in rows if r.author_external_id in (None, author_external_id)
                         and r.sent_at is not None and r.sent_at <= at), None)

        return await self._db.run_read(read)

    async def awaiting_conversations(self, platform: str) -> set[str]:
        """Conversations of ``platform`` where a sent survey waits for its answer."""
        async with self._db.sessions() as session:
            rows = await session.scalars(select(CsatSurvey.conversation_id).where(
                CsatSurvey.platform == platform, CsatSurvey.status == SurveyStatus.SENT))
            return set(rows.all())

    async def record_answer(self, survey_id: int, message_id: int, answer: SurveyAnswer, now: datetime
                            ) -> list[TicketEvent]:
        """The first answer counts; a second message changes nothing."""
        changes = ChangeLog()
        async with self._db.transaction() as session:
            moved = await session.execute(
                update(CsatSurvey).where(CsatSurvey.id == survey_id, CsatSurvey.status == SurveyStatus.SENT)
                .values(status=SurveyStatus.ANSWERED, score=answer.score, comment=answer.comment, answered_at=now,
                        answer_message_id=message_id)
                .returning(CsatSurvey.ticket_id))
            row = moved.first()
            if row is None:
                return []
            changes.record(session, EventKind.CSAT_ANSWERED, row.ticket_id, SYSTEM_ACTOR, now, survey_id=survey_id,
                           score=answer.score, message_id=message_id)
            await self._outbox.enqueue_card_update(session, row.ticket_id, now=now, priority=SURVEY_PRIORITY)
        return changes.events

    async def inbound_message(self, message_id: int) -> tuple[Message, Ticket, Author | None] | None:
        async with self._db.sessions() as session:
            message = await session.get(Message, message_id)
            if message is None or message.direction != "inbound":
                return None
            ticket = await session.get(Ticket, message.ticket_id)
            author = await session.get(Author, message.author_id) if message.author_id else None
            return (message, ticket, author) if ticket is not None else None

    async def inbound_after(self, after_id: int, limit: int) -> list[tuple[Message, Ticket, Author | None]]:
        """Inbound messages with an id above ``after_id``, oldest first, with ticket and author."""
        query = (select(Message, Ticket, Author).join(Ticket, Ticket.id == Message.ticket_id)
                 .outerjoin(Author, Author.id == Message.author_id)
                 .where(Message.id > after_id, Message.direction == "inbound").order_by(Message.id).limit(limit))
        async with self._db.sessions() as session:
            return [(m, t, a) for m, t, a in (await session.execute(query)).all()]

    async def expire_unanswered(self, now: datetime, expire_after: timedelta) -> int:
        async with self._db.transaction() as session:
            moved = await session.execute(
                update(CsatSurvey).where(CsatSurvey.status == SurveyStatus.SENT,
                                         CsatSurvey.sent_at < now - expire_after)
                .values(status=SurveyStatus.EXPIRED).returning(CsatSurvey.id))
            return len(moved.all())

    # --- reads ------------------------------------------------------------------------------------

    async def survey_of(self, ticket_id: int) -> SurveySnapshot | None:
        async with self._db.sessions() as session:
            survey = await session.scalar(select(CsatSurvey).where(CsatSurvey.ticket_id == ticket_id))
            return _snapshot(survey) if survey else None
