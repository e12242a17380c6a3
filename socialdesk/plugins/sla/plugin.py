"""The SLA plugin (built-in, named ``sla``, on by default).

Every ticket gets two clocks in business time (``[plugins.sla]``): first response and
resolution. A reminder goes to the card's thread when ``reminder_at`` of the time is
used; at the deadline the ticket is flagged as breached, the on-call group is mentioned
in the thread and an ``sla_breached`` audit event is written. Clock rules:
:mod:`socialdesk.plugins.sla.clock`; storage and exactly-once:
:mod:`socialdesk.plugins.sla.store`.

A new ticket's clocks start in the transaction that opens it (``socialdesk_tickets_opened``),
and a follow-up that wakes the ticket or raises its priority re-plans them in the
transaction that stores it (``socialdesk_tickets_requeued``). After that, two paths apply
the same idempotent settling: right after each ticket event
(so the card shows the change at once) and the ``sla.sweep`` job every 30 s, the source
of truth, which catches what an event did not (a deadline passing, an observer that died).
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING

from sqlalchemy import select

from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.extensions import CardField
from socialdesk.core.hookspecs import hookimpl
from socialdesk.core.store.models import SlaTimer
from socialdesk.core.slack.card import SLA_FIELD
from socialdesk.core.ticket import OpenedTicket, RequeuedTicket, TicketSnapshot
from socialdesk.plugins.sla import text as sla_text
from socialdesk.plugins.sla.settings import SlaPolicy, SlaSettings
from socialdesk.plugins.sla.store import (
    SettleOutcome,
    due_or_missing,
    replan_clocks,
    settle_ticket,
    start_clocks,
    tickets_needing_attention,
)

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from sqlalchemy.engine import Connection

    from socialdesk.core.app import DeskApp

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 30
BREACHED_FIELD = "SLA breached"
_OWN_EVENTS = (EventKind.SLA_REMINDED, EventKind.SLA_BREACHED)
_policies: weakref.WeakKeyDictionary[DeskApp, SlaPolicy] = weakref.WeakKeyDictionary()


def policy_for(app: DeskApp) -> SlaPolicy:
    """The app's settings as calendars, built once per desk."""
    policy = _policies.get(app)
    if policy is None:
        settings = app.settings("sla") or SlaSettings()
        policy = _policies[app] = SlaPolicy.build(settings, app.config.desk.timezone)
    return policy


@hookimpl
def socialdesk_settings_model() -> type[SlaSettings]:
    return SlaSettings


async def settle(app: DeskApp, ticket_id: int) -> SettleOutcome:
    """Settle one ticket's clocks now, then tell observers what was announced."""
    outcome = await settle_ticket(app, policy_for(app), ticket_id)
    for event in outcome.events:
        await app.hooks.ticket_event(event)
    return outcome


async def sweep(app: DeskApp) -> dict[str, int]:
    """Settle every ticket whose clocks need it (the scheduler runs this every 30 s)."""
    counts = {"tickets": 0, "created": 0, "reminded": 0, "breached": 0}
    for ticket_id in await tickets_needing_attention(app, policy_for(app), app.clock()):
        try:
            outcome = await settle(app, ticket_id)
        except Exception:  # one bad ticket must not stop the others' clocks
            log.exception("sla settle failed", extra={"ticket": ticket_id})
            continue
        counts["tickets"] += 1
        counts["created"] += outcome.created
        counts["reminded"] += len(outcome.reminded)
        counts["breached"] += len(outcome.breached)
    if counts["reminded"] or counts["breached"] or counts["created"]:
        log.info("sla sweep", extra={f"sla_{k}": v for k, v in counts.items()})  # "created" is a LogRecord field
    return counts


@hookimpl
def socialdesk_register_jobs(scheduler: AsyncIOScheduler, app: DeskApp) -> None:
    scheduler.add_job(sweep, "interval", seconds=SWEEP_EVERY_SECONDS, args=[app], id="sla.sweep",
                      replace_existing=True)


@hookimpl
def socialdesk_tickets_opened(connection: Connection, tickets: list[OpenedTicket], app: DeskApp) -> None:
    start_clocks(connection, policy_for(app), tickets)


@hookimpl
def socialdesk_tickets_requeued(connection: Connection, tickets: list[RequeuedTicket], app: DeskApp) -> None:
    replan_clocks(connection, policy_for(app), tickets)


@hookimpl
async def socialdesk_ticket_event(event: TicketEvent, app: DeskApp) -> None:
    # A new ticket's clocks started in its ingest transaction (above): nothing to settle.
    if event.kind in _OWN_EVENTS or event.kind is EventKind.CREATED:
        return
    if event.kind is EventKind.MESSAGE_ADDED and _settled_in_ingest(event):
        # Re-planned (or left alone) in the ingest transaction: settle only to announce.
        if not await due_or_missing(app, event.ticket_id, app.clock()):
            return
    await settle(app, event.ticket_id)


def _settled_in_ingest(follow_up: TicketEvent) -> bool:
    """A follow-up recorded by this desk: its clocks were re-planned in the ingest
    transaction if it changed the status or the priority, and need nothing otherwise."""
    return "was_status" in follow_up.details and "was_priority" in follow_up.details


@hookimpl
async def socialdesk_card_fields(ticket: TicketSnapshot, app: DeskApp) -> list[CardField] | None:
    """The business-time clock for the card's SLA line, and a bold flag once breached."""
    async with app.database.sessions() as session:
        timers = {t.kind: t for t in await session.scalars(select(SlaTimer).where(SlaTimer.ticket_id == ticket.id))}
    policy = policy_for(app)
    line = sla_text.card_line(policy, ticket, timers, app.clock())
    if line is None:
        return None
    fields = [CardField(SLA_FIELD, line)]
    breached = sla_text.breached_field(policy, timers)
    if breached:
        fields.append(CardField(BREACHED_FIELD, breached))
    return fields
