"""Incidents (storms): what their card shows, one reply to all of them, closing them together.

Ingest files a storm's tickets under an incident (:mod:`socialdesk.core.incidents.links`);
this service reads incidents and acts on all their tickets at once. The bulk reply goes
through the same reply path as a single reply (:meth:`DeskService.queue_reply`): one
reply row and one ``send_reply`` job per ticket, written in one transaction, sent later by
the outbox at the platform's pace. Each (incident, ticket) pair has one send job key,
``bulk_reply:<incident>:<ticket>``, so a second submission (double click, a retry, a
second agent) cannot answer anyone twice.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.store.database import Database
from socialdesk.core.errors import DeskError
from socialdesk.core.events import EventKind
from socialdesk.core.extensions import Actor
from socialdesk.core.hooks import DeskHooks
from socialdesk.core.incidents.links import (
    IncidentJobs,
    post_key,
    queue_incident_update,
    update_key_prefix,
)
from socialdesk.core.store.models import Author, Incident, Message, OutboxJob, Reply, Ticket
from socialdesk.core.outbox.jobs import JobStatus, Outbox
from socialdesk.core.service import DeskService, _close
from socialdesk.core.ticket import ACTIVE_STATUSES, ReplyStatus, TicketSnapshot
from socialdesk.core.store.ticket_queries import AuthorSnapshot, JobState, TicketSummary, author_snapshot
from socialdesk.core.store.tickets import ChangeLog, snapshot

log = logging.getLogger(__name__)

ACTIVE, CLOSED = "active", "closed"
SPIKE_MINUTES = 30  # the sparkline's width: the last half hour of the storm
MAX_PROBLEMS_SHOWN = 5
MAX_RACE_RETRIES = 3
# The bulk template's variables; at least one that differs per author is required when
# several people are answered (platforms refuse the same text twice from one account).
PERSONAL_VARIABLES = ("name", "author", "handle")
_VARIABLE = re.compile(r"\{(name|author|handle|ticket|platform)\}")


class IncidentNotFound(DeskError):
    def __init__(self, incident_id: int) -> None:
        super().__init__(f"incident #{incident_id} does not exist")
        self.incident_id = incident_id


class BulkReplyRejected(DeskError):
    """The template would not pass for every ticket; nothing was written or sent."""

    def __init__(self, incident_id: int, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        super().__init__(f"Nothing sent to incident #{incident_id}: " + "; ".join(shown)
                         + (f"; and {more} more" if more else ""))
        self.incident_id = incident_id
        self.problems = problems


@dataclass(frozen=True, slots=True)
class IncidentSnapshot:
    id: int
    storm_key: str
    title: str
    status: str
    first_seen: datetime
    last_seen: datetime
    card_channel: str | None
    card_ts: str | None
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def ref(self) -> str:
        return f"incident #{self.id}"


def _incident_snapshot(i: Incident) -> IncidentSnapshot:
    return IncidentSnapshot(i.id, i.storm_key, i.title, i.status, i.first_seen, i.last_seen, i.card_channel,
                            i.card_ts, i.created_at, i.updated_at, i.version)


@dataclass(frozen=True, slots=True)
class Spike:
    """How the storm grew: mentions and distinct authors, and mentions per minute."""

    mentions: int
    authors: int
    per_minute: tuple[int, ...]  # oldest first, ending at the minute of the last mention
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class ReplyProgress:
    """The incident's replies by state (a bulk reply's progress)."""

    sent: int = 0
    pending: int = 0  # pending or being sent
    failed: int = 0  # failed, or uncertain (an agent must look)

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.failed


@dataclass(frozen=True, slots=True)
class IncidentView:
    """Everything the incident card shows."""

    incident: IncidentSnapshot
    spike: Spike
    tickets: int  # linked tickets, all states
    active_tickets: int
    platforms: tuple[str, ...]
    priority: int  # the most urgent linked ticket's
    first: tuple[TicketSummary, ...]  # the first few conversations, oldest first
    progress: ReplyProgress


@dataclass(frozen=True, slots=True)
class BulkPlan:
    """A checked bulk reply: ticket id -> its personalised text."""

    incident_id: int
    texts: dict[int, str]
    already: int  # tickets answered by an earlier bulk reply of this incident


@dataclass(frozen=True, slots=True)
class BulkReplyResult:
    queued: int  # replies written now
    already: int  # tickets this incident had answered before (not answered again)
    held: tuple[int, ...]  # tickets left out: someone else holds them


@dataclass(frozen=True, slots=True)
class CloseAllResult:
    closed: int
    held: tuple[int, ...]


def bulk_key(incident_id: int, ticket_id: int) -> str:
    return f"bulk_reply:{incident_id}:{ticket_id}"


def personalise(template: str, author: AuthorSnapshot | None, ticket: TicketSnapshot) -> str:
    """The template for one author: ``{name}``/``{author}`` their name, ``{handle}`` their
    @handle, ``{ticket}`` and ``{platform}``. Other braces are left (reply rules refuse them)."""
    handle = author.handle if author else ""
    values = {
        "name": (author.display_name or handle) if author else "there",
        "handle": f"@{handle}" if handle else "",
        "ticket": ticket.ref,
        "platform": ticket.platform,
    }
    values["author"] = values["name"]
    return _VARIABLE.sub(lambda m: values[m.group(1)], template).strip()


class IncidentService:
    def __init__(self, database: Database, service: DeskService, hooks: DeskHooks, outbox: Outbox,
                 clock: Callable[[], datetime]) -> None:
        self._db = database
        self._service = service
        self._hooks = hooks
        self._outbox = outbox
        self._clock = clock

    # --- reads -----------------------------------------------------------------------------

    async def get(self, incident_id: int) -> IncidentSnapshot:
        async with self._db.sessions() as session:
            return _incident_snapshot(await _load(session, incident_id))

    async def of_ticket(self, ticket_id: int) -> IncidentSnapshot | None:
        async with self._db.sessions() as session:
            row = await session.scalar(
                select(Incident).join(Ticket, Ticket.incident_id == Incident.id).where(Ticket.id == ticket_id))
            return _incident_snapshot(row) if row else None

    async def ticket_ids(self, incident_id: int, *, active_only: bool = False) -> list[int]:
        query = select(Ticket.id).where(Ticket.incident_id == incident_id)
        if active_only:
            query = query.where(Ticket.status.in_(ACTIVE_STATUSES))
        async with self._db.sessions() as session:
            return list((await session.scalars(query.order_by(Ticket.id))).all())

    async def post_state(self, incident_id: int) -> JobState | None:
        """The incident card's post job (None: the card was never queued)."""
        async with self._db.sessions() as session:
            row = (await session.execute(
                select(OutboxJob.status, OutboxJob.not_before, OutboxJob.attempts)
                .where(OutboxJob.dedupe_key == post_key(incident_id)))).first()
            return JobState(row.status, row.not_before, row.attempts) if row else None

    async def spike(self, incident_id: int) -> Spike:
        async with self._db.sessions() as session:
            return await _spike(session, incident_id)

    async def view(self, incident_id: int, *, shown: int = 10) -> IncidentView:
        async with self._db.sessions() as session:
            incident = _incident_snapshot(await _load(session, incident_id))
            counts = (await session.execute(
                select(func.count(), func.min(Ticket.priority)).where(Ticket.incident_id == incident_id))).one()
            active = await session.scalar(select(func.count()).where(
                Ticket.incident_id == incident_id, Ticket.status.in_(ACTIVE_STATUSES))) or 0
            platforms = tuple((await session.scalars(
                select(Ticket.platform).where(Ticket.incident_id == incident_id).distinct()
                .order_by(Ticket.platform))).all())
            first = (await session.scalars(
                select(Ticket).where(Ticket.incident_id == incident_id).order_by(Ticket.id).limit(shown))).all()
            spike = await _spike(session, incident_id)
            by_status = dict((await session.execute(
                select(Reply.status, func.count()).join(Ticket, Ticket.id == Reply.ticket_id)
                .where(Ticket.incident_id == incident_id).group_by(Reply.status))).tuples().all())
        summaries = await self._service.summaries([snapshot(t) for t in first])
        progress = ReplyProgress(
            sent=by_status.get(ReplyStatus.SENT, 0),
            pending=by_status.get(ReplyStatus.PENDING, 0) + by_status.get(ReplyStatus.SENDING, 0),
            failed=by_status.get(ReplyStatus.FAILED, 0) + by_status.get(ReplyStatus.UNCERTAIN, 0))
        return IncidentView(incident, spike, int(counts[0]), int(active), platforms, int(counts[1] or 3),
                            tuple(summaries), progress)

    # --- bulk reply -------------------------------------------------------------------------

    async def bulk_reply(self, incident_id: int, actor: Actor, template: str, *,
                         close_after: bool = False) -> BulkReplyResult:
        """Answer every active ticket of the incident once, each with its author's text.

        Every text is checked (``socialdesk_validate_reply``) before anything is written; one
        problem refuses the whole bulk, listing which tickets and why. Tickets already
        answered by this incident's bulk reply are skipped, and so are tickets someone else
        holds (an admin answers those too).
        """
        plan = await self.plan_bulk_reply(incident_id, template)
        return await self.write_bulk_reply(plan, actor, close_after=close_after)

    async def plan_bulk_reply(self, incident_id: int, template: str) -> BulkPlan:
        """The personalised, validated texts (nothing written). Raises BulkReplyRejected."""
        template = template.strip()
        if not template:
            raise DeskError("the reply is empty")
        await self.get(incident_id)  # a clear error for an unknown incident
        targets = await self._targets(incident_id)
        if not targets:
            raise DeskError(f"incident #{incident_id} has no open tickets to answer")
        platforms = {t.platform for t, _ in targets}
        if len(targets) > 1 and not any(f"{{{v}}}" in template for v in PERSONAL_VARIABLES):
            raise BulkReplyRejected(incident_id, [
                "put {name} or {handle} in the text so that every reply is different: "
                f"{', '.join(sorted(platforms))} refuse the same text posted twice"])
        answered = await self._answered(incident_id, [t.id for t, _ in targets])
        texts: dict[int, str] = {}
        problems: list[str] = []
        for ticket, author in targets:
            if ticket.id in answered:
                continue
            text = personalise(template, author, ticket)
            texts[ticket.id] = text
            for problem in await self._hooks.validate_reply(ticket, text):
                who = f" (@{author.handle})" if author else ""
                problems.append(f"{ticket.ref}{who} on {ticket.platform}: {problem}")
        if problems:
            raise BulkReplyRejected(incident_id, problems)
        return BulkPlan(incident_id, texts, len(answered))

    async def write_bulk_reply(self, plan: BulkPlan, actor: Actor, *, close_after: bool = False) -> BulkReplyResult:
        """Write the planned replies and their send jobs in one transaction (once per ticket)."""
        for attempt in range(MAX_RACE_RETRIES):
            try:
                return await self._write_bulk(plan.incident_id, actor, plan.texts, close_after, plan.already)
            except IntegrityError:
                # Another submission wrote some of the same (incident, ticket) keys first;
                # the next round sees them and leaves those tickets alone.
                if attempt == MAX_RACE_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    async def _targets(self, incident_id: int) -> list[tuple[TicketSnapshot, AuthorSnapshot | None]]:
        async with self._db.sessions() as session:
            rows = (await session.execute(
                select(Ticket, Author).outerjoin(Author, Author.id == Ticket.author_id)
                .where(Ticket.incident_id == incident_id, Ticket.status.in_(ACTIVE_STATUSES))
                .order_by(Ticket.id))).all()
            return [(snapshot(t), author_snapshot(a) if a else None) for t, a in rows]

    async def _answered(self, incident_id: int, ticket_ids: Sequence[int],
                        session: AsyncSession | None = None) -> set[int]:
        """Tickets whose bulk reply from this incident exists (its send job has the key)."""
        keys = {bulk_key(incident_id, tid): tid for tid in ticket_ids}
        query = select(OutboxJob.dedupe_key).where(OutboxJob.dedupe_key.like(f"bulk_reply:{incident_id}:%"))
        if session is None:
            async with self._db.sessions() as own:
                found = (await own.scalars(query)).all()
        else:
            found = (await session.scalars(query)).all()
        return {keys[k] for k in found if k in keys}

    async def _write_bulk(self, incident_id: int, actor: Actor, texts: dict[int, str],
                          close_after: bool, already: int) -> BulkReplyResult:
        changes = ChangeLog()
        held: list[int] = []
        queued = 0
        async with self._db.transaction() as session:
            now = self._clock()
            answered = await self._answered(incident_id, list(texts), session)
            tickets = (await session.scalars(
                select(Ticket).where(Ticket.id.in_(list(texts)), Ticket.incident_id == incident_id)
                .order_by(Ticket.id).with_for_update())).all()
            priority = min((t.priority for t in tickets), default=3)
            for t in tickets:
                if t.id in answered or t.status not in ACTIVE_STATUSES:
                    continue
                if t.assignee and t.assignee != actor.user_id and not actor.is_admin:
                    held.append(t.id)
                    continue
                await self._service.queue_reply(session, t, actor, texts[t.id], now, changes,
                                                close_after=close_after, dedupe_key=bulk_key(incident_id, t.id))
                queued += 1
            await _touch(session, incident_id, now)
            await session.run_sync(lambda s: queue_incident_update(s, self._outbox, s, incident_id,
                                                                   priority=priority, now=now,
                                                                   queued=IncidentJobs()))
        await self._service.publish(changes.events)
        already += len(answered)
        log.info("bulk reply queued", extra={"incident_id": incident_id, "queued": queued,
                                             "already": already, "held": len(held), "agent": actor.user_id})
        return BulkReplyResult(queued, already, tuple(held))

    # --- closing ------------------------------------------------------------------------------

    async def close_all(self, incident_id: int, actor: Actor, reason: str | None = None) -> CloseAllResult:
        """Close every active ticket of the incident (those someone else holds stay, unless
        an admin closes), and the incident once none is left open."""
        changes = ChangeLog()
        held: list[int] = []
        why = reason or f"closed with incident #{incident_id}"
        async with self._db.transaction() as session:
            now = self._clock()
            incident = await _load(session, incident_id, lock=True)
            tickets = (await session.scalars(
                select(Ticket).where(Ticket.incident_id == incident_id, Ticket.status.in_(ACTIVE_STATUSES))
                .order_by(Ticket.id).with_for_update())).all()
            closed = 0
            for t in tickets:
                if t.assignee and t.assignee != actor.user_id and not actor.is_admin:
                    held.append(t.id)
                    continue
                changes.record(session, EventKind.CLOSED, t.id, actor.user_id, now, reason=why,
                               incident_id=incident_id)
                _close(t, actor.user_id, why, now)
                t.updated_at, t.version = now, t.version + 1
                await self._outbox.enqueue_card_update(session, t.id, now=now, priority=t.priority)
                closed += 1
            if not held:
                incident.status = CLOSED
            incident.updated_at, incident.version = now, incident.version + 1
            await session.run_sync(lambda s: queue_incident_update(s, self._outbox, s, incident_id, priority=2,
                                                                   now=now, queued=IncidentJobs()))
        await self._service.publish(changes.events)
        return CloseAllResult(closed, tuple(held))

    # --- the card's bookkeeping ----------------------------------------------------------------

    async def refresh_card_of_ticket(self, ticket_id: int) -> None:
        """Queue one refresh of the incident card of ``ticket_id`` (if it has one and none waits)."""
        async with self._db.sessions() as session:
            row = (await session.execute(
                select(Ticket.incident_id, Ticket.priority).where(Ticket.id == ticket_id))).first()
            if row is None or row.incident_id is None:
                return
            waiting = await session.scalar(select(OutboxJob.id).where(
                OutboxJob.kind == "update_incident_card", OutboxJob.status == JobStatus.PENDING,
                OutboxJob.dedupe_key.like(update_key_prefix(row.incident_id) + "%")).limit(1))
        if waiting is not None:
            return
        async with self._db.transaction() as session:
            now = self._clock()
            await session.run_sync(lambda s: queue_incident_update(s, self._outbox, s, row.incident_id,
                                                                   priority=row.priority, now=now,
                                                                   queued=IncidentJobs()))

    async def begin_card_post(self, incident_id: int, channel: str) -> bool:
        """Mark that the card is about to be posted in ``channel`` (see DeskService.begin_card_post)."""
        return await self._mark(incident_id, card_channel=channel)

    async def set_card(self, incident_id: int, channel: str, ts: str) -> bool:
        return await self._mark(incident_id, card_channel=channel, card_ts=ts)

    async def abandon_card_post(self, incident_id: int) -> None:
        await self._mark(incident_id, card_channel=None)

    async def _mark(self, incident_id: int, **values: str | None) -> bool:
        async with self._db.transaction() as session:
            moved = await session.execute(
                update(Incident).where(Incident.id == incident_id, Incident.card_ts.is_(None))
                .values(**values).returning(Incident.id))
            return moved.first() is not None


