"""One reply to all of an incident's tickets: personalised, validated first, each exactly once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from socialdesk.core.errors import DeskError
from socialdesk.core.extensions import Actor
from socialdesk.core.incidents.service import BulkReplyRejected
from socialdesk.core.outbox.jobs import JobKind
from socialdesk.core.ticket import TicketStatus
from tests.storms.conftest import complaint
from tests.store_queries import Reply, Ticket, count, jobs

ALICE, BOB = Actor("U0AGENT001"), Actor("U0AGENT002")
STORM_SIZE = 8


async def storm(app) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    ids = [(await app.service.ingest(complaint(n))).ticket_id for n in range(1, STORM_SIZE + 1)]
    incident = await app.incidents.of_ticket(ids[-1])
    assert incident is not None
    return incident.id, ids


async def test_double_submission_answers_every_conversation_exactly_once(app, platform) -> None:
    incident_id, tickets = await storm(app)
    template = "Hi {name}, sorry about {ticket}: the delivery issue is fixed. ({handle})"
    first, second = await asyncio.gather(app.incidents.bulk_reply(incident_id, ALICE, template),
                                         app.incidents.bulk_reply(incident_id, BOB, template))
    assert first.queued + second.queued == STORM_SIZE
    assert await count(app, Reply) == STORM_SIZE
    keys = sorted(j.dedupe_key for j in await jobs(app, JobKind.SEND_REPLY))
    assert keys == sorted(f"bulk_reply:{incident_id}:{t}" for t in tickets)
    await app.outbox_runner().drain()
    assert sorted(r.ticket_id for r in platform.posted) == sorted(tickets)
    assert len({r.conversation_id for r in platform.posted}) == STORM_SIZE
    n = 5
    fifth = next(r for r in platform.posted if r.conversation_id == f"conv-storm-{n}")
    assert fifth.text == f"Hi person{n}, sorry about #{tickets[n - 1]}: the delivery issue is fixed. (@person{n})"
    # a third submission later (a Slack retry, a colleague) sends nothing more
    again = await app.incidents.bulk_reply(incident_id, ALICE, template)
    assert again.queued == 0 and again.already == STORM_SIZE
    await app.outbox_runner().drain()
    assert len(platform.posted) == STORM_SIZE
    view = await app.incidents.view(incident_id)
    assert (view.progress.sent, view.progress.pending, view.progress.failed) == (STORM_SIZE, 0, 0)


async def test_a_template_that_fails_anywhere_sends_nothing_and_says_where(app, platform) -> None:
    incident_id, tickets = await storm(app)
    with pytest.raises(BulkReplyRejected) as refused:
        await app.incidents.bulk_reply(incident_id, ALICE, "{name} " + "x" * 273)  # 7 + 1 + 273 = 281
    message = str(refused.value)
    assert "characters at most on testnet" in message and f"#{tickets[0]} (@person1)" in message
    assert "and 3 more" in message  # eight problems, five shown
    with pytest.raises(BulkReplyRejected, match=r"\{name\} or \{handle\}"):
        await app.incidents.bulk_reply(incident_id, ALICE, "We are on it, sorry!")
    with pytest.raises(BulkReplyRejected, match=r"\{agent\}"):
        await app.incidents.bulk_reply(incident_id, ALICE, "Hi {name}, {agent} here")
    with pytest.raises(DeskError, match="empty"):
        await app.incidents.bulk_reply(incident_id, ALICE, "   ")
    assert await count(app, Reply) == 0 and await jobs(app, JobKind.SEND_REPLY) == []


async def test_tickets_held_by_someone_else_are_left_out_and_close_after_closes(app, platform) -> None:
    incident_id, tickets = await storm(app)
    await app.service.claim(tickets[0], BOB)
    result = await app.incidents.bulk_reply(incident_id, ALICE, "Fixed now, {name}!", close_after=True)
    assert result.held == (tickets[0],) and result.queued == STORM_SIZE - 1
    await app.outbox_runner().drain()
    async with app.database.sessions() as session:
        statuses = dict((await session.execute(select(Ticket.id, Ticket.status))).tuples().all())
    assert statuses[tickets[0]] == TicketStatus.OPEN
    assert all(statuses[t] == TicketStatus.CLOSED for t in tickets[1:])


async def test_close_all_closes_the_open_tickets_and_the_incident(app) -> None:
    incident_id, tickets = await storm(app)
    result = await app.incidents.close_all(incident_id, ALICE)
    assert result.closed == STORM_SIZE and result.held == ()
    incident = await app.incidents.get(incident_id)
    assert incident.status == "closed"
    assert await app.incidents.ticket_ids(incident_id, active_only=True) == []
    with pytest.raises(DeskError, match="no open tickets"):
        await app.incidents.bulk_reply(incident_id, ALICE, "Hi {name}")


async def test_the_spike_counts_mentions_people_and_minutes(app) -> None:
    incident_id, _ = await storm(app)
    spike = await app.incidents.spike(incident_id)
    assert spike.mentions == STORM_SIZE and spike.authors == STORM_SIZE
    assert sum(spike.per_minute) == STORM_SIZE and len(spike.per_minute) == 1  # all within one minute
