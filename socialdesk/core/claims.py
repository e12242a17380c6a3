"""Claiming a ticket: of many simultaneous claims exactly one wins, and every agent hears
quickly who has it.

The database decides: one conditional UPDATE (active, and nobody holds it) matches a row
for exactly one claim, on any number of replicas. Around it, what keeps fifty racing
clicks fast:

* a click on a card already held is answered from a read, never queued for the write lock;
* in one process, clicks on a card whose claim is being written wait for that write and
  then read who won, instead of each queueing a write that can only fail;
* the write is one short transaction of Core statements (on a SQLite file, in the writer
  thread in one hand-off): the UPDATE returns the ticket, the audit event and the card
  refresh are inserted, nothing else. The card itself changes later, through the outbox;
* the event's observers (SLA clocks, App Homes, metrics) run after the claim returns, so
  the agent's answer does not wait for them (they are best effort after the commit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from socialdesk.core.errors import ClaimedByOther, IllegalTransition, TicketNotFound
from socialdesk.core.events import EventKind, TicketEvent
from socialdesk.core.ingest import _NewRows as NewRows  # rows inserted with one Core statement per table
from socialdesk.core.outbox.jobs import Outbox
from socialdesk.core.store.database import Database
from socialdesk.core.store.models import Ticket, is_active
from socialdesk.core.store.tickets import ChangeLog, snapshot
from socialdesk.core.ticket import ACTIVE_STATUSES, TicketSnapshot, TicketStatus

_TICKET_COLUMNS = tuple(Ticket.__table__.c)


def _refusal(ticket_id: int, status: str, assignee: str | None, actor: str) -> Exception:
    """Why a claim matched no row, as the agent is told."""
    if status == TicketStatus.CLOSED:
        return IllegalTransition(f"#{ticket_id} is closed; reopen it to claim it")
    if status == TicketStatus.SPAM:
        return IllegalTransition(f"#{ticket_id} is marked as spam; reopen it to claim it")
    if assignee == actor:
        return IllegalTransition(f"#{ticket_id} is already yours")
    return ClaimedByOther(ticket_id, assignee or "?")


class Claims:
    def __init__(self, database: Database, outbox: Outbox, clock: Callable[[], datetime],
                 publish: Callable[[list[TicketEvent]], None]) -> None:
        self._db = database
        self._outbox = outbox
        self._clock = clock
        self._publish = publish
        self._writing: dict[int, asyncio.Future[None]] = {}  # ticket id -> its claim being written here

    async def claim(self, ticket_id: int, actor: str, *, takeover: bool = False) -> TicketSnapshot:
        if not takeover:
            writing = self._writing.get(ticket_id)
            if writing is not None:
                await asyncio.wait({writing})  # its outcome (won or refused) is read below
            held = await self._db.run_read(lambda c: c.execute(
                select(Ticket.status, Ticket.assignee).where(Ticket.id == ticket_id)).first())
            if held is not None and held.assignee is not None and held.status in ACTIVE_STATUSES:
                raise _refusal(ticket_id, held.status, held.assignee, actor)
        done = asyncio.get_running_loop().create_future()
        self._writing.setdefault(ticket_id, done)
        changes = ChangeLog()
        try:
            won = await self._db.run_in_transaction(
                lambda connection: self._write(connection, ticket_id, actor, takeover, changes))
        finally:
            if self._writing.get(ticket_id) is done:
                del self._writing[ticket_id]
            done.set_result(None)
        self._publish(changes.events)
        return snapshot(won)

    def _write(self, connection: Connection, ticket_id: int, actor: str, takeover: bool,
               changes: ChangeLog) -> Row[Any]:
        now = self._clock()
        condition = [Ticket.id == ticket_id, is_active(Ticket.status)]
        if not takeover:
            condition.append(Ticket.assignee.is_(None))
        won = connection.execute(
            update(Ticket).where(*condition)
            .values(assignee=actor, updated_at=now, version=Ticket.version + 1)
            .returning(*_TICKET_COLUMNS)
        ).first()
        if won is None:
            held = connection.execute(select(Ticket.status, Ticket.assignee).where(Ticket.id == ticket_id)).first()
            if held is None:
                raise TicketNotFound(ticket_id)
            raise _refusal(ticket_id, held.status, held.assignee, actor)
        rows = NewRows()
        changes.record(rows, EventKind.CLAIMED, ticket_id, actor, now, takeover=takeover)  # type: ignore[arg-type]
        self._outbox.queue_card_update(connection, rows, ticket_id, now=now, priority=won.priority, queued={})
        rows.insert(connection)
        return won