async def _load(session: AsyncSession, incident_id: int, *, lock: bool = False) -> Incident:
    query = select(Incident).where(Incident.id == incident_id)
    if lock:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        raise IncidentNotFound(incident_id)
    return row


async def _touch(session: AsyncSession, incident_id: int, now: datetime) -> None:
    await session.execute(update(Incident).where(Incident.id == incident_id)
                          .values(updated_at=now, version=Incident.version + 1))


async def _spike(session: AsyncSession, incident_id: int) -> Spike:
    linked = select(Ticket.id).where(Ticket.incident_id == incident_id)
    inbound = (Message.ticket_id.in_(linked), Message.direction == "inbound")
    totals = (await session.execute(
        select(func.count(), func.count(func.distinct(Message.author_id)), func.min(Message.created_at),
               func.max(Message.created_at)).where(*inbound))).one()
    mentions, authors, first, last = int(totals[0]), int(totals[1]), totals[2], totals[3]
    if not mentions or last is None:
        return Spike(0, 0, (), None, None)
    last, first = _aware(last), _aware(first)
    end_minute = int(last.timestamp() // 60)
    start_minute = max(int(first.timestamp() // 60), end_minute - SPIKE_MINUTES + 1)
    since = datetime.fromtimestamp(start_minute * 60, tz=timezone.utc)
    recent = (await session.scalars(select(Message.created_at).where(*inbound, Message.created_at >= since))).all()
    counts = Counter(int(_aware(at).timestamp() // 60) for at in recent)
    per_minute = tuple(counts.get(minute, 0) for minute in range(start_minute, end_minute + 1))
    return Spike(mentions, authors, per_minute, first, last)


def _aware(value: datetime) -> datetime:
    """Aggregates bypass the column type on SQLite (naive UTC, or text): read them as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
