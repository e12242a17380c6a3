"""The desk service: the ticket state machine. No Slack or platform code lives here.

Every method is one transaction that changes the ticket, writes its audit event and
enqueues the outbox jobs the change implies (card update, reply). Events go to
observer plugins after the commit. Illegal transitions raise a DeskError whose text
an agent can read as it is ("#42 is claimed by <@U123>").
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.attention import AgentAttention
from socialdesk.core.claims import Claims
from socialdesk.core.store import ticket_queries
from socialdesk.core.store.cursors import CursorAdvance
from socialdesk.core.store.database import Database
from socialdesk.core.errors import ClaimedByOther, DeskError, IllegalTransition, ReplyRejected
from socialdesk.core.events import SYSTEM_ACTOR, EventKind, TicketEvent
from socialdesk.core.extensions import Actor
from socialdesk.core.hooks import DeskHooks
from socialdesk.core.ingest import IngestResult, Ingestor
from socialdesk.core.mention import Mention
from socialdesk.core.store.models import AuditEvent, Message, Reply, Ticket
from socialdesk.core.outbox.jobs import JobKind, Outbox
from socialdesk.core.platform import ReplyRequest, SentReply
from socialdesk.core.ticket import ACTIVE_STATUSES, ENDED_STATUSES, ReplyStatus, TicketSnapshot, TicketStatus
from socialdesk.core.store.ticket_queries import (
    AuthorSnapshot,
    DeskStats,
    JobState,
    MessageSnapshot,
    TicketDetails,
    TicketSummary,
)
from socialdesk.core.store.tickets import ChangeLog, load_ticket, snapshot

MAX_NOTE_CHARS = 3000
MAX_REASON_CHARS = 500


@dataclass(frozen=True, slots=True)
class ReplySnapshot:
    id: int
    ticket_id: int
    text: str
    agent: str
    status: str
    platform_id: str | None
    platform_url: str | None
    error: str | None
    close_after: bool


def _reply_snapshot(r: Reply) -> ReplySnapshot:
    return ReplySnapshot(r.id, r.ticket_id, r.text, r.agent, r.status, r.platform_id, r.platform_url,
                         r.error, r.close_after)


def _require_active(ticket: Ticket, action: str) -> None:
    if ticket.status == TicketStatus.CLOSED:
        raise IllegalTransition(f"#{ticket.id} is closed; reopen it to {action}")
    if ticket.status == TicketStatus.SPAM:
        raise IllegalTransition(f"#{ticket.id} is marked as spam; reopen it to {action}")


def _require_holder(ticket: Ticket, actor: Actor, hint: str) -> None:
    """Only the agent holding the ticket (or an admin) may act on a claimed ticket."""
    if ticket.assignee and ticket.assignee != actor.user_id and not actor.is_admin:
        raise ClaimedByOther(ticket.id, ticket.assignee, hint)


class DeskService:
    def __init__(self, database: Database, hooks: DeskHooks, outbox: Outbox, clock: Callable[[], datetime],
                 attention: AgentAttention | None = None) -> None:
        self._db = database
        self._attention = attention or AgentAttention()
        self._hooks = hooks
        self._outbox = outbox
        self._clock = clock
        self._ingestor = Ingestor(database, hooks, outbox, clock, self._publish)
        self._claims = Claims(database, outbox, clock, self._publish_soon)
        self._observing: set[asyncio.Task[None]] = set()

    async def _publish(self, events: list[TicketEvent]) -> None:
        for event in events:
            await self._hooks.ticket_event(event)

    def _publish_soon(self, events: list[TicketEvent]) -> None:
        """Observers of a committed change, without waiting for them, once the agents'
        requests pause: where an agent waits on the answer (a Claim click) and the
        observers are best effort anyway."""
        if not events:
            return
        task = asyncio.create_task(self._publish_when_quiet(events))
        self._observing.add(task)
        task.add_done_callback(self._observing.discard)

    async def _publish_when_quiet(self, events: list[TicketEvent]) -> None:
        await self._attention.quiet()
        await self._publish(events)

    async def observers_done(self) -> None:
        """Wait for the observers started by :meth:`_publish_soon` (before closing the store)."""
        while self._observing:
            await asyncio.gather(*self._observing, return_exceptions=True)

    # --- inbound -------------------------------------------------------------------------

    async def ingest(self, mention: Mention) -> IngestResult:
        return (await self._ingestor.ingest_many([mention]))[0]

    async def ingest_many(self, mentions: Sequence[Mention], cursor: CursorAdvance | None = None) -> list[IngestResult]:
        if not mentions and cursor is None:
            return []
        return await self._ingestor.ingest_many(mentions, cursor)

    # --- transitions ------------------------------------------------------------------------

    async def _transition(
        self, ticket_id: int, change: Callable[[AsyncSession, Ticket, ChangeLog, datetime], Any]
    ) -> TicketSnapshot:
        """Run ``change`` on the locked ticket; bump its version; queue the card update."""
        changes = ChangeLog()
        async with self._db.transaction() as session:
            now = self._clock()
            ticket = await load_ticket(session, ticket_id, lock=True)
            result = change(session, ticket, changes, now)
            if hasattr(result, "__await__"):
                await result
            ticket.updated_at = now
            ticket.version += 1
            await session.flush()
            await self._outbox.enqueue_card_update(session, ticket.id, now=now, priority=ticket.priority)
            view = snapshot(ticket)
        await self._publish(changes.events)
        return view

    async def claim(self, ticket_id: int, actor: Actor, *, takeover: bool = False) -> TicketSnapshot:
        """One conditional UPDATE: of many simultaneous claims exactly one matches a row
        (``claims.Claims``: the losers are told who holds it, mostly from a read)."""
        return await self._claims.claim(ticket_id, actor.user_id, takeover=takeover)

    async def unclaim(self, ticket_id: int, actor: Actor) -> TicketSnapshot:
        def change(session: AsyncSession, t: Ticket, changes: ChangeLog, now: datetime) -> None:
            if t.assignee is None:
                raise IllegalTransition(f"#{t.id} is not claimed")
            _require_holder(t, actor, "only they or an admin can unclaim it")
            changes.record(session, EventKind.UNCLAIMED, t.id, actor.user_id, now, previous=t.assignee)
            t.assignee = None

        return await self._transition(ticket_id, change)

    async def assign(self, ticket_id: int, actor: Actor, assignee: str) -> TicketSnapshot:
        def change(session: AsyncSession, t: Ticket, changes: ChangeLog, now: datetime) -> None:
            _require_active(t, "assign it")
            _require_holder(t, actor, "only they or an admin can reassign it")
            if t.assignee == assignee:
                raise IllegalTransition(f"#{t.id} is already assigned to <@{assignee}>")
            changes.record(session, EventKind.ASSIGNED, t.id, actor.user_id, now, previous=t.assignee, assignee=assignee)
            t.assignee = assignee

        return await self._transition(ticket_id, change)

    async def note(self, ticket_id: int, actor: Actor, text: str) -> TicketSnapshot:
        text = text.strip()
        if not text:
            raise DeskError("a note needs some text")
        if len(text) > MAX_NOTE_CHARS:
            raise DeskError(f"a note is {MAX_NOTE_CHARS} characters at most (this one has {len(text)})")

        async def change(session: AsyncSession, t: Ticket, changes: ChangeLog, now: datetime) -> None:
            note = Message(ticket_id=t.id, platform=t.platform, external_id=None, direction="note", agent=actor.user_id,
                           text=text, public=False, attachments=[], created_at=now, received_at=now)
            session.add(note)
            await session.flush()
            changes.record(session, EventKind.NOTE_ADDED, t.id, actor.user_id, now, message_id=note.id)
            self._outbox.enqueue(session, JobKind.POST_TO_CARD_THREAD, {"ticket_id": t.id, "message_id": note.id},
                                 now=now, priority=t.priority, ticket_id=t.id, dedupe_key=f"thread:{note.id}")

        return await self._transition(ticket_id, change)

    async def snooze(self, ticket_id: int, actor: Actor, until: datetime) -> TicketSnapshot:
        def change(session: AsyncSession, t: Ticket, changes: ChangeLog, now: datetime) -> None:
            _require_active(t, "snooze it")
            _require_holder(t, actor, "only they or an admin can snooze it")
            if until <= now:
                raise DeskError("snooze needs a time in the future")
            changes.record(session, EventKind.SNOOZED, t.id, actor.user_id, now, until=until.isoformat())
            t.status, t.snoozed_until = TicketStatus.SNOOZED, until

        return await self._transition(ticket_id, change)

    async def wake_due(self) -> list[int]:
        """Wake every snoozed ticket whose time has come (the scheduler calls this)."""
        changes = ChangeLog()
        async with self._db.transaction() as session:
            now = self._clock()
            due = (await session.scalars(
                select(Ticket).where(Ticket.status == TicketStatus.SNOOZED, Ticket.snoozed_until <= now)
                .order_by(Ticket.priority, Ticket.id).limit(500).with_for_update(skip_locked=True)
            )).all()
            for t in due:
                changes.record(session, EventKind.WOKEN, t.id, SYSTEM_ACTOR, now, until=t.snoozed_until.isoformat())
                t.status, t.snoozed_until = TicketStatus.OPEN, None
                t.updated_at, t.version = now, t.version + 1
                await self._outbox.enqueue_card_update(session, t.id, now=now, priority=t.priority)
            woken = [t.id for t in due]
        await self._publish(changes.events)
        return woken

    async def close(self, ticket_id: int, actor: Actor, reason: str | None = None) -> TicketSnapshot:
        def change(session: AsyncSession, t: Ticket, changes: ChangeLog, now: datetime) -> None:
            if t.status in ENDED_STATUSES:
                raise IllegalTransition(f"#{t.id} is already {t.status}")
            _require_holder(t, actor, "only they or an admin can close it")
            changes.record(session, EventKind.CLOSED, t.id, actor.user_id, now, reason=reason)
            _close(t, actor.user_id, reason, now)

        return await self._transition(ticket_id, change)

    async def mark_spam(self, ticket_id: int, actor: Actor) -> TicketSnapshot:
        def change(session: AsyncSession, t: Ticket, changes: ChangeLog, now: datetime) -> None:
            if t.status == TicketStatus.SPAM:
                raise IllegalTransition(f"#{t.id} is already marked as spam")
            _require_holder(t, actor, "only they or an admin can mark it as spam")
            changes.record(session, EventKind.MARKED_SPAM, t.id, actor.user_id, now, previous=t.status)
            _close(t, actor.user_id, "spam", now)
            t.status = TicketStatus.SPAM

        return await self._transition(ticket_id, change)

    async def correct_triage(self, ticket_id: int, actor: Actor, *, priority: int | None = None,
                             category: str | None = None) -> TicketSnapshot:
        """An agent's correction of priority and/or category: audited (``triage_corrected``,
        whose details are the labels ``socialdesk triage train --from-desk`` learns from)
        and shown on the card. Any agent may correct an active ticket."""

        def change(session: AsyncSession, t: Ticket, changes: ChangeLog, now: datetime) -> None:
            _require_active(t, "correct its triage")
            details: dict[str, Any] = {}
            if priority is not None and priority != t.priority:
                details["priority"] = {"from": t.priority, "to": priority}
                t.priority = priority
            if category is not None and category != t.category:
                details["category"] = {"from": t.category, "to": category}
                t.category = category
            if not details:
                raise DeskError(f"#{t.id} is already P{t.priority} · {t.category}; nothing to correct")
            changes.record(session, EventKind.TRIAGE_CORRECTED, t.id, actor.user_id, now, **details)
            said = ", ".join(f"{k} {v['from']} → {v['to']}" for k, v in details.items())
            t.priority_reasons = [f"corrected by an agent ({said})",
                                  *[r for r in t.priority_reasons if not r.startswith("corrected by an agent")]]

        return await self._transition(ticket_id, change)

    async def reopen(self, ticket_id: int, actor: Actor) -> TicketSnapshot:
        def change(session: AsyncSession, t: Ticket, changes: ChangeLog, now: datetime) -> None:
            if t.status not in ENDED_STATUSES:
                raise IllegalTransition(f"#{t.id} is not closed (it is {t.status})")
            changes.record(session, EventKind.REOPENED, t.id, actor.user_id, now, previous=t.status)
            t.status, t.closed_at, t.closed_by, t.close_reason = TicketStatus.OPEN, None, None, None

        try:
            return await self._transition(ticket_id, change)
        except IntegrityError:
            active = await self._active_ticket_for_conversation_of(ticket_id)
            raise IllegalTransition(
                f"#{ticket_id} can't be reopened: #{active} is already open for the same conversation"
            ) from None

    async def _active_ticket_for_conversation_of(self, ticket_id: int) -> int | None:
        async with self._db.sessions() as session:
            t = await load_ticket(session, ticket_id)
            return await session.scalar(select(Ticket.id).where(
                Ticket.platform == t.platform, Ticket.conversation_id == t.conversation_id,
                Ticket.status.in_(ACTIVE_STATUSES)))

    # --- replies ------------------------------------------------------------------------------

    async def reply(self, ticket_id: int, actor: Actor, text: str, *, close_after: bool = False,
                    takeover: bool = False) -> ReplySnapshot:
        """Validate, then write the reply and its send job in one transaction.

        Nothing is written when validation fails. An unclaimed ticket is claimed by the
        replying agent in the same transaction; a ticket held by someone else needs
        ``takeover`` (admins may reply anyway).
        """
        text = text.strip()
        async with self._db.sessions() as session:
            current = snapshot(await load_ticket(session, ticket_id))
        problems = await self._hooks.validate_reply(current, text)
        if problems:
            raise ReplyRejected(ticket_id, problems)
        changes = ChangeLog()
        async with self._db.transaction() as session:
            now = self._clock()
            t = await load_ticket(session, ticket_id, lock=True)
            reply = await self.queue_reply(session, t, actor, text, now, changes, close_after=close_after,
                                           takeover=takeover)
            view = _reply_snapshot(reply)
        await self._publish(changes.events)
        return view

    async def queue_reply(self, session: AsyncSession, t: Ticket, actor: Actor, text: str, now: datetime,
                          changes: ChangeLog, *, close_after: bool = False, takeover: bool = False,
                          dedupe_key: str | None = None) -> Reply:
        """Write a (validated) reply and its send job on the locked ticket ``t``, in the caller's
        transaction: the one reply path of :meth:`reply` and the incidents' bulk reply.
        ``dedupe_key`` replaces the send job's own key (a bulk reply's key per ticket)."""
        _require_active(t, "reply")
        if t.assignee and t.assignee != actor.user_id and not (actor.is_admin or takeover):
            raise ClaimedByOther(t.id, t.assignee, "take it over to reply")
        if t.assignee != actor.user_id and not actor.is_admin:
            changes.record(session, EventKind.CLAIMED, t.id, actor.user_id, now,
                           takeover=t.assignee is not None, previous=t.assignee)
            t.assignee = actor.user_id
        answered = await session.scalar(
            select(Message.id).where(Message.ticket_id == t.id, Message.direction == "inbound")
            .order_by(Message.created_at.desc(), Message.id.desc()).limit(1)
        )
        reply = Reply(ticket_id=t.id, in_reply_to_message_id=answered, text=text, agent=actor.user_id,
                      status=ReplyStatus.PENDING, close_after=close_after, created_at=now)
        session.add(reply)
        await session.flush()
        changes.record(session, EventKind.REPLY_QUEUED, t.id, actor.user_id, now, reply_id=reply.id,
                       length=len(text), close_after=close_after)
        self._outbox.enqueue(session, JobKind.SEND_REPLY, {"reply_id": reply.id}, now=now, priority=t.priority,
                             ticket_id=t.id, dedupe_key=dedupe_key or f"send_reply:{reply.id}")
        t.updated_at, t.version = now, t.version + 1
        await self._outbox.enqueue_card_update(session, t.id, now=now, priority=t.priority)
        return reply

    async def publish(self, events: list[TicketEvent]) -> None:
        """Offer events of a committed transaction to the observers (for collaborating services)."""
        await self._publish(events)

    async def begin_sending(self, reply_id: int) -> ReplyRequest | str:
        """Move a pending reply to ``sending`` and return what to send.

        Returns the reply's current status instead when it is not pending: the caller
        must then send nothing (``sending`` means an earlier attempt died mid-flight).
        """
        async with self._db.transaction() as session:
            now = self._clock()
            moved = await session.execute(
                update(Reply).where(Reply.id == reply_id, Reply.status == ReplyStatus.PENDING)
                .values(status=ReplyStatus.SENDING, sending_at=now).returning(Reply.id)
            )
            reply = await session.get(Reply, reply_id)
            if reply is None:
                return "missing"
            if moved.first() is None:
                return reply.status
            return await self._request_for(session, reply)

    async def _request_for(self, session: AsyncSession, reply: Reply) -> ReplyRequest:
        ticket = await load_ticket(session, reply.ticket_id)
        answered = await session.get(Message, reply.in_reply_to_message_id) if reply.in_reply_to_message_id else None
        return ReplyRequest(reply_id=reply.id, ticket_id=ticket.id, platform=ticket.platform,
                            conversation_id=ticket.conversation_id,
                            in_reply_to_id=answered.external_id if answered else None,
                            text=reply.text, agent=reply.agent)

    async def _reply_outcome(self, reply_id: int, from_statuses: tuple[str, ...], to_status: str,
                             kind: EventKind | None, actor: str = SYSTEM_ACTOR,
                             **values: Any) -> ReplySnapshot | None:
        """Conditionally move a reply between states; audit it and refresh the card."""
        changes = ChangeLog()
        async with self._db.transaction() as session:
            now = self._clock()
            moved = await session.execute(
                update(Reply).where(Reply.id == reply_id, Reply.status.in_(from_statuses))
                .values(status=to_status, **values).returning(Reply.ticket_id)
            )
            row = moved.first()
            if row is None:
                return None
            reply = await session.get(Reply, reply_id)
            ticket = await load_ticket(session, row.ticket_id, lock=True)
            if kind is not None:
                changes.record(session, kind, ticket.id, actor, now, reply_id=reply_id,
                               **({"error": values["error"]} if values.get("error") else {}))
            if to_status == ReplyStatus.SENT:
                await self._after_sent(session, ticket, reply, now, changes)
            ticket.updated_at, ticket.version = now, ticket.version + 1
            await self._outbox.enqueue_card_update(session, ticket.id, now=now, priority=ticket.priority)
            view = _reply_snapshot(reply)
        await self._publish(changes.events)
        return view

    async def _after_sent(self, session: AsyncSession, t: Ticket, reply: Reply, now: datetime,
                          changes: ChangeLog) -> None:
        outbound = Message(ticket_id=t.id, platform=t.platform, external_id=reply.platform_id, direction="outbound",
                           agent=reply.agent, text=reply.text, url=reply.platform_url, public=True,
                           attachments=[], created_at=now, received_at=now)
        session.add(outbound)
        await session.flush()
        self._outbox.enqueue(session, JobKind.POST_TO_CARD_THREAD, {"ticket_id": t.id, "message_id": outbound.id},
                             now=now, priority=t.priority, ticket_id=t.id, dedupe_key=f"thread:{outbound.id}")
        if t.first_response_at is None:
            t.first_response_at = now
        if reply.close_after and t.status in ACTIVE_STATUSES:
            changes.record(session, EventKind.CLOSED, t.id, reply.agent, now, reason="closed after reply")
            _close(t, reply.agent, "closed after reply", now)
        elif t.status == TicketStatus.OPEN:
            t.status = TicketStatus.WAITING

    async def record_sent(self, reply_id: int, sent: SentReply) -> ReplySnapshot | None:
        return await self._reply_outcome(
            reply_id, (ReplyStatus.SENDING, ReplyStatus.UNCERTAIN), ReplyStatus.SENT, EventKind.REPLY_SENT,
            platform_id=sent.platform_id, platform_url=sent.url, error=None, finished_at=self._clock(),
        )

    async def record_failed(self, reply_id: int, error: str) -> ReplySnapshot | None:
        """The platform refused and posted nothing; the ticket stays open, the card shows why."""
        return await self._reply_outcome(reply_id, (ReplyStatus.SENDING,), ReplyStatus.FAILED,
                                         EventKind.REPLY_FAILED, error=error, finished_at=self._clock())

    async def record_uncertain(self, reply_id: int, error: str) -> ReplySnapshot | None:
        """It may have been posted: never re-sent automatically; an agent resolves it."""
        return await self._reply_outcome(reply_id, (ReplyStatus.SENDING,), ReplyStatus.UNCERTAIN,
                                         EventKind.REPLY_UNCERTAIN, error=error)

    async def release_for_retry(self, reply_id: int, error: str) -> bool:
        """Nothing was posted (a transient error before processing): back to pending."""
        async with self._db.transaction() as session:
            moved = await session.execute(
                update(Reply).where(Reply.id == reply_id, Reply.status == ReplyStatus.SENDING)
                .values(status=ReplyStatus.PENDING, error=error).returning(Reply.id)
            )
            return moved.first() is not None

    async def retry_reply(self, reply_id: int, actor: Actor) -> ReplySnapshot:
        """An agent decides to send a failed or uncertain reply again (a new send job)."""
        async with self._db.sessions() as session:
            reply = await session.get(Reply, reply_id)
            if reply is None:
                raise DeskError(f"reply {reply_id} does not exist")
            _require_holder(await load_ticket(session, reply.ticket_id), actor, "take it over to resend")
        changes = ChangeLog()
        async with self._db.transaction() as session:
            now = self._clock()
            moved = await session.execute(
                update(Reply).where(Reply.id == reply_id, Reply.status.in_((ReplyStatus.FAILED, ReplyStatus.UNCERTAIN)))
                .values(status=ReplyStatus.PENDING, error=None).returning(Reply.ticket_id)
            )
            row = moved.first()
            if row is None:
                raise IllegalTransition(f"reply {reply_id} is {reply.status}; only failed or uncertain replies can be resent")
            ticket = await load_ticket(session, row.ticket_id, lock=True)
            _require_active(ticket, "resend a reply")
            changes.record(session, EventKind.REPLY_RETRIED, ticket.id, actor.user_id, now, reply_id=reply_id)
            self._outbox.enqueue(session, JobKind.SEND_REPLY, {"reply_id": reply_id}, now=now,
                                 priority=ticket.priority, ticket_id=ticket.id)
            await self._outbox.enqueue_card_update(session, ticket.id, now=now, priority=ticket.priority)
            view = _reply_snapshot(await session.get(Reply, reply_id))
        await self._publish(changes.events)
        return view

    async def discard_reply(self, reply_id: int, actor: Actor) -> ReplySnapshot:
        done = await self._reply_outcome(reply_id, (ReplyStatus.FAILED, ReplyStatus.UNCERTAIN), ReplyStatus.DISCARDED,
                                         EventKind.REPLY_DISCARDED, actor=actor.user_id, finished_at=self._clock())
        if done is None:
            raise IllegalTransition(f"reply {reply_id} is not failed or uncertain; nothing to discard")
        return done

    async def reconcile_uncertain_replies(self) -> dict[int, bool]:
        """Ask the owning platforms whether uncertain replies were posted after all."""
        async with self._db.sessions() as session:
            uncertain = (await session.scalars(select(Reply).where(Reply.status == ReplyStatus.UNCERTAIN))).all()
            requests = [await self._request_for(session, r) for r in uncertain]
        found: dict[int, bool] = {}
        for request in requests:
            answer = await self._hooks.reconcile_reply(request)
            if answer is None:
                continue
            found[request.reply_id] = answer.found
            if answer.found and answer.sent is not None:
                await self.record_sent(request.reply_id, answer.sent)
        return found

    # --- the Slack side's bookkeeping ---------------------------------------------------------

    async def set_card(self, ticket_id: int, channel: str, ts: str) -> bool:
        """Remember where a ticket's card was posted; False if it already had one."""
        async with self._db.transaction() as session:
            moved = await session.execute(
                update(Ticket).where(Ticket.id == ticket_id, Ticket.card_ts.is_(None))
                .values(card_channel=channel, card_ts=ts).returning(Ticket.id)
            )
            return moved.first() is not None

    async def begin_card_post(self, ticket_id: int, channel: str) -> bool:
        """Note that a card is about to be posted in ``channel`` (``card_channel`` set, no ts).

        If the process dies before :meth:`set_card`, the next attempt finds this mark and
        looks in Slack for the card before posting another. False if the card is posted.
        """
        async with self._db.transaction() as session:
            moved = await session.execute(
                update(Ticket).where(Ticket.id == ticket_id, Ticket.card_ts.is_(None))
                .values(card_channel=channel).returning(Ticket.id)
            )
            return moved.first() is not None

    async def abandon_card_post(self, ticket_id: int) -> None:
        """Slack refused the post, so nothing was posted: clear the mark of :meth:`begin_card_post`."""
        async with self._db.transaction() as session:
            await session.execute(
                update(Ticket).where(Ticket.id == ticket_id, Ticket.card_ts.is_(None)).values(card_channel=None)
            )

    # --- reads -------------------------------------------------------------------------------

    async def get_ticket(self, ticket_id: int) -> TicketSnapshot:
        async with self._db.sessions() as session:
            return snapshot(await load_ticket(session, ticket_id))

    async def get_reply(self, reply_id: int) -> ReplySnapshot | None:
        async with self._db.sessions() as session:
            reply = await session.get(Reply, reply_id)
            return _reply_snapshot(reply) if reply else None

    async def replies_of(self, ticket_id: int) -> list[ReplySnapshot]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(Reply).where(Reply.ticket_id == ticket_id).order_by(Reply.id))
            return [_reply_snapshot(r) for r in rows]

    async def audit_trail(self, ticket_id: int) -> list[TicketEvent]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(AuditEvent).where(AuditEvent.ticket_id == ticket_id).order_by(AuditEvent.id))
            return [TicketEvent(EventKind(r.kind), r.ticket_id, r.actor, r.at, dict(r.details)) for r in rows]

    async def get_message(self, message_id: int) -> MessageSnapshot | None:
        async with self._db.sessions() as session:
            return await ticket_queries.get_message(session, message_id)

    async def get_author(self, author_id: int) -> AuthorSnapshot | None:
        async with self._db.sessions() as session:
            return await ticket_queries.get_author(session, author_id)

    async def messages_of(self, ticket_id: int) -> list[MessageSnapshot]:
        """Every message of a ticket (inbound, outbound, notes), oldest first."""
        async with self._db.sessions() as session:
            return await ticket_queries.messages_of(session, ticket_id)

    async def ticket_details(self, ticket_id: int) -> TicketDetails:
        """What the ticket's card shows: author, opening message, latest reply, counts."""
        async with self._db.sessions() as session:
            return await ticket_queries.ticket_details(session, ticket_id)

    async def summaries(self, tickets: Sequence[TicketSnapshot]) -> list[TicketSummary]:
        """Each ticket with its author and opening message (for listings)."""
        return await self._db.run_read(lambda connection: ticket_queries.summaries_in(connection, tickets))

    async def history_of(self, handle: str, *, platform: str | None = None, limit: int = 10) -> list[TicketSummary]:
        """Tickets opened by the author with this handle (``@`` optional, any case), newest first."""
        return await self._db.run_read(
            lambda connection: ticket_queries.history_in(connection, handle, platform=platform, limit=limit))

    async def stats(self, since: datetime) -> DeskStats:
        """Counts since ``since`` (new, replied, closed, spam, first-response median and
        breaches) and the active queue now."""
        async with self._db.sessions() as session:
            return await ticket_queries.stats(session, since, self._clock())

    async def latest_job(self, ticket_id: int, kind: str) -> JobState | None:
        """The newest outbox job of ``kind`` for a ticket (its status and when it may run)."""
        async with self._db.sessions() as session:
            return await ticket_queries.latest_job(session, ticket_id, kind)

    async def more_urgent_due(self, kinds: Sequence[str], priority: int) -> bool:
        """Is a job of ``kinds`` more urgent than ``priority`` due now? (Lets a paced
        performer step aside for it.)"""
        async with self._db.sessions() as session:
            return await ticket_queries.more_urgent_due(session, kinds, priority, self._clock())

    async def queue(self, *, platform: str | None = None, priority: int | None = None,
                    assignee: str | None = None, limit: int = 50) -> list[TicketSnapshot]:
        """Active tickets, most urgent first, oldest first within a priority."""
        # One statement: read without a session (on a SQLite file, one hand-off to a thread).
        return await self._db.run_read(lambda connection: ticket_queries.queue_rows(
            connection, platform=platform or None, priority=priority or None, assignee=assignee or None, limit=limit))


def _close(t: Ticket, actor: str, reason: str | None, now: datetime) -> None:
    t.status = TicketStatus.CLOSED
    t.closed_at, t.closed_by = now, actor
    t.close_reason = reason[:MAX_REASON_CHARS] if reason else None
    t.snoozed_until = None
