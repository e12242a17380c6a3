"""SLA timers in the store: settle one ticket's timers and announce what came due.

``settle_ticket`` is the one write path, used both by the sweep and right after each
ticket event. It runs in one transaction holding the ticket's row lock, and every
announcement is a conditional ``UPDATE ... WHERE reminded_at IS NULL`` (or
``breached_at``) whose success is checked before the Slack notice (outbox dedupe key
``sla_reminder:<timer id>`` / ``sla_breach:<timer id>``), the card refresh and the audit
event are written with it: two sweeps on two replicas at once announce once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, case, exists, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncSession

from socialdesk.core.errors import TicketNotFound
from socialdesk.core.events import SYSTEM_ACTOR, EventKind, TicketEvent
from socialdesk.core.store.models import OutboxJob, SlaTimer, Ticket
from socialdesk.core.outbox.jobs import JobKind, JobStatus
from socialdesk.core.slack.delivery import NOTICE_KIND  # performed by the Slack plugin
from socialdesk.core.ticket import ACTIVE_STATUSES, ENDED_STATUSES, OpenedTicket, RequeuedTicket, TicketStatus
from socialdesk.core.store.tickets import ChangeLog, load_ticket
from socialdesk.plugins.sla import text as sla_text
from socialdesk.plugins.sla.clock import PAUSING, Firing, TicketClockState, TimerClock, due_firing, new_timer, settle
from socialdesk.plugins.sla.settings import TIMER_KINDS, SlaPolicy

if TYPE_CHECKING:
    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
_CLOCK_FIELDS = tuple(f.name for f in fields(TimerClock))


@dataclass
class SettleOutcome:
    created: bool = False
    reminded: list[str] = field(default_factory=list)  # timer kinds
    breached: list[str] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)


def clock_state(t: Ticket | Row[Any]) -> TicketClockState:
    """A ticket's clock state, from the ORM object or a row of ``_CLOCK_STATES_OF``."""
    return TicketClockState(t.status, t.priority, t.created_at, t.updated_at, t.first_response_at, t.closed_at)


def timer_clock(row: SlaTimer | Row[Any]) -> TimerClock:
    return TimerClock(**{name: getattr(row, name) for name in _CLOCK_FIELDS})


async def settle_ticket(app: DeskApp, policy: SlaPolicy, ticket_id: int) -> SettleOutcome:
    """Create, stop, pause, resume or re-plan the ticket's timers; announce what is due."""
    outcome = SettleOutcome()
    changes = ChangeLog()
    async with app.database.transaction() as session:
        now = app.clock()
        try:
            ticket = await load_ticket(session, ticket_id, lock=True)
        except TicketNotFound:
            return outcome
        rows = {r.kind: r for r in await session.scalars(select(SlaTimer).where(SlaTimer.ticket_id == ticket_id))}
        if not rows:
            if ticket.status not in ACTIVE_STATUSES:
                return outcome  # closed before any clock started (auto-closed): no SLA
            for kind in TIMER_KINDS:
                rows[kind] = SlaTimer(ticket_id=ticket_id, **_columns(new_timer(kind, clock_state(ticket), policy)))
                session.add(rows[kind])
            outcome.created = True
        card_changed = outcome.created
        for kind in TIMER_KINDS:
            row = rows.get(kind)
            if row is None:
                continue
            before = timer_clock(row)
            after, firing = settle(before, clock_state(ticket), policy)
            if after != before:
                card_changed = True
                for name, value in _columns(after).items():
                    if name not in ("reminded_at", "breached_at"):  # only set by the guarded updates below
                        setattr(row, name, value)
            await session.flush()
            if firing is Firing.LATE and await _mark(session, row, "breached_at", after.breached_at,
                                                           running=False):
                changes.record(session, EventKind.SLA_BREACHED, ticket_id, SYSTEM_ACTOR, now, timer=kind,
                               due_at=row.due_at.isoformat(), announced=False)
                ticket.sla_breached_at = ticket.sla_breached_at or after.breached_at
                outcome.breached.append(kind)
            if outcome.created or before.due_at != row.due_at:
                _sync_due(ticket, kind, row.due_at)
            firing = due_firing(timer_clock(row), now)
            if firing is Firing.BREACH and await _mark(session, row, "breached_at", now):
                ticket.sla_breached_at = ticket.sla_breached_at or now
                changes.record(session, EventKind.SLA_BREACHED, ticket_id, SYSTEM_ACTOR, now, timer=kind,
                               due_at=row.due_at.isoformat(), announced=True)
                _notice(app, session, ticket, f"sla_breach:{row.id}",
                        sla_text.breach_notice(app, policy, ticket, row, now), now)
                outcome.breached.append(kind)
                card_changed = True
            elif firing is Firing.REMIND and await _mark(session, row, "reminded_at", now):
                changes.record(session, EventKind.SLA_REMINDED, ticket_id, SYSTEM_ACTOR, now, timer=kind,
                               due_at=row.due_at.isoformat())
                _notice(app, session, ticket, f"sla_reminder:{row.id}",
                        sla_text.reminder_notice(policy, ticket, row, now), now)
                outcome.reminded.append(kind)
                card_changed = True
        if card_changed:
            ticket.version += 1
            await session.flush()
            if not await _card_post_pending(session, ticket_id):
                await app.outbox.enqueue_card_update(session, ticket_id, now=now, priority=ticket.priority)
    outcome.events = changes.events
    return outcome


