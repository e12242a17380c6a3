"""Ingest: a mention becomes a message on a ticket, exactly once, with its card job.

Idempotent on (platform, external_id). A follow-up in a conversation that has an
active ticket joins it. Both rules are enforced by unique indexes, so concurrent
ingests (two pollers, two replicas) cannot create a second message or a second
ticket: the loser of a race gets an IntegrityError and retries, finding the winner's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import insert, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.cursors import CursorAdvance, write_cursor
from socialdesk.core.database import Database
from socialdesk.core.events import SYSTEM_ACTOR, EventKind, TicketEvent
from socialdesk.core.hooks import DeskHooks
from socialdesk.core.mention import Author as AuthorIn
from socialdesk.core.mention import Mention
from socialdesk.core.models import Author, Message, Ticket
from socialdesk.core.outbox import JobKind, Outbox
from socialdesk.core.ticket import ACTIVE_STATUSES, TicketStatus
from socialdesk.core.ticket_store import ChangeLog
from socialdesk.core.triage import TriageResult

MAX_RACE_RETRIES = 5


class IngestOutcome(StrEnum):
    CREATED = "created"  # a new ticket (and a post_card job)
    JOINED = "joined"  # a follow-up on an active ticket
    DUPLICATE = "duplicate"  # seen before: nothing changed


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: IngestOutcome
    ticket_id: int
    message_id: int


class Ingestor:
    def __init__(self, database: Database, hooks: DeskHooks, outbox: Outbox,
                 clock: Callable[[], datetime], publish: Callable[[list[TicketEvent]], object]) -> None:
        self._db = database
        self._hooks = hooks
        self._outbox = outbox
        self._clock = clock
        self._publish = publish

    async def ingest_many(self, mentions: Sequence[Mention], cursor: CursorAdvance | None = None) -> list[IngestResult]:
        """Ingest ``mentions`` in one transaction; ``cursor`` advances only if they all commit."""
        seen = await self._already_stored(mentions)
        verdicts = [None if (m.platform, m.external_id) in seen else await self._hooks.triage(m) for m in mentions]
        for attempt in range(MAX_RACE_RETRIES):
            changes = ChangeLog()
            try:
                async with self._db.transaction() as session:
                    now = self._clock()
                    results = [await self._ingest_one(session, m, v, now, changes) for m, v in zip(mentions, verdicts)]
                    if cursor is not None:
                        await write_cursor(session, cursor, now)
            except IntegrityError:
                # Another writer stored the same message or opened a ticket for the same
                # conversation first; the next round sees its rows.
                if attempt == MAX_RACE_RETRIES - 1:
                    raise
                continue
            await self._publish(changes.events)
            return results
        raise AssertionError("unreachable")

    async def _already_stored(self, mentions: Sequence[Mention]) -> set[tuple[str, str]]:
        keys = [(m.platform, m.external_id) for m in mentions]
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(Message.platform, Message.external_id).where(tuple_(Message.platform, Message.external_id).in_(keys))
            )
            return {(p, e) for p, e in rows}

    async def _ingest_one(self, session: AsyncSession, m: Mention, verdict: TriageResult | None,
                          now: datetime, changes: ChangeLog) -> IngestResult:
        existing = (await session.execute(
            select(Message.id, Message.ticket_id).where(Message.platform == m.platform, Message.external_id == m.external_id)
        )).first()
        if existing is not None:
            return IngestResult(IngestOutcome.DUPLICATE, existing.ticket_id, existing.id)
        if verdict is None:  # stored when we looked, gone now (a rolled-back race): triage it now
            verdict = await self._hooks.triage(m)
        author_id = await self._upsert_author(session, m.author, now)
        active = await session.scalar(
            select(Ticket).where(
                Ticket.platform == m.platform,
                Ticket.conversation_id == m.conversation_id,
                Ticket.status.in_(ACTIVE_STATUSES),
            ).with_for_update()
        )
        if active is None:
            ticket_id = await self._open_ticket(session, m, verdict, author_id, now)
            message_id = await self._add_message(session, ticket_id, m, author_id, now)
            changes.record(session, EventKind.CREATED, ticket_id, SYSTEM_ACTOR, now,
                           platform=m.platform, message_id=message_id, priority=verdict.priority,
                           category=verdict.category, reasons=list(verdict.reasons))
            self._outbox.enqueue(session, JobKind.POST_CARD, {"ticket_id": ticket_id}, now=now,
                                 priority=verdict.priority, ticket_id=ticket_id, dedupe_key=f"post_card:{ticket_id}")
            return IngestResult(IngestOutcome.CREATED, ticket_id, message_id)

        message_id = await self._add_message(session, active.id, m, author_id, now)
        self._join(active, verdict, now)
        changes.record(session, EventKind.MESSAGE_ADDED, active.id, SYSTEM_ACTOR, now,
                       message_id=message_id, status=active.status, priority=active.priority)
        self._outbox.enqueue(session, JobKind.POST_TO_CARD_THREAD, {"ticket_id": active.id, "message_id": message_id},
                             now=now, priority=active.priority, ticket_id=active.id,
                             dedupe_key=f"thread:{message_id}")
        await self._outbox.enqueue_card_update(session, active.id, now=now, priority=active.priority)
        return IngestResult(IngestOutcome.JOINED, active.id, message_id)

    @staticmethod
    def _join(ticket: Ticket, verdict: TriageResult, now: datetime) -> None:
        """A follow-up can make a ticket more urgent, never less; it wakes a waiting ticket."""
        ticket.priority = min(ticket.priority, verdict.priority)
        ticket.tags = list(dict.fromkeys([*ticket.tags, *verdict.tags]))
        ticket.priority_reasons = list(dict.fromkeys([*ticket.priority_reasons, *verdict.reasons]))
        if ticket.status in (TicketStatus.WAITING, TicketStatus.SNOOZED):
            ticket.status = TicketStatus.OPEN
            ticket.snoozed_until = None
        ticket.last_message_at = now
        ticket.updated_at = now
        ticket.version += 1

    async def _open_ticket(self, session: AsyncSession, m: Mention, v: TriageResult, author_id: int, now: datetime) -> int:
        return await session.scalar(
            insert(Ticket).values(
                platform=m.platform, conversation_id=m.conversation_id, status=TicketStatus.OPEN,
                priority=v.priority, category=v.category, tags=list(v.tags), sentiment=v.sentiment,
                sentiment_score=v.sentiment_score, language=v.language, spam_suspected=v.spam,
                priority_reasons=list(v.reasons), suggested_macro=v.suggested_macro, author_id=author_id,
                created_at=now, updated_at=now, last_message_at=now, version=1,
            ).returning(Ticket.id)
        )

    async def _add_message(self, session: AsyncSession, ticket_id: int, m: Mention, author_id: int, now: datetime) -> int:
        return await session.scalar(
            insert(Message).values(
                ticket_id=ticket_id, platform=m.platform, external_id=m.external_id, direction="inbound",
                author_id=author_id, text=m.text, url=m.url, public=m.public, in_reply_to_id=m.in_reply_to_id,
                attachments=list(m.attachments), created_at=m.created_at, received_at=now,
            ).returning(Message.id)
        )

    async def _upsert_author(self, session: AsyncSession, a: AuthorIn, now: datetime) -> int:
        """One statement whatever the race: insert, or refresh what the platform told us."""
        dialect_insert = pg_insert if self._db.is_postgres else sqlite_insert
        statement = dialect_insert(Author).values(
            platform=a.platform, external_id=a.external_id, handle=a.handle, display_name=a.display_name,
            followers=a.followers, verified=a.verified, profile_url=a.profile_url, first_seen=now, last_seen=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[Author.platform, Author.external_id],
            set_={name: statement.excluded[name]
                  for name in ("handle", "display_name", "followers", "verified", "profile_url", "last_seen")},
        ).returning(Author.id)
        return await session.scalar(statement)