_START_CLOCKS = insert(SlaTimer.__table__)
_DUE_COLUMNS = {"first_response": "first_response_due", "resolution": "resolution_due"}  # timer kind -> ticket
# Without values(): the SET clause is the parameters' columns (compiled once per set of them).
_SET_TICKET_DUE = update(Ticket.__table__).where(Ticket.__table__.c.id == bindparam("b_ticket"))


def start_clocks(connection: Connection, policy: SlaPolicy, tickets: list[OpenedTicket]) -> None:
    """Both clocks of each newly opened ticket, written in the ingest transaction.

    What ``settle_ticket`` would create for a fresh ticket, without a second transaction
    per ticket: the card is posted later from the committed state, so it shows them.
    """
    timers: list[dict[str, Any]] = []
    dues: list[dict[str, Any]] = []
    for t in tickets:
        state = TicketClockState(TicketStatus.OPEN, t.priority, t.created_at, t.created_at, None, None)
        clocks = {kind: new_timer(kind, state, policy) for kind in TIMER_KINDS}
        timers += [{"ticket_id": t.ticket_id, **_columns(clock)} for clock in clocks.values()]
        dues.append({"b_ticket": t.ticket_id, **{_DUE_COLUMNS[kind]: clock.due_at for kind, clock in clocks.items()}})
    connection.execute(_START_CLOCKS, timers)
    connection.execute(_SET_TICKET_DUE, dues[0] if len(dues) == 1 else dues)  # one ticket: not an executemany


_timers = SlaTimer.__table__
_tickets = Ticket.__table__
_TIMERS_OF = select(_timers).where(_timers.c.ticket_id.in_(bindparam("ids", expanding=True)))
_CLOCK_STATES_OF = select(
    _tickets.c.id, _tickets.c.status, _tickets.c.priority, _tickets.c.created_at, _tickets.c.updated_at,
    _tickets.c.first_response_at, _tickets.c.closed_at,
).where(_tickets.c.id.in_(bindparam("ids", expanding=True)))
_REPLAN_TIMER = update(_timers).where(_timers.c.id == bindparam("timer_id"))  # SET: the parameters' columns


def replan_clocks(connection: Connection, policy: SlaPolicy, tickets: list[RequeuedTicket]) -> None:
    """What ``settle_ticket`` does to the clocks of tickets a follow-up changed, written in
    the ingest transaction: re-planned for a new priority, resumed when a waiting or
    snoozed ticket wakes. No second transaction per follow-up; what falls due now is
    announced by ``socialdesk_ticket_event`` (and the sweep), as for any ticket.
    """
    ids = [t.ticket_id for t in tickets]
    states = {r.id: clock_state(r) for r in connection.execute(_CLOCK_STATES_OF, {"ids": ids})}
    dues: dict[int, dict[str, datetime]] = {}
    for row in connection.execute(_TIMERS_OF, {"ids": ids}).all():
        before = timer_clock(row)
        after, late = settle(before, states[row.ticket_id], policy)
        if late is not None or after == before:
            continue  # a late breach is recorded with its audit event by settle_ticket
        # reminded_at and breached_at are set only by settle_ticket's guarded updates.
        connection.execute(_REPLAN_TIMER, {"timer_id": row.id, **{
            name: value for name, value in _columns(after).items() if name not in ("reminded_at", "breached_at")}})
        if after.due_at != before.due_at:
            dues.setdefault(row.ticket_id, {})[_DUE_COLUMNS[row.kind]] = after.due_at
    for ticket_id, columns in dues.items():  # the ticket's own due columns mirror the timers
        connection.execute(_SET_TICKET_DUE, {"b_ticket": ticket_id, **columns})


async def due_or_missing(app: DeskApp, ticket_id: int, now: datetime) -> bool:
    """Has the ticket no clocks yet, or a clock with a reminder or breach to announce now?"""
    def read(connection: Connection) -> bool:
        rows = connection.execute(_TIMERS_OF, {"ids": [ticket_id]}).all()
        return not rows or any(due_firing(timer_clock(r), now) is not None for r in rows)

    return await app.database.run_read(read)


def _columns(timer: TimerClock) -> dict[str, Any]:
    return {name: getattr(timer, name) for name in _CLOCK_FIELDS}


def _sync_due(ticket: Ticket, kind: str, due: datetime) -> None:
    """The ticket's own due columns mirror the timers (lists, stats and the card read them)."""
    setattr(ticket, _DUE_COLUMNS[kind], due)


async def _mark(session: AsyncSession, row: SlaTimer, column: str, at: datetime | None, *,
                running: bool = True) -> bool:
    """Set ``reminded_at``/``breached_at`` only if nobody has: the guard of exactly-once.

    ``running``: only on a clock not stopped (announcements); a late stop records its
    breach on the stopped clock.
    """
    guard = [SlaTimer.id == row.id, getattr(SlaTimer, column).is_(None)]
    if running:
        guard.append(SlaTimer.met_at.is_(None))
    won = await session.execute(
        update(SlaTimer).where(*guard).values({column: at}).returning(SlaTimer.id)
        .execution_options(synchronize_session=False)
    )
    if won.first() is None:
        await session.refresh(row)
        return False
    setattr(row, column, at)
    return True


def _notice(app: DeskApp, session: AsyncSession, ticket: Ticket, key: str, text: str, now: datetime) -> None:
    app.outbox.enqueue(session, NOTICE_KIND, {"ticket_id": ticket.id, "text": text}, now=now,
                       priority=ticket.priority, ticket_id=ticket.id, dedupe_key=key)


async def _card_post_pending(session: AsyncSession, ticket_id: int) -> bool:
    """A card not yet posted will be drawn from the latest state: no refresh needed."""
    return await session.scalar(select(exists().where(
        OutboxJob.ticket_id == ticket_id, OutboxJob.kind == JobKind.POST_CARD, OutboxJob.status == JobStatus.PENDING,
    ))) or False


async def tickets_needing_attention(app: DeskApp, policy: SlaPolicy, now: datetime) -> list[int]:
    """Tickets whose timers are missing, out of line with the ticket, or due to announce.

    The sweep's selection; ``settle_ticket`` decides for each one (selecting too many is
    harmless, too few only delays until the ticket's next event).
    """
    open_ticket = Ticket.status.in_(ACTIVE_STATUSES)
    missing = (select(Ticket.id, Ticket.priority)
               .where(open_ticket, ~exists().where(SlaTimer.ticket_id == Ticket.id)))
    pausing = case(*((SlaTimer.kind == kind, Ticket.status.in_(states)) for kind, states in PAUSING.items()),
                   else_=False)
    target = case(*(
        (and_(SlaTimer.kind == kind, Ticket.priority == p), policy.target_seconds(kind, p))
        for kind in TIMER_KINDS for p in (1, 2, 3, 4)
    ), else_=SlaTimer.target_seconds)
    running = and_(SlaTimer.met_at.is_(None), SlaTimer.paused_at.is_(None), SlaTimer.breached_at.is_(None))
    unmet = SlaTimer.met_at.is_(None)
    attention = or_(
        and_(running, or_(SlaTimer.due_at <= now, and_(SlaTimer.reminded_at.is_(None), SlaTimer.remind_at <= now))),
        and_(unmet, Ticket.status.in_(ENDED_STATUSES)),
        and_(unmet, SlaTimer.kind == "first_response", Ticket.first_response_at.is_not(None)),
        and_(running, pausing),
        and_(unmet, SlaTimer.paused_at.is_not(None), ~pausing),
        and_(unmet, SlaTimer.breached_at.is_(None), SlaTimer.target_seconds != target),
        and_(SlaTimer.met_at.is_not(None), open_ticket,
             or_(SlaTimer.kind == "resolution", Ticket.first_response_at.is_(None))),
    )
    stale = select(Ticket.id, Ticket.priority).join(SlaTimer, SlaTimer.ticket_id == Ticket.id).where(attention)
    async with app.database.sessions() as session:
        found = {row.id: row.priority for query in (missing, stale)
                 for row in (await session.execute(query.limit(SWEEP_BATCH))).all()}
    return sorted(found, key=lambda tid: (found[tid], tid))[:SWEEP_BATCH]
